//! Scenario runs: fork the live twin and compare a what-if with the
//! baseline ([`crate::scenarios`]).

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::middleware::{AuditEntity, Caller};
use crate::scenarios::{EngineKind, RunDto, RunList, RunSpec, parse_run_id, plan, run_id};
use crate::{ApiError, ApiResult, AppState, Permission, Problem};

/// A new run.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRunBody {
    /// Name, 1-200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// `traffic`, `community` or `energy`.
    #[schema(pattern = "^(traffic|community|energy)$")]
    pub engine: String,
    /// Seed (default 1).
    #[serde(default)]
    pub seed: Option<u64>,
    /// Simulated horizon, s (engine default: traffic 3600, community
    /// 604800, energy 86400; see the bounds in the HTTP API spec).
    #[serde(default)]
    pub horizon_s: Option<u64>,
    /// The engine's what-if ([`crate::scenarios::TrafficVariant`],
    /// [`crate::scenarios::CommunityVariant`],
    /// [`crate::scenarios::EnergyVariant`]); `{}` or absent = baseline only.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variant: Option<Value>,
}

fn parse_id(id: &str) -> Result<u64, ApiError> {
    parse_run_id(id).ok_or_else(|| ApiError::NotFound(format!("no scenario run {id}")))
}

/// `GET /api/v1/scenarios`: runs, newest first, without results.
#[utoipa::path(get, path = "/api/v1/scenarios", tag = "scenarios",
    responses(
        (status = 200, description = "Runs, newest first", body = RunList),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn list(State(s): State<AppState>) -> Json<RunList> {
    Json(s.scenarios.list())
}

/// `POST /api/v1/scenarios`: fork the current twin snapshot and queue a run
/// (planner or admin).
#[utoipa::path(post, path = "/api/v1/scenarios", tag = "scenarios",
    request_body = NewRunBody,
    responses(
        (status = 202, description = "Queued; `Location` names the run", body = RunDto,
            headers(("Location" = String, description = "`/api/v1/scenarios/{id}`"))),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field (named in the detail)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many runs queued or running", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    body: Result<Json<NewRunBody>, JsonRejection>,
) -> ApiResult<Response> {
    p.require(Permission::RunScenarios)?;
    let Json(b) = body?;
    let name = b.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::Unprocessable(
            "name: must be 1-200 characters".into(),
        ));
    }
    let engine = EngineKind::parse(&b.engine).ok_or_else(|| {
        ApiError::Unprocessable(format!(
            "engine: {:?} is not traffic, community or energy",
            b.engine
        ))
    })?;
    let (default_h, min_h, max_h) = engine.horizon_bounds_s();
    let horizon_s = b.horizon_s.unwrap_or(default_h);
    if !(min_h..=max_h).contains(&horizon_s) {
        return Err(ApiError::Unprocessable(format!(
            "horizon_s: {horizon_s} is not in {min_h}..={max_h} for the {} engine",
            b.engine
        )));
    }
    let variant = match b.variant {
        None | Some(Value::Null) => json!({}),
        Some(v @ Value::Object(_)) => v,
        Some(_) => {
            return Err(ApiError::Unprocessable("variant: must be an object".into()));
        }
    };
    let spec = RunSpec {
        name: name.to_string(),
        engine,
        seed: b.seed.unwrap_or(1),
        horizon_s,
        variant,
    };
    let snap = s.twin();
    let incidents = if engine == EngineKind::Community {
        s.ops.recent_incidents().await
    } else {
        Vec::new()
    };
    let job = plan(&spec, &snap, &incidents)?;
    let dto = s.scenarios.submit(spec, snap.version(), job)?;
    let location = format!("/api/v1/scenarios/{}", dto.id);
    let audit = dto.id.clone();
    let mut resp = (StatusCode::ACCEPTED, Json(dto)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.extensions_mut().insert(AuditEntity(audit));
    Ok(resp)
}

/// `GET /api/v1/scenarios/{id}`: a run, with its result once done.
#[utoipa::path(get, path = "/api/v1/scenarios/{id}", tag = "scenarios",
    params(("id" = String, Path, description = "Run id (`scn-000001`)")),
    responses(
        (status = 200, description = "The run", body = RunDto),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn get_one(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<RunDto>> {
    let Path(id) = id?;
    let n = parse_id(&id)?;
    s.scenarios
        .get(n)
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no scenario run {id}")))
}

/// `DELETE /api/v1/scenarios/{id}`: cancel a queued or running run, or
/// remove a finished one (planner or admin).
#[utoipa::path(delete, path = "/api/v1/scenarios/{id}", tag = "scenarios",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 204, description = "Cancelled or removed"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a planner or admin", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn delete(
    State(s): State<AppState>,
    Caller(p): Caller,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    p.require(Permission::RunScenarios)?;
    let Path(id) = id?;
    let n = parse_id(&id)?;
    s.scenarios.delete(n)?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.extensions_mut().insert(AuditEntity(run_id(n)));
    Ok(resp)
}

/// `GET /api/v1/scenarios/{id}/map`: per-entity deltas of a finished run as
/// GeoJSON (`metric`, `baseline`, `variant`, `delta` per feature).
#[utoipa::path(get, path = "/api/v1/scenarios/{id}/map", tag = "scenarios",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 200, description = "FeatureCollection", body = Object, content_type = "application/geo+json"),
        (status = 404, description = "No such run", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The run is not done", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn map(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let Path(id) = id?;
    let n = parse_id(&id)?;
    let features = s.scenarios.map(n)?;
    Ok((
        [(header::CONTENT_TYPE, "application/geo+json")],
        Json(json!({"type": "FeatureCollection", "features": features})),
    )
        .into_response())
}
