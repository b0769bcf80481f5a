//! Administration: API tokens, dead letters, the audit log, and the MQTT
//! broker's HTTP-auth callback.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{Role, Scope, issue};
use crate::bootstrap::token_row;
use crate::middleware::{AuditEntity, Caller};
use crate::util::{iso, page_limit};
use crate::{ApiError, ApiResult, AppState, Permission, Problem};

/// A token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TokenInfo {
    /// Token id (the public part of the token).
    pub id: String,
    /// Holder's name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Where it may act (empty = everywhere).
    pub scope: Scope,
    /// Revoked tokens never authenticate.
    pub revoked: bool,
}

/// A token to issue.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Holder's name (1-100 characters).
    #[schema(min_length = 1, max_length = 100, pattern = "\\S")]
    pub name: String,
    /// Role.
    pub role: Role,
    /// Scope (default everywhere).
    #[serde(default)]
    pub scope: Scope,
}

/// A newly issued token: shown once.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IssuedToken {
    /// The bearer token (`cb_<id>_<secret>`); store it now, it is not shown again.
    pub token: String,
    /// Its record.
    #[serde(flatten)]
    pub info: TokenInfo,
}

/// `GET /api/v1/tokens` (admin).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin",
    responses(
        (status = 200, description = "Tokens, in id order", body = Vec<TokenInfo>),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn tokens(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> ApiResult<Json<Vec<TokenInfo>>> {
    p.require(Permission::Admin)?;
    Ok(Json(
        s.tokens
            .list()
            .into_iter()
            .map(|r| TokenInfo {
                id: r.id,
                name: r.name,
                role: r.role,
                scope: r.scope,
                revoked: r.revoked,
            })
            .collect(),
    ))
}

/// `POST /api/v1/tokens` (admin): issue a token; the response is the only
/// time it is shown.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin",
    request_body = NewToken,
    responses(
        (status = 201, description = "The token, shown once", body = IssuedToken),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or scope", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create_token(
    State(s): State<AppState>,
    Caller(p): Caller,
    body: Result<Json<NewToken>, JsonRejection>,
) -> ApiResult<Response> {
    p.require(Permission::Admin)?;
    let Json(b) = body?;
    if b.name.trim().is_empty() || b.name.len() > 100 {
        return Err(ApiError::Unprocessable(
            "name must be 1-100 characters".into(),
        ));
    }
    if let Some(c) = b
        .scope
        .cells
        .iter()
        .find(|c| c.parse::<h3o::CellIndex>().is_err())
    {
        return Err(ApiError::Unprocessable(format!(
            "scope cell {c:?} is not an H3 cell index"
        )));
    }
    let (name, role, scope) = (b.name.clone(), b.role, b.scope.clone());
    let (token, rec) = tokio::task::spawn_blocking(move || issue(&name, role, scope))
        .await
        .map_err(|e| ApiError::Internal(format!("token task failed: {e}")))??;
    s.store.upsert_api_tokens(&[token_row(&rec)]).await?;
    s.tokens.upsert(rec.clone());
    let out = IssuedToken {
        token,
        info: TokenInfo {
            id: rec.id.clone(),
            name: rec.name,
            role: rec.role,
            scope: rec.scope,
            revoked: false,
        },
    };
    let mut resp = (StatusCode::CREATED, Json(out)).into_response();
    resp.extensions_mut()
        .insert(AuditEntity(format!("token {}", rec.id)));
    Ok(resp)
}

/// `DELETE /api/v1/tokens/{id}` (admin): revoke a token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "admin",
    params(("id" = String, Path, description = "Token id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Not an admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such token", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn revoke_token(
    State(s): State<AppState>,
    Caller(p): Caller,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    p.require(Permission::Admin)?;
    let Path(id) = id?;
    let Some(mut rec) = s.tokens.list().into_iter().find(|r| r.id == id) else {
        return Err(ApiError::NotFound(format!("no token {id:?}")));
    };
    s.store.revoke_api_token(&id).await?;
    rec.revoked = true;
    s.tokens.upsert(rec);
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.extensions_mut()
        .insert(AuditEntity(format!("token {id}")));
    Ok(resp)
}

/// Paging.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// Page size (default 100, max 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Items to skip.
    pub offset: Option<u64>,
}

/// A rejected message.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DeadLetterDto {
    /// Row id (newest has the largest).
    pub id: i64,
    /// MQTT topic.
    pub topic: String,
    /// Payload format.
    pub format: String,
    /// Why it was rejected.
    pub reason: String,
    /// When it was received.
    pub received: String,
    /// Whether the payload was cut to the stored maximum.
    pub truncated: bool,
    /// The payload as text (invalid UTF-8 replaced).
    pub payload: String,
}

/// A page of dead letters.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DeadLetters {
    /// Dead letters stored.
    pub total: u64,
    /// This page, newest first.
    pub items: Vec<DeadLetterDto>,
}

/// `GET /api/v1/dead-letters` (operator, admin).
#[utoipa::path(get, path = "/api/v1/dead-letters", tag = "admin",
    params(Paging),
    responses(
        (status = 200, description = "Dead letters, newest first", body = DeadLetters),
        (status = 403, description = "Role without access", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn dead_letters(
    State(s): State<AppState>,
    Caller(p): Caller,
    q: Result<Query<Paging>, QueryRejection>,
) -> ApiResult<Json<DeadLetters>> {
    p.require(Permission::ReadDiagnostics)?;
    let Query(q) = q?;
    let items = s
        .store
        .dead_letters(page_limit(q.limit, 100, 1000), q.offset.unwrap_or(0))
        .await?
        .into_iter()
        .map(|d| DeadLetterDto {
            id: d.id,
            topic: d.letter.topic,
            format: d.letter.format,
            reason: d.letter.reason,
            received: iso(d.letter.received),
            truncated: d.letter.truncated,
            payload: String::from_utf8_lossy(&d.letter.payload).into_owned(),
        })
        .collect();
    Ok(Json(DeadLetters {
        total: s.store.dead_letter_count().await?,
        items,
    }))
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditLine {
    /// Row id.
    pub id: i64,
    /// When.
    pub at: String,
    /// Who.
    pub principal: String,
    /// HTTP method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Response status.
    pub status: u16,
    /// What was written.
    pub entity: Option<String>,
    /// Request id.
    pub request_id: Option<String>,
}

/// `GET /api/v1/audit` (operator, admin): the audit log of writes, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "admin",
    params(Paging),
    responses(
        (status = 200, description = "Audit lines, newest first", body = Vec<AuditLine>),
        (status = 403, description = "Role without access", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn audit(
    State(s): State<AppState>,
    Caller(p): Caller,
    q: Result<Query<Paging>, QueryRejection>,
) -> ApiResult<Json<Vec<AuditLine>>> {
    p.require(Permission::ReadDiagnostics)?;
    let Query(q) = q?;
    Ok(Json(
        s.store
            .audit_log(page_limit(q.limit, 100, 1000), q.offset.unwrap_or(0))
            .await?
            .into_iter()
            .map(|a| AuditLine {
                id: a.id,
                at: iso(a.at),
                principal: a.principal,
                method: a.method,
                path: a.path,
                status: a.status,
                entity: a.entity,
                request_id: a.request_id,
            })
            .collect(),
    ))
}

/// The broker's HTTP-auth request (EMQX `{"username": "${username}",
/// "password": "${password}"}`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct MqttAuthRequest {
    /// Gateway id.
    pub username: String,
    /// Gateway password.
    pub password: String,
    /// MQTT client id (not checked).
    #[serde(default)]
    pub clientid: Option<String>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MqttAuthResponse {
    /// `allow` or `deny`.
    pub result: &'static str,
    /// Always false: gateways are never superusers.
    pub is_superuser: bool,
}

/// `POST /api/v1/mqtt/auth`: the MQTT broker's HTTP authentication backend
/// (EMQX). Checks the gateway's id and password against the store (argon2);
/// always 200 with `allow` or `deny`. Needs no token; rate-limited per
/// client address; keep it on the internal network.
#[utoipa::path(post, path = "/api/v1/mqtt/auth", tag = "admin",
    request_body = MqttAuthRequest,
    responses(
        (status = 200, description = "allow or deny", body = MqttAuthResponse),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    ),
    security(()))]
pub async fn mqtt_auth(
    State(s): State<AppState>,
    body: Result<Json<MqttAuthRequest>, JsonRejection>,
) -> ApiResult<Json<MqttAuthResponse>> {
    let Json(b) = body?;
    let ok = !b.username.is_empty()
        && b.username.len() <= 128
        && b.password.len() <= 1024
        && s.store.verify_gateway(&b.username, &b.password).await?;
    Ok(Json(MqttAuthResponse {
        result: if ok { "allow" } else { "deny" },
        is_superuser: false,
    }))
}
