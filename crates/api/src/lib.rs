//! The HTTP API: CityBrain v1, an NGSI-LD core subset, live streams and the
//! dashboard, served by axum, with the operations centre (alarms and
//! incidents) and the live governance indicators behind it.
//!
//! Errors are RFC 7807 problem details ([`ApiError`]); bad input is always a
//! 4xx with an explanation, never a 5xx. Handlers read an immutable twin
//! snapshot and the store through [`AppState`].
//!
//! # Terminology
//! - **Snapshot**: the twin at one version; handlers never see a half-applied change.
//! - **Live update**: a change pushed to stream clients ([`LiveUpdate`]).
//! - **Problem details**: the JSON error body of RFC 7807.
//! - **Principal**: who calls: a token's holder, role and scope, or the
//!   anonymous reader.
//! - **Guard**: the middleware in front of `/api/v1` and `/ngsi-ld/v1` that
//!   authenticates, rate-limits and writes the audit log.
//! - **Alarm / incident**: see the `ops` crate; [`OpsService`] is their
//!   single writer.
//! - **Subscription**: an NGSI-LD request to be notified of entity changes
//!   ([`NgsiNotifier`]).
//!
//! # Wiring (what the server calls)
//! [`AppState::load`] (or the public fields with [`OpsService::load`],
//! [`NgsiNotifier::load`], [`IndicatorService::load`], [`load_tokens`]),
//! [`bootstrap_tokens`] on an empty store, [`serve`]; after each applied
//! batch: [`OpsService::on_observations`], [`OpsService::on_reports`],
//! [`OpsService::tick`] and [`NgsiNotifier::on_observations`].

mod auth;
mod bootstrap;
mod config;
pub mod energy;
mod error;
pub mod indicators;
pub mod live;
pub mod livedata;
pub mod middleware;
pub mod ngsi;
pub mod operations;
pub mod routes;
pub mod scenarios;
mod state;
mod telemetry;
pub mod util;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

pub use auth::{
    Permission, Principal, Role, Scope, TokenRecord, Tokens, issue as issue_token, token_id_of,
};
pub use bootstrap::{StartError, bootstrap_tokens, load_tokens, token_record, token_row};
pub use config::{AuthConfig, HttpConfig, OpsConfig};
pub use energy::EnergyLive;
pub use error::{ApiError, ApiResult, InternalDetail, Problem};
pub use indicators::IndicatorService;
pub use live::{CellRow, LiveHub, LiveUpdate};
pub use ngsi::NgsiNotifier;
pub use operations::{OpsError, OpsService};
pub use state::{AppState, Readiness};

/// Largest request body accepted by default, bytes.
pub const BODY_LIMIT_BYTES: usize = 1 << 20;

/// The folder of the built dashboard: the configured one, else the build
/// next to the sources when present.
fn dashboard_dir(cfg: &HttpConfig) -> Option<PathBuf> {
    let dir = cfg
        .dashboard_dir
        .clone()
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboard/dist"));
    dir.join("index.html").is_file().then_some(dir)
}

async fn index_html(dir: Arc<PathBuf>) -> Response {
    match tokio::fs::read(dir.join("index.html")).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => ApiError::Internal(format!("cannot read the dashboard: {e}")).into_response(),
    }
}

/// The router with every route and the middleware.
pub fn router(state: AppState) -> Router {
    let http = state.http.clone();
    let guard = Arc::new(middleware::Guard {
        state: state.clone(),
        limiter: middleware::RateLimiter::new(http.rate_limit_per_sec, http.rate_limit_burst),
    });
    let timeout = TimeoutLayer::with_status_code(
        StatusCode::SERVICE_UNAVAILABLE,
        Duration::from_secs(http.request_timeout_secs.max(1)),
    );
    let guarded = routes::guarded()
        .route_layer(axum::middleware::from_fn_with_state(
            guard.clone(),
            middleware::guard,
        ))
        .layer(timeout);
    let streams = routes::streams().route_layer(axum::middleware::from_fn_with_state(
        guard,
        middleware::guard,
    ));
    let public = routes::public().layer(timeout);
    let (mut app, paths) = public.merge(guarded).merge(streams).split_for_parts();
    let doc = routes::docs::document(paths);
    let json: Arc<str> = Arc::from(doc.to_json().unwrap_or_else(|_| "{}".into()));
    app = app
        .route(
            "/openapi.json",
            get(move || {
                let j = json.clone();
                async move { routes::docs::openapi_json(&j) }
            }),
        )
        .route("/docs", get(routes::docs::page))
        .route("/status", get(routes::system::status_page));
    app = match dashboard_dir(&http) {
        Some(dir) => {
            let dir = Arc::new(dir);
            let assets = tower::ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                ))
                .service(ServeDir::new(dir.join("assets")));
            let d = dir.clone();
            app.route("/", get(move || index_html(d.clone())))
                .route("/index.html", get(move || index_html(dir.clone())))
                .nest_service("/assets", assets)
        }
        None => app.route("/", get(routes::system::status_page)),
    };
    let ctx = Arc::new(middleware::Context {
        body_limit_bytes: http.body_limit_bytes,
        timeout_secs: http.request_timeout_secs,
    });
    let mut app = app
        .fallback(middleware::not_found)
        .layer(DefaultBodyLimit::max(http.body_limit_bytes))
        .layer(RequestBodyLimitLayer::new(http.body_limit_bytes));
    if !http.cors_origins.is_empty() {
        let origins: Vec<HeaderValue> = http
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        app = app.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([
                    axum::http::Method::GET,
                    axum::http::Method::POST,
                    axum::http::Method::PUT,
                    axum::http::Method::PATCH,
                    axum::http::Method::DELETE,
                ])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
                .expose_headers([
                    header::LOCATION,
                    header::HeaderName::from_static("ngsild-results-count"),
                    header::HeaderName::from_static("x-request-id"),
                ]),
        );
    }
    app.layer(CatchPanicLayer::custom(middleware::panic_response))
        .layer(axum::middleware::from_fn_with_state(
            ctx,
            middleware::context,
        ))
        .with_state(state)
}

/// How often the live indicators are sampled into their history.
pub const INDICATOR_SAMPLE_SECS: u64 = 60;

/// Serves `router(state)` on `cfg.bind:cfg.port` until `shutdown`; returns the
/// bound address through `bound` as soon as it listens. Also samples the
/// live indicators every [`INDICATOR_SAMPLE_SECS`] (first sample at start).
pub async fn serve(
    cfg: &HttpConfig,
    state: AppState,
    shutdown: tokio_util::sync::CancellationToken,
    bound: tokio::sync::oneshot::Sender<std::net::SocketAddr>,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind((cfg.bind.as_str(), cfg.port)).await?;
    let _ = bound.send(listener.local_addr()?);
    let sampler = {
        let (s, stop) = (state.clone(), shutdown.clone());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(INDICATOR_SAMPLE_SECS));
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    _ = every.tick() => {
                        if let Err(e) = s.indicators.sample(&s.twin(), &s.ops, util::now()).await {
                            tracing::warn!(error = %e, "Indicator sample failed.");
                        }
                    }
                }
            }
        })
    };
    let r = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await;
    sampler.abort();
    r
}
