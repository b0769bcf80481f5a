//! Integration tests of the community engine against the shared references
//! (skipped, with a message, when the shared data is absent).

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns are test code too

mod access;
mod boston;
mod closed_forms;
mod from_twin;
mod golden;
mod model;
mod replay;
mod seir;

/// The text of a shared reference file under `community/`, or `None` (and a
/// SKIPPED message) when the shared data is absent.
pub fn shared_text(rel: &str) -> Option<String> {
    let path = testkit::shared_data(&format!("community/{rel}"))?;
    Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())))
}

/// Parsed JSON of a shared reference file.
pub fn shared_json(rel: &str) -> Option<serde_json::Value> {
    shared_text(rel).map(|t| serde_json::from_str(&t).expect("reference JSON parses"))
}
