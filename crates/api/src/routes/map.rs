//! The map layers: road segments with their live speed, flow and travel time
//! index; building outlines; the live traffic index.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use domain::EntityKind;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::city::parse_bbox;
use crate::livedata::{TrafficLive, road_live, traffic_live};
use crate::{ApiResult, AppState, Problem};

/// Most features of one map response.
pub const MAX_FEATURES: usize = 200_000;

/// Query of the map layers.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MapQuery {
    /// `minLon,minLat,maxLon,maxLat`; absent = the whole city.
    pub bbox: Option<String>,
}

fn geometry(g: &geo::Geometry<f64>) -> Value {
    serde_json::from_str(&twin::export::geometry(g)).unwrap_or(Value::Null)
}

fn entities<'a>(
    snap: &'a twin::TwinSnapshot,
    bbox: Option<&str>,
    kind: EntityKind,
) -> ApiResult<Vec<&'a twin::Entity>> {
    Ok(match bbox.map(parse_bbox).transpose()? {
        Some(b) => snap.entities_in_bbox(b, &[kind]),
        None => snap.entities_of(kind).collect(),
    })
}

fn geojson(features: Vec<Value>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/geo+json")],
        Json(json!({"type": "FeatureCollection", "features": features})),
    )
        .into_response()
}

/// `GET /api/v1/map/roads`: road segments as GeoJSON, with live
/// `speed_kmh`, `flow_veh_h`, `occupancy_pct` and `tti` (speed limit / live
/// speed) from the online traffic detectors observing each segment (mean
/// over its detectors; `null` without a live reading).
#[utoipa::path(get, path = "/api/v1/map/roads", tag = "map",
    params(MapQuery),
    responses(
        (status = 200, description = "FeatureCollection of LineStrings", body = Object, content_type = "application/geo+json"),
        (status = 400, description = "Bad bbox", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn roads(
    State(s): State<AppState>,
    q: Result<Query<MapQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let snap = s.twin();
    let list = entities(&snap, q.bbox.as_deref(), EntityKind::RoadSegment)?;
    let live = road_live(&snap);
    let features = list
        .into_iter()
        .take(MAX_FEATURES)
        .filter_map(|e| {
            let r = e.road()?;
            let l = live.get(&e.id);
            Some(json!({
                "type": "Feature",
                "id": e.id.as_str(),
                "geometry": geometry(&e.geometry),
                "properties": {
                    "id": e.id.as_str(), "name": e.name, "class": r.class.as_str(), "lanes": r.lanes,
                    "speed_limit_kmh": r.speed_limit_kmh, "length_m": r.length_m,
                    "capacity_veh_h": r.capacity_veh_h, "oneway": r.oneway,
                    "community": e.community.as_ref().map(|c| c.as_str()),
                    "speed_kmh": l.and_then(|l| l.speed_kmh),
                    "flow_veh_h": l.and_then(|l| l.flow_veh_h),
                    "occupancy_pct": l.and_then(|l| l.occupancy_pct),
                    "tti": l.and_then(|l| l.tti),
                    "detectors": l.map_or(0, |l| l.detectors),
                }
            }))
        })
        .collect();
    Ok(geojson(features))
}

/// `GET /api/v1/map/buildings`: building outlines as GeoJSON.
#[utoipa::path(get, path = "/api/v1/map/buildings", tag = "map",
    params(MapQuery),
    responses(
        (status = 200, description = "FeatureCollection of Polygons", body = Object, content_type = "application/geo+json"),
        (status = 400, description = "Bad bbox", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn buildings(
    State(s): State<AppState>,
    q: Result<Query<MapQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let snap = s.twin();
    let list = entities(&snap, q.bbox.as_deref(), EntityKind::Building)?;
    let features = list
        .into_iter()
        .take(MAX_FEATURES)
        .filter_map(|e| {
            let b = e.building()?;
            Some(json!({
                "type": "Feature",
                "id": e.id.as_str(),
                "geometry": geometry(&e.geometry),
                "properties": {
                    "id": e.id.as_str(), "name": e.name, "use": b.building_use.as_str(),
                    "levels": b.levels, "height_m": b.height_m, "floor_area_m2": b.floor_area_m2,
                    "community": e.community.as_ref().map(|c| c.as_str()),
                }
            }))
        })
        .collect();
    Ok(geojson(features))
}

/// `GET /api/v1/traffic/live`: travel time index and traffic performance
/// index of the city and each community, from live detector speeds.
#[utoipa::path(get, path = "/api/v1/traffic/live", tag = "map",
    responses((status = 200, description = "The live traffic index", body = TrafficLive)),
    security((), ("bearer" = [])))]
pub async fn traffic(State(s): State<AppState>) -> Json<TrafficLive> {
    Json(traffic_live(&s.twin()))
}
