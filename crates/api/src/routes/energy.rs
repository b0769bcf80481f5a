//! The live feeder states of the energy engine ([`crate::energy`]).

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use crate::energy::FeederLive;
use crate::util::iso;
use crate::{ApiError, ApiResult, AppState, Problem};

/// Low-carbon figures of a feeder's latest state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LowCarbonDto {
    /// PV output, kW.
    pub pv_kw: f64,
    /// Share of consumption covered by local PV (0-1).
    pub pv_share: f64,
    /// CO₂ rate of the grid import, kg/h.
    pub grid_co2_kg_per_h: f64,
    /// CO₂ intensity of the feeder's consumption, kg/kWh.
    pub co2_intensity_kg_per_kwh: f64,
    /// CO₂ rate avoided by PV, kg/h.
    pub avoided_co2_kg_per_h: f64,
}

/// One broken or nearly broken limit.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ViolationDto {
    /// `undervoltage`, `overvoltage`, `line_overload`, `trafo_overload`,
    /// `line_high_loading`, `trafo_high_loading`.
    pub kind: String,
    /// `critical` or `warning`.
    pub severity: String,
    /// Bus, line or transformer index.
    pub element: i64,
    /// The value (pu or %).
    pub value: f64,
    /// The limit (pu or %).
    pub limit: f64,
}

/// A feeder's live summary.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeederSummaryDto {
    /// Feeder entity id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Buildings supplied.
    pub buildings: usize,
    /// Buildings with a live meter reading at the last power flow.
    pub metered: usize,
    /// Buildings with a live PV reading at the last power flow.
    pub pv_reporting: usize,
    /// Transformer rating, kVA.
    pub rated_kva: f64,
    /// Largest transformer or line loading, % (null before the first flow).
    pub loading_pct: Option<f64>,
    /// Transformer loading, %.
    pub trafo_loading_pct: Option<f64>,
    /// Lowest bus voltage, pu.
    pub v_min_pu: Option<f64>,
    /// Highest bus voltage, pu.
    pub v_max_pu: Option<f64>,
    /// Consumption, kW.
    pub load_kw: Option<f64>,
    /// Import from the grid, kW (negative = reverse flow).
    pub grid_kw: Option<f64>,
    /// Line and transformer losses, kW.
    pub losses_kw: Option<f64>,
    /// Losses over power entering the feeder (import + PV), %.
    pub losses_pct: Option<f64>,
    /// Critical violations.
    pub violations: usize,
    /// Warnings (loading above 80 %).
    pub warnings: usize,
    /// Low-carbon figures.
    pub low_carbon: Option<LowCarbonDto>,
    /// Data time of the newest reading in the latest state (RFC 3339).
    pub as_of: Option<String>,
    /// Why the last power flow failed, if it did.
    pub error: Option<String>,
}

/// A bus's voltage.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BusDto {
    /// Bus index.
    pub index: i64,
    /// Name (the building id for building buses).
    pub name: String,
    /// Nominal voltage, kV.
    pub vn_kv: f64,
    /// Voltage, pu.
    pub vm_pu: Option<f64>,
    /// `[lon, lat]`.
    pub position: Option<Vec<f64>>,
}

/// A line's or transformer's loading.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BranchDto {
    /// Line or transformer index.
    pub index: i64,
    /// From (high-voltage) bus.
    pub from_bus: i64,
    /// To (low-voltage) bus.
    pub to_bus: i64,
    /// Length, km (lines).
    pub length_km: Option<f64>,
    /// Parallel cable systems (lines).
    pub parallel: Option<f64>,
    /// Loading, %.
    pub loading_pct: Option<f64>,
}

/// A feeder's live state in full.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeederDetailDto {
    /// The summary.
    #[serde(flatten)]
    pub summary: FeederSummaryDto,
    /// Bus voltages.
    pub buses: Vec<BusDto>,
    /// Line loadings.
    pub lines: Vec<BranchDto>,
    /// Transformer loadings.
    pub trafos: Vec<BranchDto>,
    /// Violations, critical first.
    pub violation_list: Vec<ViolationDto>,
}

