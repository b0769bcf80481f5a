//! Sensors with their health, and observation history (raw or roll-ups).

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use domain::{EntityKind, KNOWN_METRICS, Metric, SensorId, SensorKind, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use store::{Resolution, RollupTarget};
use twin::{SensorState, SensorStatus, TwinSnapshot};
use utoipa::{IntoParams, ToSchema};

use super::city::parse_bbox;
use crate::util::{iso, now, parse_cell, parse_time};
use crate::{ApiError, ApiResult, AppState, Problem};

/// Query of `GET /api/v1/sensors`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SensorsQuery {
    /// `minLon,minLat,maxLon,maxLat`; absent = everywhere.
    pub bbox: Option<String>,
    /// Sensor kind (`air_quality`, `traffic_detector`, ...).
    #[param(
        pattern = "^(traffic_detector|air_quality|energy_meter|pv_inverter|water_level|event_reporter|other)$"
    )]
    pub kind: Option<String>,
    /// `online`, `stale`, `offline` or `unseen`.
    #[param(pattern = "^(online|stale|offline|unseen)$")]
    pub status: Option<String>,
}

fn status_str(s: SensorStatus) -> &'static str {
    s.as_str()
}

fn feature(snap: &TwinSnapshot, s: &SensorState) -> Value {
    let spec = s.spec();
    let h = s.health();
    let latest: serde_json::Map<String, Value> = s
        .readings()
        .map(|(m, r, _)| (m.to_string(), json!(r.value)))
        .collect();
    let latest_at: serde_json::Map<String, Value> = s
        .readings()
        .map(|(m, r, _)| (m.to_string(), json!(iso(r.ts))))
        .collect();
    json!({
        "type": "Feature",
        "id": spec.id.as_str(),
        "geometry": {"type": "Point", "coordinates": [spec.location.lon, spec.location.lat]},
        "properties": {
            "id": spec.id.as_str(),
            "kind": spec.kind.as_str(),
            "gateway": spec.gateway.as_str(),
            "observes": spec.observes.as_ref().map(|o| o.as_str()),
            "observes_type": spec.observes.as_ref().and_then(|o| snap.entity(o.as_str())).map(|e| e.kind.type_name()),
            "metrics": spec.metrics.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
            "status": status_str(h.status),
            "status_since": h.since.map(iso),
            "flags": h.flags.names(),
            "last_seen": h.last_seen.map(iso),
            "observations": h.observations,
            "latest": latest,
            "latest_at": latest_at,
            "cell": s.cell().to_string(),
        }
    })
}

