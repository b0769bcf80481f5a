//! Alarms (list, acknowledge) and alarm rules (CRUD).

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::middleware::{AuditEntity, Caller};
use crate::operations::alarm_of;
use crate::operations::dto::{ALARM_PREFIX, AlarmDto, alarm_id, parse_id};
use crate::operations::rules::{RuleBody, RuleDto};
use crate::util::page_limit;
use crate::{ApiError, ApiResult, AppState, Permission, Problem};

/// Query of `GET /api/v1/alarms`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlarmsQuery {
    /// `open`, `acknowledged`, `cleared` or `active` (open or acknowledged).
    #[param(pattern = "^(open|acknowledged|cleared|active)$")]
    pub state: Option<String>,
    /// Page size (default 100, max 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Items to skip.
    pub offset: Option<u64>,
}

/// `GET /api/v1/alarms`: alarms, newest first.
#[utoipa::path(get, path = "/api/v1/alarms", tag = "alarms",
    params(AlarmsQuery),
    responses(
        (status = 200, description = "Alarms, newest first", body = Vec<AlarmDto>),
        (status = 400, description = "Bad filter", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    q: Result<Query<AlarmsQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<AlarmDto>>> {
    let Query(q) = q?;
    if let Some(st) = q.state.as_deref()
        && !matches!(st, "open" | "acknowledged" | "cleared" | "active")
    {
        return Err(ApiError::BadRequestData(format!(
            "state {st:?} is not open, acknowledged, cleared or active"
        )));
    }
    let recs = s
        .store
        .alarms(
            q.state.as_deref(),
            page_limit(q.limit, 100, 1000),
            q.offset.unwrap_or(0),
        )
        .await?;
    let mut out = Vec::with_capacity(recs.len());
    for r in &recs {
        out.push(alarm_of(r)?.to_dto());
    }
    Ok(Json(out))
}

/// `GET /api/v1/alarms/{id}`.
#[utoipa::path(get, path = "/api/v1/alarms/{id}", tag = "alarms",
    params(("id" = String, Path, description = "Alarm id (`ALM-000042` or `42`)")),
    responses(
        (status = 200, description = "The alarm", body = AlarmDto),
        (status = 404, description = "No such alarm", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn get_one(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<AlarmDto>> {
    let Path(id) = id?;
    let n = parse_id("alarm", ALARM_PREFIX, &id)?;
    let rec = s
        .store
        .alarm(n)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no alarm {id}")))?;
    Ok(Json(alarm_of(&rec)?.to_dto()))
}

/// `POST /api/v1/alarms/{id}/ack`: acknowledge an open alarm (idempotent).
#[utoipa::path(post, path = "/api/v1/alarms/{id}/ack", tag = "alarms",
    params(("id" = String, Path, description = "Alarm id")),
    responses(
        (status = 200, description = "The acknowledged alarm", body = AlarmDto),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role or scope does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such alarm", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The alarm has cleared", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn ack(
    State(s): State<AppState>,
    Caller(p): Caller,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    p.require(Permission::HandleIncidents)?;
    let Path(id) = id?;
    let n = parse_id("alarm", ALARM_PREFIX, &id)?;
    let a = s.ops.acknowledge(n, &p).await?;
    let mut resp = Json(a.to_dto()).into_response();
    resp.extensions_mut().insert(AuditEntity(alarm_id(n)));
    Ok(resp)
}

fn rule_id(s: &str) -> ApiResult<u64> {
    s.parse::<u64>()
        .ok()
        .filter(|v| *v > 0 && i64::try_from(*v).is_ok())
        .ok_or_else(|| ApiError::NotFound(format!("no alarm rule {s:?}")))
}

/// `GET /api/v1/alarm-rules`.
#[utoipa::path(get, path = "/api/v1/alarm-rules", tag = "alarms",
    responses((status = 200, description = "Rules, in id order", body = Vec<RuleDto>)),
    security((), ("bearer" = [])))]
pub async fn rules(State(s): State<AppState>) -> Json<Vec<RuleDto>> {
    Json(s.ops.rules().await.iter().map(RuleDto::of).collect())
}

/// `GET /api/v1/alarm-rules/{id}`.
#[utoipa::path(get, path = "/api/v1/alarm-rules/{id}", tag = "alarms",
    params(("id" = String, Path, description = "Rule id")),
    responses(
        (status = 200, description = "The rule", body = RuleDto),
        (status = 404, description = "No such rule", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn rule(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<RuleDto>> {
    let Path(id) = id?;
    let n = rule_id(&id)?;
    let r = s
        .ops
        .rule(n)
        .await
        .ok_or_else(|| ApiError::NotFound(format!("no alarm rule {n}")))?;
    Ok(Json(RuleDto::of(&r)))
}

fn rule_response(status: StatusCode, r: &ops::AlarmRule) -> Response {
    let mut resp = (status, Json(RuleDto::of(r))).into_response();
    resp.extensions_mut()
        .insert(AuditEntity(format!("rule {}", r.id)));
    resp
}

/// `POST /api/v1/alarm-rules`: create a rule (validated; 422 with the reason).
#[utoipa::path(post, path = "/api/v1/alarm-rules", tag = "alarms",
    request_body = RuleBody,
    responses(
        (status = 201, description = "The new rule", body = RuleDto),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The rule is invalid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create_rule(
    State(s): State<AppState>,
    Caller(p): Caller,
    body: Result<Json<RuleBody>, JsonRejection>,
) -> ApiResult<Response> {
    p.require(Permission::EditRules)?;
    let Json(body) = body?;
    let r = s.ops.put_rule(None, &body, false).await?;
    Ok(rule_response(StatusCode::CREATED, &r))
}

/// `PUT /api/v1/alarm-rules/{id}`: replace a rule.
#[utoipa::path(put, path = "/api/v1/alarm-rules/{id}", tag = "alarms",
    params(("id" = String, Path, description = "Rule id")),
    request_body = RuleBody,
    responses(
        (status = 200, description = "The rule", body = RuleDto),
        (status = 403, description = "The role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The rule is invalid", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn replace_rule(
    State(s): State<AppState>,
    Caller(p): Caller,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<RuleBody>, JsonRejection>,
) -> ApiResult<Response> {
    p.require(Permission::EditRules)?;
    let Path(id) = id?;
    let n = rule_id(&id)?;
    let Json(body) = body?;
    let r = s.ops.put_rule(Some(n), &body, true).await?;
    Ok(rule_response(StatusCode::OK, &r))
}

/// `DELETE /api/v1/alarm-rules/{id}`: delete a rule, clearing its alarms.
#[utoipa::path(delete, path = "/api/v1/alarm-rules/{id}", tag = "alarms",
    params(("id" = String, Path, description = "Rule id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The role does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such rule", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn delete_rule(
    State(s): State<AppState>,
    Caller(p): Caller,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    p.require(Permission::EditRules)?;
    let Path(id) = id?;
    let n = rule_id(&id)?;
    s.ops.delete_rule(n).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.extensions_mut()
        .insert(AuditEntity(format!("rule {n}")));
    Ok(resp)
}
