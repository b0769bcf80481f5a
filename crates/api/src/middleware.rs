//! Request pipeline: request ids and access logging, RFC 7807 for every
//! error (including the framework's own rejections, 404, 405, 413 and
//! timeouts), panics turned into 500 problems, and the guard in front of
//! `/api/v1` and `/ngsi-ld/v1`: authentication, rate limiting and the audit
//! log of every write.
//!
//! Order, outermost first: [`context`] → panic catcher → CORS → body limit →
//! timeout (not on streams) → [`guard`] → handler.

mod ratelimit;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub use ratelimit::RateLimiter;

use crate::error::{InternalDetail, Problem, types};
use crate::{ApiError, AppState, Principal};

/// The request id (from `X-Request-Id` when the client sent a sane one).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// What a write touched, set by handlers as a response extension for the
/// audit log (an incident id, an entity id).
#[derive(Debug, Clone)]
pub struct AuditEntity(pub String);

/// The caller of a guarded route, as the guard authenticated it.
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .map(Caller)
            .ok_or_else(|| ApiError::Internal("route is not behind the auth guard".into()))
    }
}

/// Shared state of the outer middleware.
#[derive(Debug)]
pub struct Context {
    /// Body limit in force, bytes (for the 413 problem).
    pub body_limit_bytes: usize,
    /// Request timeout in force, seconds (for the timeout problem).
    pub timeout_secs: u64,
}

static REQUESTS: AtomicU64 = AtomicU64::new(0);

fn new_request_id() -> String {
    let n = REQUESTS.fetch_add(1, Ordering::Relaxed);
    let mut r = [0u8; 4];
    let _ = getrandom::fill(&mut r);
    format!("{:08x}-{n:x}", u32::from_le_bytes(r))
}

fn sane_id(v: &HeaderValue) -> Option<String> {
    let s = v.to_str().ok()?;
    (!s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
    .then(|| s.to_owned())
}

/// Outermost layer: request id, problem details for every error response,
/// the request id as the `instance` of 5xx problems, and the access log
/// (the query string is never logged: it may hold `access_token`).
pub async fn context(State(ctx): State<Arc<Context>>, mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(sane_id)
        .unwrap_or_else(new_request_id);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let t0 = Instant::now();
    let resp = next.run(req).await;
    let mut resp = problemify(resp, &id, &ctx).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    let status = resp.status();
    let elapsed = t0.elapsed();
    crate::telemetry::request(&method, status, elapsed);
    if status.is_server_error() {
        let detail = resp
            .extensions()
            .get::<InternalDetail>()
            .map_or("", |d| d.0.as_str());
        tracing::error!(request_id = %id, method = %method, path = %path, status = status.as_u16(), error = %detail, "Request failed.");
    } else {
        tracing::debug!(request_id = %id, method = %method, path = %path, status = status.as_u16(), elapsed_ms = elapsed.as_secs_f64() * 1e3, "Request served.");
    }
    resp
}

fn is_json(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"))
}

fn is_problem(resp: &Response) -> bool {
    resp.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/problem+json"))
}

/// Rewrites error responses that are not problem details (the framework's
/// own 400/404/405/413/415/422, timeouts) into problem details, adds the
/// request id to 5xx problems, and states the configured limit in 413s.
async fn problemify(resp: Response, id: &str, ctx: &Context) -> Response {
    let status = resp.status();
    if !status.is_client_error() && !status.is_server_error() {
        return resp;
    }
    let problem = is_problem(&resp);
    if !problem && is_json(&resp) {
        // a JSON body that is not a problem (`/ready` answers 503 with its flags)
        return resp;
    }
    if problem && status.is_client_error() && status != StatusCode::PAYLOAD_TOO_LARGE {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let mut value: serde_json::Value = if problem {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| serde_json::json!({}))
    } else {
        let text = String::from_utf8_lossy(&bytes).trim().to_owned();
        let (kind, title, detail) = describe_status(status, &parts, &text, ctx);
        serde_json::to_value(Problem {
            kind,
            title,
            status: status.as_u16(),
            detail,
            instance: None,
        })
        .unwrap_or_default()
    };
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        value["type"] = types::PAYLOAD_TOO_LARGE.into();
        value["title"] = "Payload too large".into();
        value["status"] = 413.into();
        value["detail"] = format!(
            "request body is larger than the limit of {} bytes",
            ctx.body_limit_bytes
        )
        .into();
    }
    if status.is_server_error() {
        value["instance"] = format!("urn:citybrain:request:{id}").into();
    }
    let body = serde_json::to_vec(&value).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

fn describe_status(
    status: StatusCode,
    parts: &axum::http::response::Parts,
    text: &str,
    ctx: &Context,
) -> (&'static str, &'static str, String) {
    let text: String = text.chars().take(500).collect();
    match status {
        StatusCode::NOT_FOUND => (
            types::RESOURCE_NOT_FOUND,
            "Resource not found",
            "no such resource".into(),
        ),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = parts
                .headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            (
                types::METHOD_NOT_ALLOWED,
                "Method not allowed",
                format!("this method is not allowed on this resource; allowed: {allow}"),
            )
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            types::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported media type",
            if text.is_empty() {
                "unsupported Content-Type".into()
            } else {
                text
            },
        ),
        StatusCode::UNPROCESSABLE_ENTITY => (
            types::BAD_REQUEST_DATA,
            "Unprocessable content",
            if text.is_empty() {
                "the request data is invalid".into()
            } else {
                text
            },
        ),
        StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE => (
            types::TIMEOUT,
            "Request timed out",
            format!("the request did not complete within {} s", ctx.timeout_secs),
        ),
        s if s.is_server_error() => (
            types::INTERNAL_ERROR,
            "Internal error",
            "internal error; quote the request id when reporting it".into(),
        ),
        StatusCode::UNAUTHORIZED => (
            types::UNAUTHORIZED,
            "Unauthorized",
            "missing or invalid credentials".into(),
        ),
        StatusCode::FORBIDDEN => (types::FORBIDDEN, "Forbidden", "forbidden".into()),
        StatusCode::TOO_MANY_REQUESTS => (
            types::RATE_LIMITED,
            "Too many requests",
            "rate limit exceeded".into(),
        ),
        _ => (
            types::INVALID_REQUEST,
            "Invalid request",
            if text.is_empty() {
                "the request is invalid".into()
            } else {
                text
            },
        ),
    }
}

