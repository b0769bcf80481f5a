//! Governance indicators: live scores, history, static inputs, profiles.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::indicators::{
    DEFAULT_PROFILE, HISTORY_CAP, IndicatorHistory, IndicatorsDto, StaticInput,
};
use crate::middleware::{AuditEntity, Caller};
use crate::util::now;
use crate::{ApiError, ApiResult, AppState, Permission, Problem};

/// Query of `GET /api/v1/indicators`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IndicatorsQuery {
    /// Builtin profile: `six-pillar` (default), `gbt-33356`, `iso-37122-live`.
    #[param(pattern = "^(six-pillar|gbt-33356|iso-37122-live)$")]
    pub profile: Option<String>,
}

/// `GET /api/v1/indicators`: the live scores of the city.
#[utoipa::path(get, path = "/api/v1/indicators", tag = "indicators",
    params(IndicatorsQuery),
    responses(
        (status = 200, description = "Scores with the pillar tree and the live inputs", body = IndicatorsDto),
        (status = 404, description = "No such profile", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn scores(
    State(s): State<AppState>,
    q: Result<Query<IndicatorsQuery>, QueryRejection>,
) -> ApiResult<Json<IndicatorsDto>> {
    let Query(q) = q?;
    let name = q.profile.as_deref().unwrap_or(DEFAULT_PROFILE);
    Ok(Json(
        s.indicators.score(&s.twin(), &s.ops, name, now()).await?,
    ))
}

/// Query of the history.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Most points (default 96, max one week of minutes).
    #[param(minimum = 1, maximum = 10080)]
    pub limit: Option<u32>,
}

/// `GET /api/v1/indicators/history`: the composite index of the default
/// profile, sampled about once a minute.
#[utoipa::path(get, path = "/api/v1/indicators/history", tag = "indicators",
    params(HistoryQuery),
    responses((status = 200, description = "`[ts_ms, composite]` pairs, oldest first", body = IndicatorHistory)),
    security((), ("bearer" = [])))]
pub async fn history(
    State(s): State<AppState>,
    q: Result<Query<HistoryQuery>, QueryRejection>,
) -> ApiResult<Json<IndicatorHistory>> {
    let Query(q) = q?;
    let limit = q.limit.unwrap_or(96).clamp(1, HISTORY_CAP as u32) as usize;
    Ok(Json(s.indicators.history(limit)))
}

/// `GET /api/v1/indicators/inputs`: static inputs (annual statistics).
#[utoipa::path(get, path = "/api/v1/indicators/inputs", tag = "indicators",
    responses((status = 200, description = "Static inputs by indicator then year", body = Vec<StaticInput>)),
    security((), ("bearer" = [])))]
pub async fn inputs(State(s): State<AppState>) -> Json<Vec<StaticInput>> {
    Json(s.indicators.static_inputs())
}

/// `PUT /api/v1/indicators/inputs` (planner, admin): enter or replace
/// static inputs by (indicator, year).
#[utoipa::path(put, path = "/api/v1/indicators/inputs", tag = "indicators",
    request_body = Vec<StaticInput>,
    responses(
        (status = 200, description = "Every static input after the change", body = Vec<StaticInput>),
        (status = 403, description = "Not a planner", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown indicator or bad value", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn put_inputs(
    State(s): State<AppState>,
    Caller(p): Caller,
    body: Result<Json<Vec<StaticInput>>, JsonRejection>,
) -> ApiResult<Response> {
    p.require(Permission::EditIndicators)?;
    let Json(b) = body?;
    if b.len() > 10_000 {
        return Err(ApiError::TooManyResults(
            "at most 10,000 inputs at once".into(),
        ));
    }
    s.indicators.put_inputs(&b, &p.name).await?;
    let mut resp = Json(s.indicators.static_inputs()).into_response();
    resp.extensions_mut()
        .insert(AuditEntity(format!("{} indicator inputs", b.len())));
    Ok(resp)
}

/// `DELETE /api/v1/indicators/inputs/{indicator}/{year}` (planner, admin).
#[utoipa::path(delete, path = "/api/v1/indicators/inputs/{indicator}/{year}", tag = "indicators",
    params(("indicator" = String, Path, description = "Indicator id"), ("year" = i32, Path, description = "Year")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not a planner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such input", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn delete_input(
    State(s): State<AppState>,
    Caller(p): Caller,
    path: Result<Path<(String, i32)>, PathRejection>,
) -> ApiResult<Response> {
    p.require(Permission::EditIndicators)?;
    let Path((indicator, year)) = path?;
    if !s.indicators.delete_input(&indicator, year).await? {
        return Err(ApiError::NotFound(format!(
            "no input for {indicator} in {year}"
        )));
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.extensions_mut()
        .insert(AuditEntity(format!("{indicator}/{year}")));
    Ok(resp)
}

/// A builtin profile.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProfileInfo {
    /// Name to pass as `profile=`.
    pub name: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// What it measures.
    pub description: String,
    /// Indicators.
    pub indicators: usize,
    /// Live metric ids it binds to.
    pub live_metrics: Vec<String>,
}

/// `GET /api/v1/indicators/profiles`: the builtin profiles.
#[utoipa::path(get, path = "/api/v1/indicators/profiles", tag = "indicators",
    responses((status = 200, description = "Profiles", body = Vec<ProfileInfo>)),
    security((), ("bearer" = [])))]
pub async fn profiles() -> Json<Vec<ProfileInfo>> {
    Json(
        governance::BUILTIN_PROFILES
            .iter()
            .filter_map(|(name, _)| {
                let p = governance::builtin(name).ok()?;
                let m = p.meta();
                Some(ProfileInfo {
                    name: (*name).to_owned(),
                    name_zh: m.name_zh.clone(),
                    name_en: m.name_en.clone(),
                    description: m.description.clone(),
                    indicators: p.indicators().len(),
                    live_metrics: p.live_metrics().into_iter().map(str::to_owned).collect(),
                })
            })
            .collect(),
    )
}
