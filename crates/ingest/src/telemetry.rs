//! Logging and metrics of the ingest path, kept together so that every event
//! is both counted and logged the same way.
//!
//! Metrics (labels are low-cardinality: formats and reason codes only):
//! - `ingest_messages_total{format}`: MQTT messages decoded.
//! - `ingest_observations_total`: valid observations decoded.
//! - `ingest_events_total`: valid event reports decoded.
//! - `ingest_dead_letters_total{reason}`: rejected messages or records.
//! - `ingest_decode_seconds`: decode time per message (histogram).
//! - `ingest_sparkplug_seq_gaps_total`: Sparkplug sequence gaps.
//! - `ingest_connected`: 1 while connected to the broker, else 0.
//! - `ingest_reconnects_total`: connection losses and failed connects.
//! - `ingest_stale_acks_total`: acknowledgements not sent because the message
//!   came from an earlier connection (the broker redelivers it).
//! - `ingest_channel_full_total`: times the delivery channel was full (the
//!   event loop waited for the writer).

use std::time::Duration;

use metrics::{counter, gauge, histogram};
use tracing::{debug, info, trace, warn};

use crate::{Decoded, Reason, Warning};

/// Counts and logs one decoded message.
pub fn decoded(topic: &str, d: &Decoded, elapsed: Duration) {
    let format = d.format;
    counter!("ingest_messages_total", "format" => format.as_str()).increment(1);
    counter!("ingest_observations_total").increment(d.observations.len() as u64);
    if !d.events.is_empty() {
        counter!("ingest_events_total").increment(d.events.len() as u64);
    }
    histogram!("ingest_decode_seconds").record(elapsed.as_secs_f64());
    for dl in &d.dead_letters {
        let reason = Reason::of(dl).map_or("other", Reason::as_str);
        counter!("ingest_dead_letters_total", "reason" => reason).increment(1);
        debug!(topic, format = format.as_str(), reason = %dl.reason, "Dead-lettered a record.");
    }
    for w in &d.warnings {
        if matches!(w, Warning::SparkplugSeqGap { .. }) {
            counter!("ingest_sparkplug_seq_gaps_total").increment(1);
        }
        debug!(topic, warning = %w, "Decode warning.");
    }
    trace!(
        topic,
        format = format.as_str(),
        observations = d.observations.len(),
        dead_letters = d.dead_letters.len(),
        "Decoded a message."
    );
}

/// The client connected (ConnAck received).
pub fn connected(broker: &str, session_present: bool) {
    gauge!("ingest_connected").set(1.0);
    info!(broker, session_present, "Connected to the MQTT broker.");
}

/// The subscription was (re-)requested.
pub fn subscribed(filters: &[String]) {
    info!(filters = ?filters, "Subscribed.");
}

/// The broker refused a subscription.
pub fn subscription_refused(code: &str) {
    warn!(code, "The broker refused a subscription.");
}

/// The connection failed or dropped; the client waits `backoff` and retries.
pub fn disconnected(broker: &str, error: &dyn std::fmt::Display, backoff: Duration) {
    gauge!("ingest_connected").set(0.0);
    counter!("ingest_reconnects_total").increment(1);
    warn!(
        broker,
        error = %error,
        backoff_ms = backoff.as_millis() as u64,
        "MQTT connection lost; reconnecting."
    );
}

/// An acknowledgement was skipped because its message came from an earlier connection.
pub fn stale_ack() {
    counter!("ingest_stale_acks_total").increment(1);
    debug!("Skipped the acknowledgement of a message from an earlier connection.");
}

/// The delivery channel was full; the event loop waits for the writer.
pub fn channel_full(capacity: usize) {
    counter!("ingest_channel_full_total").increment(1);
    warn!(
        capacity,
        "The delivery channel is full; waiting for the writer."
    );
}

/// The client stopped.
pub fn stopped(why: &str) {
    gauge!("ingest_connected").set(0.0);
    info!(why, "MQTT ingest stopped.");
}
