//! `ApiError`: every error the API returns, as RFC 7807 problem details.
//!
//! One `match` picks the status. A 4xx body explains the problem to the
//! client; a 5xx body says "internal error" with a request id, and the
//! details go to the log, never to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// NGSI-LD error types (ETSI GS CIM 009 §5.5.2), used for every route.
pub mod types {
    /// The request is malformed (syntax).
    pub const INVALID_REQUEST: &str = "https://uri.etsi.org/ngsi-ld/errors/InvalidRequest";
    /// The request data is invalid (semantics).
    pub const BAD_REQUEST_DATA: &str = "https://uri.etsi.org/ngsi-ld/errors/BadRequestData";
    /// The resource already exists.
    pub const ALREADY_EXISTS: &str = "https://uri.etsi.org/ngsi-ld/errors/AlreadyExists";
    /// The operation is not supported on this resource.
    pub const OPERATION_NOT_SUPPORTED: &str =
        "https://uri.etsi.org/ngsi-ld/errors/OperationNotSupported";
    /// The resource does not exist.
    pub const RESOURCE_NOT_FOUND: &str = "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound";
    /// Something failed on the server.
    pub const INTERNAL_ERROR: &str = "https://uri.etsi.org/ngsi-ld/errors/InternalError";
    /// The query would return too much.
    pub const TOO_MANY_RESULTS: &str = "https://uri.etsi.org/ngsi-ld/errors/TooManyResults";
    /// No or invalid credentials.
    pub const UNAUTHORIZED: &str = "urn:citybrain:problem:unauthorized";
    /// Valid credentials without the right.
    pub const FORBIDDEN: &str = "urn:citybrain:problem:forbidden";
    /// Rate limit hit.
    pub const RATE_LIMITED: &str = "urn:citybrain:problem:rate-limited";
    /// Body too large.
    pub const PAYLOAD_TOO_LARGE: &str = "urn:citybrain:problem:payload-too-large";
    /// Wrong content type.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "urn:citybrain:problem:unsupported-media-type";
    /// A dependency (the database) is down.
    pub const UNAVAILABLE: &str = "urn:citybrain:problem:unavailable";
    /// Method not allowed on the route.
    pub const METHOD_NOT_ALLOWED: &str = "urn:citybrain:problem:method-not-allowed";
    /// The state does not allow the operation.
    pub const CONFLICT: &str = "urn:citybrain:problem:conflict";
    /// The content cannot be processed.
    pub const UNPROCESSABLE: &str = "urn:citybrain:problem:unprocessable";
    /// Too much work is queued.
    pub const QUEUE_FULL: &str = "urn:citybrain:problem:queue-full";
    /// The request took too long.
    pub const TIMEOUT: &str = "urn:citybrain:problem:timeout";
}

/// Every error the API returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed request syntax (query string, JSON).
    #[error("{0}")]
    InvalidRequest(String),
    /// Well-formed but invalid data.
    #[error("{0}")]
    BadRequestData(String),
    /// No credentials or invalid ones.
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated but not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// No such resource.
    #[error("{0}")]
    NotFound(String),
    /// No such route or method.
    #[error("method {0} is not allowed on this resource")]
    MethodNotAllowed(String),
    /// Already exists.
    #[error("{0}")]
    AlreadyExists(String),
    /// The current state forbids the operation (e.g. closing a reported incident).
    #[error("{0}")]
    Conflict(String),
    /// The operation is not supported on this resource.
    #[error("{0}")]
    NotSupported(String),
    /// The request is well-formed but its content cannot be processed (an
    /// unknown action, a rule that fails validation).
    #[error("{0}")]
    Unprocessable(String),
    /// Body over the limit.
    #[error("request body is larger than the limit of {limit_bytes} bytes")]
    PayloadTooLarge {
        /// The limit.
        limit_bytes: usize,
    },
    /// Wrong `Content-Type`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Result set too large.
    #[error("{0}")]
    TooManyResults(String),
    /// Too many requests.
    #[error("rate limit exceeded; retry after {retry_after_secs} s")]
    RateLimited {
        /// Seconds until a request will be accepted.
        retry_after_secs: u64,
    },
    /// Too much work is queued (scenario runs); retrying later may work.
    #[error("{0}")]
    QueueFull(String),
    /// A dependency is unavailable; retrying later may work.
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected failure. The message is logged, not returned.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The RFC 7807 body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Problem type URI.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Short summary.
    pub title: &'static str,
    /// HTTP status.
    pub status: u16,
    /// What went wrong, for the client.
    pub detail: String,
    /// Request id for correlation with the server log (5xx).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

