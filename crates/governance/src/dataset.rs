//! The tidy multi-city CSV: one row per (city, year, indicator).
//!
//! Required columns: `city`, `province`, `year`, `indicator`, `value`.
//! Optional: `numerator`, `denominator` (ratio indicators), `quality` (0-1,
//! default 1), `cluster` (city-cluster names separated by `;`). Columns may come
//! in any order; header names are case-insensitive; fields follow RFC 4180
//! quoting; an empty `value` means missing and the row is skipped. The format
//! is specified in `docs/specs/indicators.md`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::live::{EntityInputs, InputValue};
use crate::regions::{MacroRegion, macro_region};

/// Why a CSV was rejected. Line numbers count from 1 (the header).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CsvError {
    /// The text has no header.
    #[error("the CSV is empty")]
    Empty,
    /// A required column is absent.
    #[error("required column {column:?} is missing from the header")]
    MissingColumn {
        /// The column name.
        column: &'static str,
    },
    /// A row has the wrong number of fields.
    #[error("line {line}: expected {expected} fields, got {got}")]
    FieldCount {
        /// Line number.
        line: usize,
        /// Header width.
        expected: usize,
        /// Fields found.
        got: usize,
    },
    /// A quoted field is not closed.
    #[error("line {line}: unterminated quoted field")]
    UnterminatedQuote {
        /// Line number.
        line: usize,
    },
    /// A number does not parse or is not finite.
    #[error("line {line}: column {column} is not a finite number: {text:?}")]
    BadNumber {
        /// Line number.
        line: usize,
        /// Column name.
        column: String,
        /// The text.
        text: String,
    },
    /// A year is not an integer.
    #[error("line {line}: year {text:?} is not an integer")]
    BadYear {
        /// Line number.
        line: usize,
        /// The text.
        text: String,
    },
    /// The province is not one of China's provincial-level divisions.
    #[error("line {line}: unknown province {province:?}")]
    UnknownProvince {
        /// Line number.
        line: usize,
        /// The province.
        province: String,
    },
    /// A city appears with two different provinces.
    #[error("line {line}: city {city:?} is in {first:?} earlier, {second:?} here")]
    ProvinceConflict {
        /// Line number.
        line: usize,
        /// City.
        city: String,
        /// Province seen first.
        first: String,
        /// Province on this line.
        second: String,
    },
    /// The same (city, year, indicator) appears twice.
    #[error("line {line}: duplicate value for {city:?}, {year}, {indicator:?}")]
    Duplicate {
        /// Line number.
        line: usize,
        /// City.
        city: String,
        /// Year.
        year: i32,
        /// Indicator id.
        indicator: String,
    },
    /// A city, province or indicator field is empty.
    #[error("line {line}: column {column} is empty")]
    EmptyField {
        /// Line number.
        line: usize,
        /// Column name.
        column: &'static str,
    },
}

/// One row of the tidy CSV.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TidyRow {
    /// City name.
    pub city: String,
    /// Province (Chinese name or pinyin).
    pub province: String,
    /// Year.
    pub year: i32,
    /// Indicator (or deduction, or external index) id.
    pub indicator: String,
    /// Value.
    pub value: f64,
    /// Ratio numerator.
    pub numerator: Option<f64>,
    /// Ratio denominator.
    pub denominator: Option<f64>,
    /// City clusters, `;`-separated.
    pub cluster: Option<String>,
}

/// What the dataset knows about a city.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CityMeta {
    /// Province as written in the data.
    pub province: String,
    /// Its macro-region.
    pub region: MacroRegion,
    /// City clusters (城市群) it belongs to.
    pub clusters: BTreeSet<String>,
}

/// A parsed multi-city, multi-year table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    /// Cities by name.
    pub cities: BTreeMap<String, CityMeta>,
    /// Inputs per year, then per city (values as static inputs keyed by indicator id).
    pub years: BTreeMap<i32, BTreeMap<String, EntityInputs>>,
}

/// Splits CSV text into records of fields (RFC 4180 quoting, CRLF or LF, optional
/// UTF-8 BOM), each with the line it starts on; blank lines are skipped.
pub fn read_csv(text: &str) -> Result<Vec<(usize, Vec<String>)>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1;
    let mut start_line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => in_quotes = true,
            ',' => fields.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                fields.push(std::mem::take(&mut field));
                if !(fields.len() == 1 && fields[0].trim().is_empty()) {
                    out.push((start_line, std::mem::take(&mut fields)));
                }
                fields.clear();
                line += 1;
                start_line = line;
            }
            _ => field.push(c),
        }
    }
    if in_quotes {
        return Err(CsvError::UnterminatedQuote { line: start_line });
    }
    if !field.is_empty() || !fields.is_empty() {
        fields.push(field);
        if !(fields.len() == 1 && fields[0].trim().is_empty()) {
            out.push((start_line, fields));
        }
    }
    Ok(out)
}

fn parse_number(line: usize, column: &str, text: &str) -> Result<f64, CsvError> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| CsvError::BadNumber {
            line,
            column: column.to_string(),
            text: text.to_string(),
        })
}

