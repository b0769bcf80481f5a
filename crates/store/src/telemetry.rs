//! Logging and metrics of the store, together. Metric names are part of the
//! telemetry contract (`docs/specs/storage.md`):
//!
//! - `store_batch_commit_seconds` (histogram): time from `BEGIN` to durable
//!   `COMMIT` of one [`crate::Store::insert_batch`].
//! - `store_rows_total{table}` (counter): rows written, `table` one of
//!   `observations`, `dead_letters`, `events`, `status`, `sensors`.
//! - `store_duplicates_total` (counter): redelivered observations skipped.
//! - `store_errors_total{op,kind}` (counter): failed operations; `kind` is
//!   `query_retryable` for outages.

use std::time::Duration;

use crate::{BatchStats, Error};

pub(crate) fn batch_committed(stats: &BatchStats, elapsed: Duration) {
    metrics::histogram!("store_batch_commit_seconds").record(elapsed.as_secs_f64());
    for (table, n) in [
        ("observations", stats.observations_new),
        ("dead_letters", stats.dead_letters),
        ("events", stats.events_new),
        ("status", stats.status_applied),
        ("sensors", stats.sensors_provisioned),
    ] {
        if n > 0 {
            metrics::counter!("store_rows_total", "table" => table).increment(n);
        }
    }
    if stats.observations_duplicate > 0 {
        metrics::counter!("store_duplicates_total").increment(stats.observations_duplicate);
    }
    tracing::debug!(
        new = stats.observations_new,
        duplicates = stats.observations_duplicate,
        dead_letters = stats.dead_letters,
        events = stats.events_new,
        status = stats.status_applied,
        elapsed_ms = elapsed.as_secs_f64() * 1e3,
        "Committed batch."
    );
}

pub(crate) fn error(op: &'static str, e: &Error) {
    metrics::counter!("store_errors_total", "op" => op, "kind" => e.kind()).increment(1);
    if e.is_retryable() {
        tracing::warn!(op, error = %ErrorChain(e), "Store operation failed; retryable.");
    } else {
        tracing::error!(op, error = %ErrorChain(e), "Store operation failed.");
    }
}

pub(crate) fn retention_applied(stats: &crate::RetentionStats) {
    tracing::info!(
        observations = stats.observations,
        minute_rollups = stats.minute_rollups,
        hour_rollups = stats.hour_rollups,
        dead_letters = stats.dead_letters,
        "Applied retention."
    );
}

/// Displays an error with its sources (`a: b: c`).
struct ErrorChain<'a>(&'a Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut src = std::error::Error::source(self.0);
        while let Some(s) = src {
            write!(f, ": {s}")?;
            src = s.source();
        }
        Ok(())
    }
}
