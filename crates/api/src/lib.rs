//! The HTTP API: CityBrain v1, an NGSI-LD core subset, live streams and the
//! dashboard, served by axum.
//!
//! Errors are RFC 7807 problem details ([`ApiError`]); bad input is always a
//! 4xx with an explanation, never a 5xx. Handlers read an immutable twin
//! snapshot and the store through [`AppState`].
//!
//! # Terminology
//! - **Snapshot**: the twin at one version; handlers never see a half-applied change.
//! - **Live update**: a change pushed to stream clients ([`LiveUpdate`]).
//! - **Problem details**: the JSON error body of RFC 7807.

#[allow(dead_code)]
mod auth;
mod config;
mod error;
mod live;
mod ngsi;
mod routes;
mod state;

use axum::Router;
use axum::routing::get;

pub use auth::{Permission, Principal, Role, Scope, TokenRecord, Tokens, issue as issue_token};
pub use config::{AuthConfig, HttpConfig, OpsConfig};
pub use error::{ApiError, ApiResult, Problem};
pub use live::{CellRow, LiveHub, LiveUpdate};
pub use state::{AppState, Readiness};

/// Largest request body accepted by default, bytes.
pub const BODY_LIMIT_BYTES: usize = 1 << 20;

/// The router with every route.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(routes::system::health))
        .route("/ready", get(routes::system::ready))
        .route("/metrics", get(routes::system::metrics))
        .route("/", get(routes::system::status_page))
        .route("/api/v1/city", get(routes::city::city))
        .route("/api/v1/cells", get(routes::city::cells))
        .with_state(state)
}

/// Serves `router(state)` on `cfg.bind:cfg.port` until `shutdown`; returns the
/// bound address through `bound` as soon as it listens.
pub async fn serve(
    cfg: &HttpConfig,
    state: AppState,
    shutdown: tokio_util::sync::CancellationToken,
    bound: tokio::sync::oneshot::Sender<std::net::SocketAddr>,
) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind((cfg.bind.as_str(), cfg.port)).await?;
    let _ = bound.send(listener.local_addr()?);
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await
}
