//! Incidents: list, get, create, lifecycle transitions, response metrics.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{EntityId, LatLon};
use ops::{Action, IncidentSource, IncidentState, NewIncident};
use serde::Deserialize;
use store::IncidentFilter;
use utoipa::{IntoParams, ToSchema};

use crate::middleware::{AuditEntity, Caller};
use crate::operations::dto::{
    INCIDENT_PREFIX, IncidentDto, IncidentMetricsDto, Position, incident_dto, incident_id,
    parse_id, parse_priority,
};
use crate::operations::{METRICS_WINDOW_DAYS, cell9, community_at, incident_of};
use crate::util::{now, page_limit, parse_time};
use crate::{ApiError, ApiResult, AppState, Permission, Problem};

/// Query of `GET /api/v1/incidents`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IncidentsQuery {
    /// States, comma-separated (`REPORTED,DISPATCHED`), or `open`.
    pub state: Option<String>,
    /// Community id.
    pub community: Option<String>,
    /// Reported at or after (RFC 3339 or epoch ms).
    pub from: Option<String>,
    /// Reported before.
    pub to: Option<String>,
    /// Page size (default 200, max 1000).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Items to skip.
    pub offset: Option<u64>,
}

/// `GET /api/v1/incidents`: incidents, newest first.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents",
    params(IncidentsQuery),
    responses(
        (status = 200, description = "Incidents, newest first", body = Vec<IncidentDto>),
        (status = 400, description = "Bad filter", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    q: Result<Query<IncidentsQuery>, QueryRejection>,
) -> ApiResult<Json<Vec<IncidentDto>>> {
    let Query(q) = q?;
    let mut f = IncidentFilter {
        community: q.community.clone(),
        created_from: q
            .from
            .as_deref()
            .map(|t| parse_time("from", t))
            .transpose()?,
        created_to: q.to.as_deref().map(|t| parse_time("to", t)).transpose()?,
        limit: page_limit(q.limit, 200, 1000),
        offset: q.offset.unwrap_or(0),
        ..IncidentFilter::default()
    };
    if let Some(st) = q.state.as_deref() {
        for x in st.split(',').map(str::trim).filter(|x| !x.is_empty()) {
            if x.eq_ignore_ascii_case("open") {
                f.open_only = true;
            } else {
                let parsed = IncidentState::parse(&x.to_ascii_uppercase()).ok_or_else(|| {
                    ApiError::BadRequestData(format!(
                        "state {x:?} is not REPORTED, DISPATCHED, IN_PROGRESS, RESOLVED, CLOSED, ESCALATED, REOPENED or open"
                    ))
                })?;
                f.states.push(parsed.as_str().to_owned());
            }
        }
    }
    let t = now();
    let recs = s.store.incidents(&f).await?;
    let mut out = Vec::with_capacity(recs.len());
    for r in &recs {
        out.push(incident_dto(&incident_of(r)?, t));
    }
    Ok(Json(out))
}

/// `GET /api/v1/incidents/{id}`.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents",
    params(("id" = String, Path, description = "Incident id (`INC-000042` or `42`)")),
    responses(
        (status = 200, description = "The incident with its audit trail", body = IncidentDto),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn get_one(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<IncidentDto>> {
    let Path(id) = id?;
    let n = parse_id("incident", INCIDENT_PREFIX, &id)?;
    let i = s
        .ops
        .incident(n)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no incident {id}")))?;
    Ok(Json(incident_dto(&i, now())))
}

/// A new incident reported by an operator.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIncidentBody {
    /// Type (category): `pothole`, `flooding`, ...
    #[serde(rename = "type")]
    #[schema(min_length = 1, max_length = 64, pattern = "\\S")]
    pub kind: String,
    /// Short title.
    #[schema(min_length = 1, max_length = 500, pattern = "\\S")]
    pub title: String,
    /// `P1` ... `P4`.
    #[schema(pattern = "^P[1-4]$")]
    pub priority: String,
    /// Community id; derived from `location` when absent.
    #[serde(default)]
    pub community: Option<String>,
    /// Where.
    #[serde(default)]
    pub location: Option<Position>,
    /// Team, if known.
    #[serde(default)]
    pub team: Option<String>,
    /// A note for the audit trail.
    #[serde(default)]
    pub note: Option<String>,
}

fn bad(m: impl Into<String>) -> ApiError {
    ApiError::Unprocessable(m.into())
}

/// `POST /api/v1/incidents`: report an incident (operator; inside the
/// token's scope).
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents",
    request_body = NewIncidentBody,
    responses(
        (status = 201, description = "The new incident", body = IncidentDto),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role or scope does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid content", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    body: Result<Json<NewIncidentBody>, JsonRejection>,
) -> ApiResult<Response> {
    p.require(Permission::HandleIncidents)?;
    let Json(b) = body?;
    if b.kind.trim().is_empty() || b.kind.len() > 64 {
        return Err(bad("type must be 1-64 characters"));
    }
    if b.title.trim().is_empty() || b.title.len() > 500 {
        return Err(bad("title must be 1-500 characters"));
    }
    let priority = parse_priority(&b.priority)
        .ok_or_else(|| bad(format!("priority {:?} is not P1-P4", b.priority)))?;
    let location = b
        .location
        .map(|l| LatLon::new(l.lat, l.lon).ok_or_else(|| bad("location is not a valid lat/lon")))
        .transpose()?;
    let snap = s.twin();
    let community = match &b.community {
        Some(c) => {
            let id = EntityId::new(c).map_err(|e| bad(format!("community: {e}")))?;
            if snap
                .entity(id.as_str())
                .is_none_or(|e| e.kind != domain::EntityKind::Community)
            {
                return Err(bad(format!("no community {c:?}")));
            }
            Some(id)
        }
        None => location.and_then(|l| community_at(&snap, l)),
    };
    let cell = location.and_then(cell9);
    p.require_scope(community.as_ref(), cell)?;
    let inc = s
        .ops
        .create_incident(
            NewIncident {
                kind: b.kind,
                title: b.title,
                priority,
                community,
                location,
                cell,
                team: b.team.filter(|t| !t.trim().is_empty()),
                source: IncidentSource::Operator,
            },
            &p.name,
            b.note,
        )
        .await?;
    let mut resp = (StatusCode::CREATED, Json(incident_dto(&inc, now()))).into_response();
    resp.extensions_mut()
        .insert(AuditEntity(incident_id(inc.id)));
    Ok(resp)
}

/// An action on an incident.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    /// `dispatch`, `start`, `resolve`, `close`, `escalate` or `reopen`.
    #[schema(pattern = "^(dispatch|start|resolve|close|escalate|reopen)$")]
    pub action: String,
    /// Team (dispatch).
    #[serde(default)]
    pub team: Option<String>,
    /// A note for the audit trail.
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /api/v1/incidents/{id}/transition`: move an incident through its
/// lifecycle. 403 for a role without the right or a token scoped to other
/// districts; 409 when the state does not allow the action (the detail
/// lists the allowed actions); 422 for an unknown action or a dispatch
/// without a team.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/transition", tag = "incidents",
    params(("id" = String, Path, description = "Incident id")),
    request_body = TransitionBody,
    responses(
        (status = 200, description = "The incident after the action", body = IncidentDto),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The role or scope does not allow it", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such incident", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The state does not allow the action", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown action, or dispatch without a team", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn transition(
    State(s): State<AppState>,
    Caller(p): Caller,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<TransitionBody>, JsonRejection>,
) -> ApiResult<Response> {
    p.require(Permission::HandleIncidents)?;
    let Path(id) = id?;
    let n = parse_id("incident", INCIDENT_PREFIX, &id)?;
    let Json(b) = body?;
    let action = Action::ALL
        .into_iter()
        .find(|a| a.as_str() == b.action)
        .ok_or_else(|| {
            bad(format!(
                "action {:?} is not dispatch, start, resolve, close, escalate or reopen",
                b.action
            ))
        })?;
    let team = b.team.filter(|t| !t.trim().is_empty());
    let inc = s.ops.transition(n, action, &p, team, b.note).await?;
    let mut resp = Json(incident_dto(&inc, now())).into_response();
    resp.extensions_mut()
        .insert(AuditEntity(incident_id(inc.id)));
    Ok(resp)
}

/// `GET /api/v1/incidents/metrics`: response time, resolution time, closure
/// and on-time closure over the incidents reported in the last 30 days.
#[utoipa::path(get, path = "/api/v1/incidents/metrics", tag = "incidents",
    responses((status = 200, description = "Metrics", body = IncidentMetricsDto)),
    security((), ("bearer" = [])))]
pub async fn metrics(State(s): State<AppState>) -> Json<IncidentMetricsDto> {
    let m = s.ops.metrics(now()).await;
    Json(IncidentMetricsDto::of(&m, METRICS_WINDOW_DAYS))
}
