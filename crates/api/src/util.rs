//! Small conversions shared by the handlers: times on the wire, H3 cells,
//! rounding, the wall clock.

use chrono::{DateTime, SecondsFormat, Utc};
use domain::Timestamp;

use crate::ApiError;

/// The wall clock as a [`Timestamp`]. Only adapters read the clock; the
/// twin and the ops logic get times passed in.
pub fn now() -> Timestamp {
    Timestamp(Utc::now().timestamp_millis())
}

/// A timestamp as RFC 3339 UTC with milliseconds (`2026-05-01T08:30:00.000Z`).
pub fn iso(ts: Timestamp) -> String {
    DateTime::<Utc>::from_timestamp_millis(ts.0).map_or_else(
        || ts.0.to_string(),
        |d| d.to_rfc3339_opts(SecondsFormat::Millis, true),
    )
}

/// Parses an RFC 3339 date-time (`2026-05-01T08:30:00Z`, any offset) or
/// milliseconds since the epoch.
pub fn parse_time(name: &str, s: &str) -> Result<Timestamp, ApiError> {
    let s = s.trim();
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(Timestamp(ms));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|d| Timestamp(d.timestamp_millis()))
        .map_err(|_| {
            ApiError::InvalidRequest(format!(
                "{name} {s:?} is not an RFC 3339 date-time (2026-05-01T08:30:00Z) or epoch milliseconds"
            ))
        })
}

/// An H3 cell as its 15-digit lowercase hex text.
pub fn cell_hex(cell: u64) -> String {
    h3o::CellIndex::try_from(cell).map_or_else(|_| format!("{cell:x}"), |c| c.to_string())
}

/// Parses an H3 cell from hex text (`891126d1497ffff`, `0x` prefix and upper
/// case tolerated).
pub fn parse_cell(s: &str) -> Result<h3o::CellIndex, ApiError> {
    let t = s.trim();
    let t = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    u64::from_str_radix(t, 16)
        .ok()
        .and_then(|v| h3o::CellIndex::try_from(v).ok())
        .ok_or_else(|| ApiError::InvalidRequest(format!("{s:?} is not an H3 cell index")))
}

/// Rounds to `decimals` decimal places (for compact wire forms).
pub fn round_to(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// Clamps a page size to `1..=max` (`default` when absent).
pub fn page_limit(limit: Option<u32>, default: u32, max: u32) -> u32 {
    limit.unwrap_or(default).clamp(1, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_through_rfc3339_and_epoch_ms() {
        let t = Timestamp(1_767_225_600_123);
        assert_eq!(iso(t), "2026-01-01T00:00:00.123Z");
        assert_eq!(parse_time("t", &iso(t)).unwrap(), t);
        assert_eq!(parse_time("t", "1767225600123").unwrap(), t);
        assert_eq!(
            parse_time("t", "2026-01-01T02:00:00+02:00").unwrap(),
            Timestamp(1_767_225_600_000)
        );
        assert!(parse_time("t", "yesterday").is_err());
    }

    #[test]
    fn cells_parse_from_hex_with_or_without_prefix() {
        let c = h3o::LatLng::new(60.17, 24.94)
            .unwrap()
            .to_cell(h3o::Resolution::Nine);
        let hex = c.to_string();
        assert_eq!(parse_cell(&hex).unwrap(), c);
        assert_eq!(parse_cell(&format!("0x{}", hex.to_uppercase())).unwrap(), c);
        assert_eq!(cell_hex(u64::from(c)), hex);
        assert!(parse_cell("zz").is_err());
        assert!(parse_cell("0").is_err());
    }
}