fn snake<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn summary(f: &FeederLive) -> FeederSummaryDto {
    let st = f.state.as_ref();
    let s = st.map(|(_, s)| s);
    let critical = s.map_or(0, |s| {
        s.violations
            .iter()
            .filter(|v| v.severity == engine_energy::Severity::Critical)
            .count()
    });
    let total = s.map_or(0, |s| s.violations.len());
    let losses_pct = s.and_then(|s| {
        let input = s.grid_kw.max(0.0) + s.low_carbon.pv_kw;
        (input > 0.0).then(|| s.losses_kw / input * 100.0)
    });
    FeederSummaryDto {
        id: f.twin.id.clone(),
        name: f.twin.name.clone(),
        buildings: f.twin.building_bus.len(),
        metered: f.metered,
        pv_reporting: f.pv,
        rated_kva: f.twin.net.trafo.first().map_or(0.0, |t| t.sn_mva * 1000.0),
        loading_pct: f.loading_max(),
        trafo_loading_pct: s.and_then(|s| s.trafo_loading_percent.first().map(|x| x.1)),
        v_min_pu: f.vm_range().map(|v| v.0),
        v_max_pu: f.vm_range().map(|v| v.1),
        load_kw: s.map(|s| s.load_kw),
        grid_kw: s.map(|s| s.grid_kw),
        losses_kw: s.map(|s| s.losses_kw),
        losses_pct,
        violations: critical,
        warnings: total - critical,
        low_carbon: s.map(|s| LowCarbonDto {
            pv_kw: s.low_carbon.pv_kw,
            pv_share: s.low_carbon.pv_share,
            grid_co2_kg_per_h: s.low_carbon.grid_co2_kg_per_h,
            co2_intensity_kg_per_kwh: s.low_carbon.co2_intensity_kg_per_kwh,
            avoided_co2_kg_per_h: s.low_carbon.avoided_co2_kg_per_h,
        }),
        as_of: st.map(|(t, _)| iso(*t)),
        error: f.error.clone(),
    }
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn detail(f: &FeederLive) -> FeederDetailDto {
    let s = f.state.as_ref().map(|(_, s)| s);
    let net = &f.twin.net;
    let vm = |i: i64| {
        s.and_then(|s| s.vm_pu.iter().find(|x| x.0 == i))
            .and_then(|x| finite(x.1))
    };
    let line_ld = |i: i64| {
        s.and_then(|s| s.line_loading_percent.iter().find(|x| x.0 == i))
            .and_then(|x| finite(x.1))
    };
    let trafo_ld = |i: i64| {
        s.and_then(|s| s.trafo_loading_percent.iter().find(|x| x.0 == i))
            .and_then(|x| finite(x.1))
    };
    FeederDetailDto {
        summary: summary(f),
        buses: net
            .bus
            .iter()
            .map(|b| BusDto {
                index: b.index,
                name: b.name.clone(),
                vn_kv: b.vn_kv,
                vm_pu: vm(b.index),
                position: f.twin.bus_lonlat.get(&b.index).map(|p| vec![p.0, p.1]),
            })
            .collect(),
        lines: net
            .line
            .iter()
            .map(|l| BranchDto {
                index: l.index,
                from_bus: l.from_bus,
                to_bus: l.to_bus,
                length_km: Some(l.length_km),
                parallel: Some(l.parallel),
                loading_pct: line_ld(l.index),
            })
            .collect(),
        trafos: net
            .trafo
            .iter()
            .map(|t| BranchDto {
                index: t.index,
                from_bus: t.hv_bus,
                to_bus: t.lv_bus,
                length_km: None,
                parallel: None,
                loading_pct: trafo_ld(t.index),
            })
            .collect(),
        violation_list: s.map_or_else(Vec::new, |s| {
            s.violations
                .iter()
                .map(|v| ViolationDto {
                    kind: snake(&v.kind),
                    severity: snake(&v.severity),
                    element: v.element,
                    value: v.value,
                    limit: v.limit,
                })
                .collect()
        }),
    }
}

/// Response format of the feeder list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct FeedersQuery {
    /// `json` (default) or `geojson` (the same as `/api/v1/energy/feeders.geojson`).
    pub format: Option<String>,
}

