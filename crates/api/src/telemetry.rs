//! Metrics of the API, recorded through the `metrics` facade (the server
//! installs the recorder and renders `/metrics`). Labels stay
//! low-cardinality: a method and a status class, never a path or an id.

use std::time::Duration;

use axum::http::{Method, StatusCode};

/// One request served.
pub fn request(method: &Method, status: StatusCode, elapsed: Duration) {
    let class = match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    let method = match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    metrics::counter!("api_requests_total", "method" => method, "status" => class).increment(1);
    metrics::histogram!("api_request_duration_seconds").record(elapsed.as_secs_f64());
}

/// Alarms and incidents persisted by the operations centre.
pub fn ops_changes(alarms: usize, incidents: usize) {
    metrics::counter!("api_alarm_writes_total").increment(alarms as u64);
    metrics::counter!("api_incident_writes_total").increment(incidents as u64);
}

/// NGSI-LD notifications attempted, by outcome (`ok`, `failed`, `throttled`).
pub fn notification(outcome: &'static str) {
    metrics::counter!("api_ngsi_notifications_total", "outcome" => outcome).increment(1);
}

/// A stream client connected or left; `lagged` counts dropped updates.
pub fn stream_lagged(missed: u64) {
    metrics::counter!("api_stream_lagged_total").increment(missed);
}
