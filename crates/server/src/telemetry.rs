//! The server's metrics and the Prometheus recorder.
//!
//! Names: `citybrain_<thing>_<unit|total>`. Labels stay low-cardinality
//! (sensor kind, status), never a sensor id or a cell.

use domain::SensorKind;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Installs the global recorder once and returns a handle that renders the
/// exposition text. Later calls return a handle to the same recorder.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let latency = [
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    ];
    // publish-to-durable/-twin: steps of 1.3-2x (instead of 2-2.5x), so the
    // quantiles that load runs and dashboards interpolate from them are tighter
    let end_to_end = [
        0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15,
        0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.5, 10.0, 15.0, 30.0, 60.0,
    ];
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &latency)?
        // a Prefix matcher wins over a Suffix matcher (the exporter tries them in that order)
        .set_buckets_for_metric(Matcher::Prefix("citybrain_publish_to_".into()), &end_to_end)?
        .install_recorder()?;
    let upkeep = handle.clone();
    std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(5));
                upkeep.run_upkeep();
            }
        })?;
    Ok(HANDLE.get_or_init(|| handle).clone())
}

/// One writer commit.
pub fn committed(
    observations_new: u64,
    duplicates: u64,
    dead_letters: u64,
    events: u64,
    seconds: f64,
) {
    counter!("citybrain_writer_commits_total").increment(1);
    counter!("citybrain_observations_stored_total").increment(observations_new);
    counter!("citybrain_observations_duplicate_total").increment(duplicates);
    counter!("citybrain_dead_letters_stored_total").increment(dead_letters);
    counter!("citybrain_events_stored_total").increment(events);
    histogram!("citybrain_writer_commit_seconds").record(seconds);
    histogram!("citybrain_writer_batch_observations").record(observations_new as f64);
}

/// Observations committed, by sensor kind.
pub fn stored(kind: SensorKind, n: u64) {
    counter!("citybrain_observations_committed_total", "kind" => kind.as_str()).increment(n);
}

/// A retryable store failure; the writer backs off and keeps the batch.
pub fn commit_retry(error: &store::Error) {
    counter!("citybrain_writer_retries_total").increment(1);
    tracing::warn!(error = %error, "Store unavailable; holding the batch and not acknowledging.");
}

/// Publish (observation time) to durable commit.
pub fn publish_to_durable(seconds: f64) {
    histogram!("citybrain_publish_to_durable_seconds").record(seconds);
}

/// Publish (observation time) to visible in the twin.
pub fn publish_to_twin(seconds: f64) {
    histogram!("citybrain_publish_to_twin_seconds").record(seconds);
}

/// Twin state, about once per second.
pub fn twin_state(snap: &twin::TwinSnapshot) {
    let t = snap.totals();
    gauge!("citybrain_twin_version").set(snap.version() as f64);
    gauge!("citybrain_twin_observations_applied").set(t.observations as f64);
    for s in twin::SensorStatus::ALL {
        gauge!("citybrain_sensors", "status" => status_name(s)).set(t.sensors_with(s) as f64);
    }
}

fn status_name(s: twin::SensorStatus) -> &'static str {
    match s {
        twin::SensorStatus::Unseen => "unseen",
        twin::SensorStatus::Online => "online",
        twin::SensorStatus::Stale => "stale",
        twin::SensorStatus::Offline => "offline",
    }
}

/// Deliveries waiting for the writer.
pub fn writer_backlog(n: usize) {
    gauge!("citybrain_writer_backlog_messages").set(n as f64);
}

#[cfg(test)]
mod tests {
    #[test]
    fn end_to_end_latencies_get_the_fine_buckets_and_other_timings_the_default() {
        let handle = super::install().expect("the recorder installs");
        super::publish_to_twin(0.0015);
        metrics::histogram!("citybrain_writer_commit_seconds").record(0.0015);
        let text = handle.render();
        let has = |line: &str| text.lines().any(|l| l.starts_with(line));
        assert!(
            has("citybrain_publish_to_twin_seconds_bucket{le=\"0.002\"}"),
            "{text}"
        );
        assert!(
            has("citybrain_publish_to_twin_seconds_bucket{le=\"60\"}"),
            "{text}"
        );
        assert!(
            has("citybrain_writer_commit_seconds_bucket{le=\"0.0025\"}"),
            "{text}"
        );
        assert!(
            !has("citybrain_writer_commit_seconds_bucket{le=\"0.002\"}"),
            "{text}"
        );
    }
}
