//! The HTTP API: CityBrain v1, an NGSI-LD core subset, live streams and the dashboard.

#[allow(dead_code)]
mod auth;
mod error;
mod ngsi;

pub use error::{ApiError, ApiResult, Problem};

/// Largest request body accepted, bytes.
pub const BODY_LIMIT_BYTES: usize = 1 << 20;