/// `GET /api/v1/sensors`: sensors as GeoJSON points with their health
/// (status, quality flags, last seen) and latest readings.
#[utoipa::path(get, path = "/api/v1/sensors", tag = "sensors",
    params(SensorsQuery),
    responses(
        (status = 200, description = "FeatureCollection of Points", body = Object, content_type = "application/geo+json"),
        (status = 400, description = "Bad filter", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    q: Result<Query<SensorsQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let kind = q
        .kind
        .as_deref()
        .map(|k| {
            SensorKind::parse(k).ok_or_else(|| {
                ApiError::BadRequestData(format!(
                    "kind {k:?} is not one of {}",
                    SensorKind::ALL.map(SensorKind::as_str).join(", ")
                ))
            })
        })
        .transpose()?;
    let status = q
        .status
        .as_deref()
        .map(|st| {
            SensorStatus::ALL
                .into_iter()
                .find(|x| x.as_str() == st)
                .ok_or_else(|| {
                    ApiError::BadRequestData(format!(
                        "status {st:?} is not online, stale, offline or unseen"
                    ))
                })
        })
        .transpose()?;
    let bbox = q.bbox.as_deref().map(parse_bbox).transpose()?;
    let snap = s.twin();
    let sensors: Vec<&SensorState> = match bbox {
        Some(b) => snap
            .entities_in_bbox(b, &[EntityKind::Sensor])
            .into_iter()
            .filter_map(|e| snap.sensor(e.id.as_str()))
            .collect(),
        None => snap.sensors().collect(),
    };
    let features: Vec<Value> = sensors
        .into_iter()
        .filter(|x| kind.is_none_or(|k| x.spec().kind == k))
        .filter(|x| status.is_none_or(|st| x.health().status == st))
        .map(|x| feature(&snap, x))
        .collect();
    Ok((
        [(header::CONTENT_TYPE, "application/geo+json")],
        Json(json!({"type": "FeatureCollection", "features": features})),
    )
        .into_response())
}

/// `GET /api/v1/sensors/{id}`: one sensor as a GeoJSON Feature.
#[utoipa::path(get, path = "/api/v1/sensors/{id}", tag = "sensors",
    params(("id" = String, Path, description = "Sensor id")),
    responses(
        (status = 200, description = "The sensor", body = Object, content_type = "application/geo+json"),
        (status = 404, description = "No such sensor", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn get_one(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Response> {
    let Path(id) = id?;
    let snap = s.twin();
    let sensor = snap
        .sensor(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no sensor {id:?}")))?;
    Ok((
        [(header::CONTENT_TYPE, "application/geo+json")],
        Json(feature(&snap, sensor)),
    )
        .into_response())
}

/// Query of `GET /api/v1/observations`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ObservationsQuery {
    /// Sensor id (or give `cell` for a cell's roll-ups).
    pub sensor: Option<String>,
    /// H3 cell (hex): roll-ups merged over the sensors located in it.
    pub cell: Option<String>,
    /// Metric.
    #[param(min_length = 1, max_length = 64, pattern = "^[a-z0-9_]+$")]
    pub metric: String,
    /// Start (RFC 3339 or epoch ms); default `to` minus one hour.
    pub from: Option<String>,
    /// End, exclusive (RFC 3339 or epoch ms); default now.
    pub to: Option<String>,
    /// `raw` (default for sensors), `minute` or `hour`.
    #[param(pattern = "^(raw|minute|hour)$")]
    pub rollup: Option<String>,
    /// Most points (default 10,000, max 100,000).
    pub limit: Option<u32>,
}

/// An observation series.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ObservationSeries {
    /// The sensor (sensor series).
    pub sensor: Option<String>,
    /// The cell (cell series).
    pub cell: Option<String>,
    /// The metric.
    pub metric: String,
    /// Its canonical unit (`null` for custom metrics).
    pub unit: Option<String>,
    /// `raw`, `minute` or `hour`.
    pub rollup: String,
    /// Start of the range.
    pub from: String,
    /// End of the range.
    pub to: String,
    /// raw: `[ts_ms, value]`; roll-ups: `[bucket_ms, count, mean, min, max]`; oldest first.
    pub points: Vec<Vec<f64>>,
}

/// `GET /api/v1/observations`: raw observations of one sensor's metric, or
/// its (or an H3 cell's) minute or hour roll-ups, from the store.
#[utoipa::path(get, path = "/api/v1/observations", tag = "sensors",
    params(ObservationsQuery),
    responses(
        (status = 200, description = "The series", body = ObservationSeries),
        (status = 400, description = "Bad parameters", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such sensor", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn observations(
    State(s): State<AppState>,
    q: Result<Query<ObservationsQuery>, QueryRejection>,
) -> ApiResult<Json<ObservationSeries>> {
    let Query(q) = q?;
    let metric =
        Metric::new(&q.metric).map_err(|e| ApiError::InvalidRequest(format!("metric: {e}")))?;
    let to =
        q.to.as_deref()
            .map(|t| parse_time("to", t))
            .transpose()?
            .unwrap_or_else(now);
    let from = q
        .from
        .as_deref()
        .map(|t| parse_time("from", t))
        .transpose()?
        .unwrap_or(Timestamp(to.0.saturating_sub(3_600_000)));
    if from >= to {
        return Err(ApiError::BadRequestData("from must be before to".into()));
    }
    let limit = q.limit.unwrap_or(10_000).clamp(1, 100_000);
    let unit = KNOWN_METRICS
        .iter()
        .find(|m| m.name == metric.as_str())
        .map(|m| m.unit.symbol().to_owned());
    let (target, sensor, cell) = match (&q.sensor, &q.cell) {
        (Some(id), None) => {
            let sid =
                SensorId::new(id).map_err(|e| ApiError::InvalidRequest(format!("sensor: {e}")))?;
            if s.twin().sensor(id).is_none() {
                return Err(ApiError::NotFound(format!("no sensor {id:?}")));
            }
            (RollupTarget::Sensor(sid), Some(id.clone()), None)
        }
        (None, Some(c)) => {
            let cell = parse_cell(c)?;
            (
                RollupTarget::Cell(u64::from(cell)),
                None,
                Some(cell.to_string()),
            )
        }
        _ => {
            return Err(ApiError::InvalidRequest(
                "give exactly one of sensor and cell".into(),
            ));
        }
    };
    let rollup = q
        .rollup
        .as_deref()
        .unwrap_or(if sensor.is_some() { "raw" } else { "minute" });
    let points: Vec<Vec<f64>> = match (rollup, &target) {
        ("raw", RollupTarget::Sensor(sid)) => s
            .store
            .observations(sid, &metric, from, to, limit)
            .await?
            .into_iter()
            .map(|o| vec![o.ts.0 as f64, o.value])
            .collect(),
        ("raw", RollupTarget::Cell(_)) => {
            return Err(ApiError::BadRequestData(
                "a cell has roll-ups only: rollup=minute or hour".into(),
            ));
        }
        ("minute" | "hour", t) => {
            let res = if rollup == "minute" {
                Resolution::Minute
            } else {
                Resolution::Hour
            };
            s.store
                .rollups(t, &metric, res, from, to)
                .await?
                .into_iter()
                .take(limit as usize)
                .map(|r| vec![r.bucket.0 as f64, r.count as f64, r.mean(), r.min, r.max])
                .collect()
        }
        (other, _) => {
            return Err(ApiError::InvalidRequest(format!(
                "rollup {other:?} must be raw, minute or hour"
            )));
        }
    };
    Ok(Json(ObservationSeries {
        sensor,
        cell,
        metric: metric.to_string(),
        unit,
        rollup: rollup.to_owned(),
        from: iso(from),
        to: iso(to),
        points,
    }))
}