fn geojson(feeders: &[FeederLive]) -> Response {
    let mut features = Vec::new();
    for f in feeders {
        let s = f.state.as_ref().map(|(_, s)| s);
        let props = serde_json::to_value(summary(f)).unwrap_or(Value::Null);
        // the feeder's summary at its substation
        if let Some(p) = f.twin.bus_lonlat.get(&0) {
            features.push(json!({
                "type": "Feature",
                "id": f.twin.id,
                "geometry": {"type": "Point", "coordinates": [p.0, p.1]},
                "properties": props,
            }));
        }
        // each cable with its loading
        for l in &f.twin.net.line {
            let (Some(a), Some(b)) = (
                f.twin.bus_lonlat.get(&l.from_bus),
                f.twin.bus_lonlat.get(&l.to_bus),
            ) else {
                continue;
            };
            let loading = s
                .and_then(|s| s.line_loading_percent.iter().find(|x| x.0 == l.index))
                .and_then(|x| finite(x.1));
            let vm_to = s
                .and_then(|s| s.vm_pu.iter().find(|x| x.0 == l.to_bus))
                .and_then(|x| finite(x.1));
            features.push(json!({
                "type": "Feature",
                "id": format!("{}#line-{}", f.twin.id, l.index),
                "geometry": {"type": "LineString", "coordinates": [[a.0, a.1], [b.0, b.1]]},
                "properties": {
                    "feeder": f.twin.id, "line": l.index, "length_km": l.length_km,
                    "parallel": l.parallel, "loading_pct": loading, "vm_to_pu": vm_to,
                },
            }));
        }
    }
    (
        [(header::CONTENT_TYPE, "application/geo+json")],
        Json(json!({"type": "FeatureCollection", "features": features})),
    )
        .into_response()
}

/// `GET /api/v1/energy/feeders`: every feeder's live power-flow summary
/// (loading, voltage range, losses, violations, low-carbon figures);
/// `?format=geojson` gives the map layer of `/api/v1/energy/feeders.geojson`.
#[utoipa::path(get, path = "/api/v1/energy/feeders", tag = "energy",
    params(FeedersQuery),
    responses(
        (status = 200, description = "Feeders in id order", body = [FeederSummaryDto]),
        (status = 400, description = "Bad format", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn feeders(
    State(s): State<AppState>,
    q: Result<Query<FeedersQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let list = s.energy.feeders();
    match q.format.as_deref() {
        None | Some("json") => {
            Ok(Json(list.iter().map(summary).collect::<Vec<_>>()).into_response())
        }
        Some("geojson") => Ok(geojson(&list)),
        Some(other) => Err(ApiError::BadRequestData(format!(
            "format {other:?} is not json or geojson"
        ))),
    }
}

/// `GET /api/v1/energy/feeders.geojson`: feeders as GeoJSON, a Point at each
/// substation with the summary and a LineString per cable with its loading.
#[utoipa::path(get, path = "/api/v1/energy/feeders.geojson", tag = "energy",
    responses(
        (status = 200, description = "FeatureCollection of Points and LineStrings", body = Object, content_type = "application/geo+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn feeders_geojson(State(s): State<AppState>) -> Response {
    geojson(&s.energy.feeders())
}

/// `GET /api/v1/energy/feeders/{id}`: one feeder's live state with per-bus
/// voltages, per-line and transformer loadings and the violations.
#[utoipa::path(get, path = "/api/v1/energy/feeders/{id}", tag = "energy",
    params(("id" = String, Path, description = "Feeder entity id")),
    responses(
        (status = 200, description = "The feeder", body = FeederDetailDto),
        (status = 404, description = "No such feeder", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn feeder(
    State(s): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> ApiResult<Json<FeederDetailDto>> {
    let Path(id) = id?;
    let f = s
        .energy
        .feeder(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no feeder {id}")))?;
    Ok(Json(detail(&f)))
}