/// The response of a caught panic: a 500 problem whose detail (the panic
/// message) goes to the log only.
pub fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let msg = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "unknown panic".into());
    ApiError::Internal(format!("handler panicked: {msg}")).into_response()
}

/// 404 for every unknown path.
pub async fn not_found(req: Request) -> ApiError {
    ApiError::NotFound(format!("no resource at {}", req.uri().path()))
}

/// State of the guard.
pub struct Guard {
    /// The application state.
    pub state: AppState,
    /// Token buckets per token or client address.
    pub limiter: RateLimiter,
}

/// Paths that authenticate differently: the broker's HTTP-auth callback
/// (gateway credentials in the body; rate-limited, never audited).
fn is_exempt(path: &str) -> bool {
    path == "/api/v1/mqtt/auth"
}

/// Paths where browsers cannot send headers, so `access_token` is accepted
/// in the query string.
fn is_stream(path: &str) -> bool {
    path == "/api/v1/stream" || path == "/api/v1/stream/sse"
}

fn is_read(m: &Method) -> bool {
    matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn decode_query_value(v: &str) -> String {
    // tokens are [a-z0-9_]; decode the few escapes a client might apply
    v.replace("%5F", "_").replace("%5f", "_")
}

/// What the guard needs of a request (no borrow of the body across awaits).
struct Ask {
    method: Method,
    path: String,
    query: Option<String>,
    authorization: Option<Result<String, ()>>,
    addr: String,
}

impl Ask {
    fn of(req: &Request) -> Self {
        Self {
            method: req.method().clone(),
            path: req.uri().path().to_owned(),
            query: req.uri().query().map(str::to_owned),
            authorization: req
                .headers()
                .get(header::AUTHORIZATION)
                .map(|v| v.to_str().map(str::to_owned).map_err(|_| ())),
            addr: req
                .extensions()
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "local".to_owned(), |c| c.0.ip().to_string()),
        }
    }
}