/// Parses the tidy CSV into a [`Dataset`].
pub fn parse_tidy_csv(text: &str) -> Result<Dataset, CsvError> {
    let recs = read_csv(text)?;
    let Some(((_, header), rows)) = recs.split_first() else {
        return Err(CsvError::Empty);
    };
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let need = |name: &'static str| col(name).ok_or(CsvError::MissingColumn { column: name });
    let (c_city, c_prov, c_year, c_ind, c_val) = (
        need("city")?,
        need("province")?,
        need("year")?,
        need("indicator")?,
        need("value")?,
    );
    let (c_num, c_den, c_q, c_cl) = (
        col("numerator"),
        col("denominator"),
        col("quality"),
        col("cluster"),
    );
    let mut ds = Dataset::default();
    for (line, f) in rows {
        let line = *line;
        if f.len() != header.len() {
            return Err(CsvError::FieldCount {
                line,
                expected: header.len(),
                got: f.len(),
            });
        }
        let text = |c: usize| f[c].trim();
        let nonempty = |c: usize, column: &'static str| {
            let t = text(c);
            if t.is_empty() {
                Err(CsvError::EmptyField { line, column })
            } else {
                Ok(t)
            }
        };
        let city = nonempty(c_city, "city")?;
        let province = nonempty(c_prov, "province")?;
        let indicator = nonempty(c_ind, "indicator")?;
        let year: i32 = text(c_year).parse().map_err(|_| CsvError::BadYear {
            line,
            text: text(c_year).to_string(),
        })?;
        let Some(region) = macro_region(province) else {
            return Err(CsvError::UnknownProvince {
                line,
                province: province.to_string(),
            });
        };
        let meta = ds
            .cities
            .entry(city.to_string())
            .or_insert_with(|| CityMeta {
                province: province.to_string(),
                region,
                clusters: BTreeSet::new(),
            });
        if meta.province != province {
            return Err(CsvError::ProvinceConflict {
                line,
                city: city.to_string(),
                first: meta.province.clone(),
                second: province.to_string(),
            });
        }
        if let Some(c) = c_cl {
            for name in text(c).split(';').map(str::trim).filter(|s| !s.is_empty()) {
                meta.clusters.insert(name.to_string());
            }
        }
        if text(c_val).is_empty() {
            continue;
        }
        let value = parse_number(line, "value", text(c_val))?;
        let opt = |c: Option<usize>, name: &str| -> Result<Option<f64>, CsvError> {
            match c.map(text).filter(|t| !t.is_empty()) {
                Some(t) => parse_number(line, name, t).map(Some),
                None => Ok(None),
            }
        };
        let mut v = InputValue::new(value);
        if let (Some(n), Some(d)) = (opt(c_num, "numerator")?, opt(c_den, "denominator")?) {
            v.ratio = Some((n, d));
        }
        if let Some(q) = opt(c_q, "quality")? {
            v = v.with_quality(q);
        }
        let inputs = ds
            .years
            .entry(year)
            .or_default()
            .entry(city.to_string())
            .or_default();
        if inputs.statics.insert(indicator.to_string(), v).is_some() {
            return Err(CsvError::Duplicate {
                line,
                city: city.to_string(),
                year,
                indicator: indicator.to_string(),
            });
        }
    }
    Ok(ds)
}

fn quote(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes rows as a tidy CSV (header `city,province,year,indicator,value,numerator,denominator,cluster`).
pub fn write_tidy_csv(rows: &[TidyRow]) -> String {
    let mut out =
        String::from("city,province,year,indicator,value,numerator,denominator,cluster\n");
    let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{}\n",
            quote(&r.city),
            quote(&r.province),
            r.year,
            quote(&r.indicator),
            r.value,
            num(r.numerator),
            num(r.denominator),
            quote(r.cluster.as_deref().unwrap_or("")),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_and_optional_columns_parse() {
        let csv = "City,Province,Year,Indicator,Value,cluster\n\
                   \"Hang,zhou\",浙江,2021,eid_share,0.8,长三角\r\n\
                   Lhasa,西藏,2021,eid_share,,\n";
        let ds = parse_tidy_csv(csv).unwrap();
        assert_eq!(ds.cities.len(), 2);
        assert!(ds.cities["Hang,zhou"].clusters.contains("长三角"));
        assert_eq!(ds.years[&2021].len(), 1, "empty value is missing");
    }

    #[test]
    fn errors_name_the_offending_line_and_value() {
        let h = "city,province,year,indicator,value\n";
        assert_eq!(
            parse_tidy_csv(&format!("{h}A,Mars,2020,x,1\n")),
            Err(CsvError::UnknownProvince {
                line: 2,
                province: "Mars".into()
            })
        );
        assert!(matches!(
            parse_tidy_csv(&format!("{h}A,浙江,2020,x,1\nA,浙江,2020,x,2\n")),
            Err(CsvError::Duplicate { line: 3, .. })
        ));
        assert!(matches!(
            parse_tidy_csv(&format!("{h}A,浙江,2020,x,abc\n")),
            Err(CsvError::BadNumber { line: 2, .. })
        ));
        assert_eq!(
            parse_tidy_csv("city,year\n"),
            Err(CsvError::MissingColumn { column: "province" })
        );
    }

    #[test]
    fn written_csv_parses_back() {
        let rows = vec![TidyRow {
            city: "A \"x\"".into(),
            province: "江苏".into(),
            year: 2020,
            indicator: "eid_share".into(),
            value: 0.25,
            numerator: Some(1.0),
            denominator: Some(4.0),
            cluster: Some("长三角".into()),
        }];
        let ds = parse_tidy_csv(&write_tidy_csv(&rows)).unwrap();
        let v = ds.years[&2020]["A \"x\""].statics["eid_share"];
        assert_eq!(v.value, 0.25);
        assert_eq!(v.ratio, Some((1.0, 4.0)));
    }
}
