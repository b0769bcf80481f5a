//! A minimal reader for the plain comma-separated tables the engine takes
//! (no quoting: a field never contains a comma or a quote).

/// Why a table cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// The text has no header line.
    #[error("empty table: no header line")]
    Empty,
    /// A required column is missing from the header.
    #[error("missing column {0:?}")]
    MissingColumn(String),
    /// A line has a different number of fields than the header.
    #[error("line {line}: {found} fields, header has {expected}")]
    Width {
        /// 1-based line number.
        line: usize,
        /// Fields in the header.
        expected: usize,
        /// Fields on the line.
        found: usize,
    },
    /// Quoted fields are not supported.
    #[error("line {line}: quoted fields are not supported")]
    Quoted {
        /// 1-based line number.
        line: usize,
    },
    /// A field does not parse as the expected type.
    #[error("line {line}, column {column}: cannot parse {value:?}")]
    Value {
        /// 1-based line number.
        line: usize,
        /// Column name.
        column: String,
        /// The field text.
        value: String,
    },
}

/// A header plus lines, split on commas.
#[derive(Debug)]
pub(crate) struct Table<'a> {
    header: Vec<&'a str>,
    rows: Vec<(usize, Vec<&'a str>)>,
}

impl<'a> Table<'a> {
    /// Splits `text` (a trailing newline and `\r` are accepted; blank lines are skipped).
    pub(crate) fn parse(text: &'a str) -> Result<Self, TableError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
            .filter(|(_, l)| !l.is_empty());
        let (hline, h) = lines.next().ok_or(TableError::Empty)?;
        if h.contains('"') {
            return Err(TableError::Quoted { line: hline });
        }
        let header: Vec<&str> = h.trim_start_matches('\u{feff}').split(',').collect();
        let mut rows = Vec::new();
        for (line, l) in lines {
            if l.contains('"') {
                return Err(TableError::Quoted { line });
            }
            let f: Vec<&str> = l.split(',').collect();
            if f.len() != header.len() {
                return Err(TableError::Width {
                    line,
                    expected: header.len(),
                    found: f.len(),
                });
            }
            rows.push((line, f));
        }
        Ok(Self { header, rows })
    }

    /// Index of a required column.
    pub(crate) fn col(&self, name: &str) -> Result<usize, TableError> {
        self.header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| TableError::MissingColumn(name.to_string()))
    }

    /// Index of an optional column.
    pub(crate) fn col_opt(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h.trim() == name)
    }

    /// The rows with their 1-based line numbers.
    pub(crate) fn rows(&self) -> &[(usize, Vec<&'a str>)] {
        &self.rows
    }

    /// Parses field `c` of a row.
    pub(crate) fn get<T: std::str::FromStr>(
        &self,
        row: &(usize, Vec<&'a str>),
        c: usize,
    ) -> Result<T, TableError> {
        let v = row.1[c].trim();
        v.parse().map_err(|_| TableError::Value {
            line: row.0,
            column: self.header[c].to_string(),
            value: v.to_string(),
        })
    }

    /// The error for field `c` of a row.
    pub(crate) fn bad(&self, row: &(usize, Vec<&'a str>), c: usize) -> TableError {
        TableError::Value {
            line: row.0,
            column: self.header[c].to_string(),
            value: row.1[c].to_string(),
        }
    }
}