/// Who is calling, or why they may not.
async fn authenticate(g: &Guard, ask: &Ask) -> Result<Principal, ApiError> {
    let path = ask.path.as_str();
    let token = match &ask.authorization {
        Some(Err(())) => {
            return Err(ApiError::Unauthorized(
                "Authorization header is not text".into(),
            ));
        }
        Some(Ok(v)) => {
            let (scheme, tok) = v.split_once(' ').unwrap_or((v.as_str(), ""));
            if !scheme.eq_ignore_ascii_case("bearer") || tok.trim().is_empty() {
                return Err(ApiError::Unauthorized(
                    "use Authorization: Bearer <token>".into(),
                ));
            }
            Some(tok.trim().to_owned())
        }
        None if is_stream(path) => {
            query_param(ask.query.as_deref(), "access_token").map(decode_query_value)
        }
        None => None,
    };
    let key = match token.as_deref().and_then(crate::auth::token_id_of) {
        Some(id) => format!("token:{id}"),
        None => format!("ip:{}", ask.addr),
    };
    if let Err(retry_after_secs) = g.limiter.check(&key) {
        return Err(ApiError::RateLimited { retry_after_secs });
    }
    match token {
        Some(t) => {
            if g.state.tokens.is_cached(&t) {
                g.state.tokens.verify(&t)
            } else {
                let tokens = g.state.tokens.clone();
                tokio::task::spawn_blocking(move || tokens.verify(&t))
                    .await
                    .map_err(|e| ApiError::Internal(format!("token check failed: {e}")))?
            }
        }
        None if is_exempt(path) => Ok(Principal::anonymous()),
        None if is_read(&ask.method) && g.state.auth.anonymous_read => Ok(Principal::anonymous()),
        None => Err(ApiError::Unauthorized(if is_read(&ask.method) {
            "a bearer token is required (Authorization: Bearer <token>)".into()
        } else {
            "writes need a bearer token (Authorization: Bearer <token>)".into()
        })),
    }
}

/// The guard of `/api/v1` and `/ngsi-ld/v1`: authenticates (401 with
/// `WWW-Authenticate` when credentials are missing or invalid; handlers
/// answer 403 when a valid token lacks the right), rate-limits per token or
/// client address (429 with `Retry-After`), and writes an audit line for
/// every request that is not a read, refused ones included.
pub async fn guard(State(g): State<Arc<Guard>>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    let audited = !is_read(&method) && !is_exempt(&path);
    let ask = Ask::of(&req);
    let (principal, resp) = match authenticate(&g, &ask).await {
        Ok(p) => {
            req.extensions_mut().insert(p.clone());
            (Some(p), next.run(req).await)
        }
        Err(e) => (None, e.into_response()),
    };
    if audited {
        let who = principal.as_ref().map_or_else(
            || "unauthenticated".to_owned(),
            |p| match &p.token_id {
                Some(id) => format!("{} ({id})", p.name),
                None => p.name.clone(),
            },
        );
        let rec = store::AuditRecord {
            id: 0,
            at: crate::util::now(),
            principal: who,
            method: method.to_string(),
            path,
            status: resp.status().as_u16(),
            entity: resp.extensions().get::<AuditEntity>().map(|e| e.0.clone()),
            request_id,
        };
        if let Err(e) = g.state.store.append_audit(&rec).await {
            tracing::error!(error = %e, path = %rec.path, "Failed to write the audit log.");
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_a_500_problem_whose_message_stays_in_the_log() {
        let r = panic_response(Box::new("boom at line 7"));
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let d = r.extensions().get::<InternalDetail>().unwrap();
        assert!(d.0.contains("boom at line 7"));
    }

    #[test]
    fn request_ids_from_clients_must_be_short_and_plain() {
        assert_eq!(
            sane_id(&HeaderValue::from_static("req-1.a_b")),
            Some("req-1.a_b".into())
        );
        assert_eq!(sane_id(&HeaderValue::from_static("a b")), None);
        assert_eq!(sane_id(&HeaderValue::from_static("")), None);
        let long = "x".repeat(65);
        assert_eq!(sane_id(&HeaderValue::from_str(&long).unwrap()), None);
        assert_ne!(new_request_id(), new_request_id());
    }

    #[test]
    fn only_stream_paths_read_access_token_from_the_query() {
        assert!(is_stream("/api/v1/stream"));
        assert!(is_stream("/api/v1/stream/sse"));
        assert!(!is_stream("/api/v1/city"));
        assert_eq!(
            query_param(Some("a=1&access_token=cb_x&b=2"), "access_token"),
            Some("cb_x")
        );
        assert_eq!(query_param(None, "access_token"), None);
    }
}
