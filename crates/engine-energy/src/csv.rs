//! A small CSV reader for pandapower element tables and profile files.
//!
//! Handles a header row, comma separators, double-quoted fields with `""`
//! escapes, CRLF line ends and empty fields (pandas writes `NaN` as empty).

use crate::error::NetError;

/// A parsed CSV table: a header and rows of raw string cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Table name, used in error messages (`"line"`).
    pub name: String,
    /// Column names.
    pub header: Vec<String>,
    /// Rows; every row has `header.len()` cells.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Parses CSV text. Rows with fewer cells than the header are padded with
    /// empty cells; rows with more are an error.
    pub fn parse(name: &str, text: &str) -> Result<Self, NetError> {
        let mut records = split_records(text);
        let header = match records.next() {
            Some(h) => h?
                .into_iter()
                .map(|s| s.trim().to_string())
                .collect::<Vec<_>>(),
            None => Vec::new(),
        };
        let mut rows = Vec::new();
        for (i, rec) in records.enumerate() {
            let mut rec = rec?;
            if rec.len() == 1 && rec[0].trim().is_empty() {
                continue; // blank line
            }
            if rec.len() > header.len() {
                return Err(NetError::Csv {
                    table: name.to_string(),
                    line: i + 2,
                    reason: format!("{} cells for {} columns", rec.len(), header.len()),
                });
            }
            rec.resize(header.len(), String::new());
            rows.push(rec);
        }
        Ok(Self {
            name: name.to_string(),
            header,
            rows,
        })
    }

    /// Position of a column.
    pub fn col(&self, column: &str) -> Option<usize> {
        self.header.iter().position(|h| h == column)
    }

    /// Position of a column that must exist.
    pub fn require(&self, column: &str) -> Result<usize, NetError> {
        self.col(column).ok_or_else(|| NetError::MissingColumn {
            table: self.name.clone(),
            column: column.to_string(),
        })
    }

    /// The cell at `row`, column position `c`.
    pub fn cell(&self, row: usize, c: usize) -> &str {
        self.rows[row][c].trim()
    }

    /// A float cell; `None` when the cell is empty or `nan`.
    pub fn opt_f64(&self, row: usize, column: &str) -> Result<Option<f64>, NetError> {
        let Some(c) = self.col(column) else {
            return Ok(None);
        };
        let s = self.cell(row, c);
        if s.is_empty() || s.eq_ignore_ascii_case("nan") || s.eq_ignore_ascii_case("none") {
            return Ok(None);
        }
        s.parse::<f64>()
            .map(Some)
            .map_err(|_| self.bad(row, column, s))
    }

    /// A float cell that must be present and finite.
    pub fn f64(&self, row: usize, column: &str) -> Result<f64, NetError> {
        self.require(column)?;
        match self.opt_f64(row, column)? {
            Some(v) if v.is_finite() => Ok(v),
            _ => Err(self.bad(row, column, self.cell(row, self.require(column)?))),
        }
    }

    /// A float cell with a default for a missing column or an empty cell.
    pub fn f64_or(&self, row: usize, column: &str, default: f64) -> Result<f64, NetError> {
        Ok(self.opt_f64(row, column)?.unwrap_or(default))
    }

    /// An integer cell (pandas may write `3.0`).
    pub fn i64(&self, row: usize, column: &str) -> Result<i64, NetError> {
        let c = self.require(column)?;
        let s = self.cell(row, c);
        if let Ok(v) = s.parse::<i64>() {
            return Ok(v);
        }
        match s.parse::<f64>() {
            #[allow(clippy::cast_possible_truncation)] // checked integral and in range
            Ok(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => Ok(v as i64),
            _ => Err(self.bad(row, column, s)),
        }
    }

    /// A boolean cell (`True`/`False`/`1`/`0`), with a default for a missing
    /// column or an empty cell.
    pub fn bool_or(&self, row: usize, column: &str, default: bool) -> Result<bool, NetError> {
        let Some(c) = self.col(column) else {
            return Ok(default);
        };
        let s = self.cell(row, c);
        match s.to_ascii_lowercase().as_str() {
            "" | "nan" => Ok(default),
            "true" | "1" | "1.0" => Ok(true),
            "false" | "0" | "0.0" => Ok(false),
            _ => Err(self.bad(row, column, s)),
        }
    }

    /// A string cell (empty for a missing column).
    pub fn str_or_empty(&self, row: usize, column: &str) -> String {
        self.col(column)
            .map(|c| self.cell(row, c).to_string())
            .unwrap_or_default()
    }

    fn bad(&self, row: usize, column: &str, value: &str) -> NetError {
        NetError::BadValue {
            table: self.name.clone(),
            row,
            column: column.to_string(),
            value: value.to_string(),
        }
    }
}

/// Splits text into records of cells, honouring quotes.
fn split_records(text: &str) -> impl Iterator<Item = Result<Vec<String>, NetError>> + '_ {
    let mut chars = text.chars().peekable();
    let mut line = 0usize;
    std::iter::from_fn(move || {
        chars.peek()?;
        line += 1;
        let mut cells = Vec::new();
        let mut cell = String::new();
        let mut quoted = false;
        loop {
            match chars.next() {
                None => {
                    if quoted {
                        return Some(Err(NetError::Csv {
                            table: String::new(),
                            line,
                            reason: "unterminated quote".into(),
                        }));
                    }
                    break;
                }
                Some('"') if quoted => {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        cell.push('"');
                    } else {
                        quoted = false;
                    }
                }
                Some('"') if cell.is_empty() => quoted = true,
                Some(',') if !quoted => cells.push(std::mem::take(&mut cell)),
                Some('\r') if !quoted => {}
                Some('\n') if !quoted => break,
                Some(c) => cell.push(c),
            }
        }
        cells.push(cell);
        Some(Ok(cells))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_and_empty_cells_parse() {
        let t = Table::parse("x", "index,name,v\r\n0,\"a, \"\"b\"\"\",1.5\n1,,\n").unwrap();
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0][1], "a, \"b\"");
        assert_eq!(t.f64(0, "v").unwrap(), 1.5);
        assert_eq!(t.opt_f64(1, "v").unwrap(), None);
        assert!(t.f64(1, "v").is_err());
        assert_eq!(t.i64(1, "index").unwrap(), 1);
    }

    #[test]
    fn too_many_cells_is_an_error() {
        let e = Table::parse("load", "a,b\n1,2,3\n").unwrap_err();
        assert!(matches!(e, NetError::Csv { line: 2, .. }), "{e}");
    }

    #[test]
    fn bad_numbers_name_table_row_and_column() {
        let t = Table::parse("line", "index,length_km\n0,abc\n").unwrap();
        let e = t.f64(0, "length_km").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line row 0: column length_km has bad value \"abc\""
        );
    }
}