impl ApiError {
    /// Status, type and title.
    pub fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use ApiError as E;
        match self {
            E::InvalidRequest(_) => (
                StatusCode::BAD_REQUEST,
                types::INVALID_REQUEST,
                "Invalid request",
            ),
            E::BadRequestData(_) => (
                StatusCode::BAD_REQUEST,
                types::BAD_REQUEST_DATA,
                "Bad request data",
            ),
            E::Unauthorized(_) => (
                StatusCode::UNAUTHORIZED,
                types::UNAUTHORIZED,
                "Unauthorized",
            ),
            E::Forbidden(_) => (StatusCode::FORBIDDEN, types::FORBIDDEN, "Forbidden"),
            E::NotFound(_) => (
                StatusCode::NOT_FOUND,
                types::RESOURCE_NOT_FOUND,
                "Resource not found",
            ),
            E::MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                types::METHOD_NOT_ALLOWED,
                "Method not allowed",
            ),
            E::AlreadyExists(_) => (
                StatusCode::CONFLICT,
                types::ALREADY_EXISTS,
                "Already exists",
            ),
            E::Conflict(_) => (StatusCode::CONFLICT, types::CONFLICT, "Conflict"),
            E::NotSupported(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                types::OPERATION_NOT_SUPPORTED,
                "Operation not supported",
            ),
            E::Unprocessable(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                types::UNPROCESSABLE,
                "Unprocessable content",
            ),
            E::PayloadTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                types::PAYLOAD_TOO_LARGE,
                "Payload too large",
            ),
            E::UnsupportedMediaType(_) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                types::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
            ),
            E::TooManyResults(_) => (
                StatusCode::FORBIDDEN,
                types::TOO_MANY_RESULTS,
                "Too many results",
            ),
            E::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                types::RATE_LIMITED,
                "Too many requests",
            ),
            E::QueueFull(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                types::QUEUE_FULL,
                "Queue full",
            ),
            E::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                types::UNAVAILABLE,
                "Service unavailable",
            ),
            E::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                types::INTERNAL_ERROR,
                "Internal error",
            ),
        }
    }
}

/// The internal detail of a 5xx, kept in the response extensions for the
/// logging middleware (never serialised).
#[derive(Debug, Clone)]
pub struct InternalDetail(pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind, title) = self.parts();
        let internal = status.is_server_error().then(|| self.to_string());
        let detail = if matches!(self, ApiError::Internal(_)) {
            "internal error; quote the request id when reporting it".to_owned()
        } else {
            self.to_string()
        };
        let body = Problem {
            kind,
            title,
            status: status.as_u16(),
            detail,
            instance: None,
        };
        let mut resp = (status, axum::Json(body)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match &self {
            ApiError::Unauthorized(_) => {
                resp.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"citybrain\""),
                );
            }
            ApiError::RateLimited { retry_after_secs } => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            _ => {}
        }
        if let Some(d) = internal {
            resp.extensions_mut().insert(InternalDetail(d));
        }
        resp
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as J;
        match r {
            J::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
                "expected Content-Type: application/json (or application/ld+json)".into(),
            ),
            J::JsonSyntaxError(e) => {
                ApiError::InvalidRequest(format!("body is not valid JSON: {}", e.body_text()))
            }
            J::JsonDataError(e) => ApiError::BadRequestData(format!(
                "body does not match the schema: {}",
                e.body_text()
            )),
            J::BytesRejection(e) => {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge {
                        limit_bytes: crate::BODY_LIMIT_BYTES,
                    }
                } else {
                    ApiError::InvalidRequest(format!("could not read the body: {}", e.body_text()))
                }
            }
            other => ApiError::InvalidRequest(other.body_text()),
        }
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::InvalidRequest(format!("invalid query string: {}", r.body_text()))
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> Self {
        ApiError::InvalidRequest(format!("invalid path parameter: {}", r.body_text()))
    }
}

impl From<store::Error> for ApiError {
    fn from(e: store::Error) -> Self {
        if e.is_retryable() {
            ApiError::Unavailable(format!("the database is unavailable ({e}); retry later"))
        } else {
            ApiError::Internal(format!("{e}: {}", source_chain(&e)))
        }
    }
}

/// The `source()` chain of an error, joined by `: ` (for the server log).
pub fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = Vec::new();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push(s.to_string());
        cur = s.source();
    }
    out.join(": ")
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;
