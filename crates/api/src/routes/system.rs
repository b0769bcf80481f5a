//! `/health`, `/ready`, `/metrics` and the status page.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use twin::SensorStatus;

use crate::AppState;

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "system",
    responses((status = 200, description = "The process answers", body = Object)), security(()))]
pub async fn health() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// Readiness: store reachable, broker connected, city loaded.
#[utoipa::path(get, path = "/ready", tag = "system",
    responses(
        (status = 200, description = "Ready", body = Object),
        (status = 503, description = "Not ready; the flags say what is missing", body = Object),
    ), security(()))]
pub async fn ready(State(s): State<AppState>) -> Response {
    let r = &s.readiness;
    let body = json!({
        "ready": r.is_ready(),
        "store": r.store.load(Ordering::Relaxed),
        "mqtt": r.mqtt.load(Ordering::Relaxed),
        "twin": r.twin.load(Ordering::Relaxed),
        "last_commit_ms": r.last_commit_ms.load(Ordering::Relaxed),
    });
    let status = if r.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Prometheus text exposition.
#[utoipa::path(get, path = "/metrics", tag = "system",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")), security(()))]
pub async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        (s.metrics)(),
    )
        .into_response()
}

/// A plain status page, served at `/` when no dashboard build is present.
pub async fn status_page(State(s): State<AppState>) -> Html<String> {
    let t = s.twin();
    let totals = t.totals();
    let mut rows = String::new();
    for (kind, n) in totals.observations_by_kind() {
        rows.push_str(&format!("<tr><td>{kind}</td><td>{n}</td></tr>"));
    }
    Html(format!(
        "<!doctype html><html><head><meta charset=utf-8><title>CityBrain</title>\
         <style>body{{font-family:sans-serif;margin:2em}}td{{padding:2px 12px}}</style></head><body>\
         <h1>CityBrain: {name}</h1><p>Twin version {v}, data time {asof} ms.</p>\
         <h2>Observations by sensor kind</h2><table>{rows}</table>\
         <p>Sensors online {on}, stale {st}, offline {off}.</p>\
         <p><a href=/metrics>/metrics</a> · <a href=/health>/health</a> · <a href=/ready>/ready</a> · \
         <a href=/api/v1/city>/api/v1/city</a></p><p><small>{attr}</small></p></body></html>",
        name = html_escape(t.name()),
        v = t.version(),
        asof = t.as_of().0,
        on = totals.sensors_with(SensorStatus::Online),
        st = totals.sensors_with(SensorStatus::Stale),
        off = totals.sensors_with(SensorStatus::Offline),
        attr = html_escape(t.attribution().unwrap_or("")),
    ))
}

/// Escapes text for HTML.
pub fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
