//! The wall clock, read only here and in the adapters (pure crates get time passed in).

use domain::Timestamp;

/// Now, in ms since the Unix epoch.
pub fn now() -> Timestamp {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
