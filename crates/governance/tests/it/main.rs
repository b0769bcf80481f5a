//! Integration tests of the governance crate: golden statistics against
//! numpy/scipy/statsmodels, the report's tier table, properties, and the report.

// Test helpers outside #[test] functions: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod areas;
mod golden;
mod props;
mod report;
mod tiers;

use std::collections::BTreeMap;
use std::path::PathBuf;

/// The shared indicator data folder, or `None` (test skipped, message printed).
pub fn indicators_data() -> Option<PathBuf> {
    testkit::shared_data("indicators")
}

/// `|got - want| <= rel·|want| + abs`, with a message naming the quantity.
#[track_caller]
pub fn close(what: &str, got: f64, want: f64, rel: f64, abs: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs() + abs,
        "{what}: got {got:e}, want {want:e} (diff {:e})",
        (got - want).abs()
    );
}

/// REM Canada rows of the Montréal CSV keyed by (code, year).
pub fn montreal(dir: &std::path::Path) -> BTreeMap<(String, i32), f64> {
    let text = std::fs::read_to_string(dir.join("montreal_indicateurs.csv")).unwrap();
    let recs = governance::read_csv(&text).unwrap();
    let head = &recs[0].1;
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let (code, kind, year, value) = (
        col("noIndicateur"),
        col("TypeIndicateur"),
        col("DateDonnee"),
        col("Valeur"),
    );
    let mut out = BTreeMap::new();
    for (_, r) in &recs[1..] {
        if r[kind] == "REM Canada" {
            let key = (r[code].clone(), r[year].parse().unwrap());
            assert!(out.insert(key, r[value].parse().unwrap()).is_none());
        }
    }
    assert_eq!(recs.len() - 1, 823);
    out
}

/// One row of the synthetic fixture: (city id, composite, tier by construction).
pub type TierRow = (String, f64, String);

/// The synthetic 150-city composites.
pub fn synthetic_tiers(dir: &std::path::Path) -> Vec<TierRow> {
    let text = std::fs::read_to_string(dir.join("synthetic_tiers_150.csv")).unwrap();
    governance::read_csv(&text).unwrap()[1..]
        .iter()
        .map(|(_, r)| (r[0].clone(), r[1].parse().unwrap(), r[2].clone()))
        .collect()
}
