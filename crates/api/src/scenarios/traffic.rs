//! Traffic runs: the twin's roads (`engine_traffic::network_from_twin`) with
//! generated demand, the planner's closures, capacity changes, demand scale
//! and signal cycle as an `engine_traffic::Scenario`.

use std::collections::BTreeMap;

use domain::EntityKind;
use engine_traffic::{
    CapacityChange, Closure, DemandChange, Network, Params, Report, Scenario, SignalChange,
    TWIN_SIGNAL_CYCLE_S, Window, generated_demand, network_from_twin, simulation,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use twin::TwinSnapshot;
use utoipa::ToSchema;

use super::{
    Better, Control, KpiDef, Outcome, Phase, RunResult, RunSpec, Stop, bad_field, drive, geometry,
    in_range, kpi_rows, parse_variant,
};
use crate::ApiError;

/// `(default, min, max)` horizon, s.
pub(crate) const HORIZON_S: (u64, u64, u64) = (3600, 60, 14_400);

/// Generated demand per lane-kilometre of the network, vehicles per hour:
/// a moderately loaded network (see `docs/specs/http-api.md`).
pub const VEH_PER_LANE_KM_H: f64 = 40.0;
/// Bounds of the generated demand, vehicles per hour.
pub const DEMAND_VEH_H: (f64, f64) = (200.0, 2500.0);

/// A road closed over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoadClosure {
    /// Road (twin entity id).
    pub road: String,
    /// Start, s from the run start (default 0).
    #[serde(default)]
    pub from_s: Option<f64>,
    /// End, s (default: the horizon).
    #[serde(default)]
    pub to_s: Option<f64>,
}

/// A road's capacity scaled over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoadCapacity {
    /// Road (twin entity id).
    pub road: String,
    /// Multiplier on its capacity (0.5 = half), 0..=10.
    pub factor: f64,
    /// Start, s (default 0).
    #[serde(default)]
    pub from_s: Option<f64>,
    /// End, s (default: the horizon).
    #[serde(default)]
    pub to_s: Option<f64>,
}

/// The traffic what-if.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TrafficVariant {
    /// Closed roads.
    pub closures: Vec<RoadClosure>,
    /// Capacity changes.
    pub capacity: Vec<RoadCapacity>,
    /// Multiplier on the number of trips, 0..=5.
    pub demand_scale: Option<f64>,
    /// Cycle of every signal plan, s (30..=300; the twin's plans have 90 s).
    pub signal_cycle_s: Option<f64>,
}

/// A validated traffic run.
#[derive(Debug)]
pub(crate) struct Job {
    snap: TwinSnapshot,
    seed: u64,
    horizon_s: u32,
    scenario: Scenario,
}

fn window(
    field: &str,
    from_s: Option<f64>,
    to_s: Option<f64>,
    horizon_s: f64,
) -> Result<Window, ApiError> {
    let from = in_range(
        &format!("{field}.from_s"),
        from_s.unwrap_or(0.0),
        0.0,
        horizon_s,
    )?;
    let to = to_s
        .map(|t| in_range(&format!("{field}.to_s"), t, 0.0, f64::MAX))
        .transpose()?;
    if to.is_some_and(|t| t <= from) {
        return Err(bad_field(field, "to_s must be after from_s"));
    }
    Ok(Window {
        from_s: from,
        to_s: to,
    })
}

fn road(snap: &TwinSnapshot, field: &str, id: &str) -> Result<String, ApiError> {
    match snap.entity(id) {
        Some(e) if e.kind == EntityKind::RoadSegment => Ok(id.to_string()),
        _ => Err(bad_field(field, format!("no road {id:?} in the twin"))),
    }
}

/// Validates the variant against the snapshot.
pub(crate) fn plan(spec: &RunSpec, snap: &TwinSnapshot) -> Result<Job, ApiError> {
    let v: TrafficVariant = parse_variant(&spec.variant)?;
    #[allow(clippy::cast_precision_loss)]
    let h = spec.horizon_s as f64;
    let mut sc = Scenario {
        name: Some(spec.name.clone()),
        ..Scenario::default()
    };
    for (i, c) in v.closures.iter().enumerate() {
        let f = format!("variant.closures[{i}]");
        sc.closures.push(Closure {
            link: road(snap, &format!("{f}.road"), &c.road)?,
            window: window(&f, c.from_s, c.to_s, h)?,
        });
    }
    for (i, c) in v.capacity.iter().enumerate() {
        let f = format!("variant.capacity[{i}]");
        sc.capacity.push(CapacityChange {
            link: road(snap, &format!("{f}.road"), &c.road)?,
            factor: in_range(&format!("{f}.factor"), c.factor, 0.0, 10.0)?,
            window: window(&f, c.from_s, c.to_s, h)?,
        });
    }
    if let Some(s) = v.demand_scale {
        sc.demand = DemandChange {
            scale: in_range("variant.demand_scale", s, 0.0, 5.0)?,
            shift_s: 0.0,
        };
    }
    if let Some(c) = v.signal_cycle_s {
        let c = in_range("variant.signal_cycle_s", c, 30.0, 300.0)?;
        let signalised = snap
            .entities_of(EntityKind::Intersection)
            .any(|e| matches!(&e.attrs, twin::EntityAttrs::Intersection(i) if i.signalised));
        if !signalised {
            return Err(bad_field(
                "variant.signal_cycle_s",
                "the twin has no signalised intersection",
            ));
        }
        sc.signals.push(SignalChange {
            node: "*".into(),
            phase_durations_s: BTreeMap::new(),
            cycle_scale: Some(c / TWIN_SIGNAL_CYCLE_S),
            offset_s: None,
        });
    }
    if snap.entity_count(EntityKind::RoadSegment) < 2 {
        return Err(ApiError::Unprocessable(
            "engine: the twin has fewer than two roads to simulate".into(),
        ));
    }
    Ok(Job {
        snap: snap.clone(),
        seed: spec.seed,
        horizon_s: u32::try_from(spec.horizon_s).unwrap_or(u32::MAX),
        scenario: sc,
    })
}

/// The generated demand of a network, vehicles per hour:
/// [`VEH_PER_LANE_KM_H`] per lane-km within [`DEMAND_VEH_H`].
pub fn demand_veh_per_hour(net: &Network) -> f64 {
    let lane_km: f64 = net
        .links()
        .iter()
        .map(|l| l.length_m / 1000.0 * f64::from(l.lanes))
        .sum();
    (lane_km * VEH_PER_LANE_KM_H).clamp(DEMAND_VEH_H.0, DEMAND_VEH_H.1)
}

const KPIS: &[KpiDef] = &[
    KpiDef {
        id: "avg_travel_time_s",
        name: "Average travel time",
        unit: "s",
        better: Better::Lower,
    },
    KpiDef {
        id: "mean_delay_s",
        name: "Mean delay",
        unit: "s",
        better: Better::Lower,
    },
    KpiDef {
        id: "travel_time_index",
        name: "Travel time index",
        unit: "ratio",
        better: Better::Lower,
    },
    KpiDef {
        id: "mean_speed_kmh",
        name: "Mean speed",
        unit: "km/h",
        better: Better::Higher,
    },
    KpiDef {
        id: "completed_trips",
        name: "Completed trips",
        unit: "veh",
        better: Better::Higher,
    },
    KpiDef {
        id: "unserved_vehicles",
        name: "Unserved vehicles",
        unit: "veh",
        better: Better::Lower,
    },
    KpiDef {
        id: "vkt_km",
        name: "Vehicle-kilometres travelled",
        unit: "km",
        better: Better::Lower,
    },
    KpiDef {
        id: "vht_h",
        name: "Vehicle-hours travelled",
        unit: "h",
        better: Better::Lower,
    },
    KpiDef {
        id: "co2_kg",
        name: "CO2 emissions",
        unit: "kg",
        better: Better::Lower,
    },
    KpiDef {
        id: "teleports",
        name: "Gridlock teleports",
        unit: "veh",
        better: Better::Lower,
    },
];

fn one(
    net: &Network,
    demand: &engine_traffic::Demand,
    sc: &Scenario,
    job: &Job,
    ctl: &Control,
    phase: Phase,
    span: (f64, f64),
) -> Result<Report, Stop> {
    let params = Params {
        record_vehicles: false,
        ..Params::default()
    };
    let mut sim = simulation(net, demand, sc, &params, job.seed, job.horizon_s)
        .map_err(|e| Stop::Failed(e.to_string()))?;
    let mut sched = sim.scheduler();
    let h = sim.horizon();
    drive(&mut sim, &mut sched, h, ctl, phase, span)?;
    Ok(scenario::Engine::outcome(&sim))
}

/// Mean speed of each link over the run, km/h: bins weighted by entries.
fn link_speeds(r: &Report) -> BTreeMap<&str, f64> {
    r.links
        .iter()
        .filter_map(|l| {
            let (w, s) = l
                .bins
                .iter()
                .filter_map(|b| b.mean_speed_kmh.map(|v| (f64::from(b.entered.max(1)), v)))
                .fold((0.0, 0.0), |(w, s), (bw, v)| (w + bw, s + bw * v));
            (w > 0.0).then(|| (l.id.as_str(), s / w))
        })
        .collect()
}

fn report_json(r: &Report) -> Value {
    // per-link bins are on the map; the report keeps its KPIs
    let mut r = r.clone();
    r.links.clear();
    serde_json::to_value(&r).unwrap_or(Value::Null)
}

/// Runs the baseline and the variant.
pub(crate) fn run(job: &Job, ctl: &Control) -> Result<Outcome, Stop> {
    ctl.check(Phase::Baseline, 0.0)?;
    let net = network_from_twin(job.snap.entities()).map_err(|e| Stop::Failed(e.to_string()))?;
    let demand = generated_demand(
        &net,
        demand_veh_per_hour(&net),
        f64::from(job.horizon_s),
        job.seed,
    );
    let b = one(
        &net,
        &demand,
        &Scenario::default(),
        job,
        ctl,
        Phase::Baseline,
        (0.0, 0.5),
    )?;
    let v = one(
        &net,
        &demand,
        &job.scenario,
        job,
        ctl,
        Phase::Variant,
        (0.5, 0.95),
    )?;
    ctl.check(Phase::Compare, 0.95)?;
    let kpis = kpi_rows(KPIS, &b.kpis.to_map(), &v.kpis.to_map());
    let (sb, sv) = (link_speeds(&b), link_speeds(&v));
    let features = net
        .links()
        .iter()
        .filter_map(|l| {
            let e = job.snap.entity(&l.id)?;
            let (base, var) = (sb.get(l.id.as_str()), sv.get(l.id.as_str()));
            let delta = base.zip(var).map(|(a, b)| b - a);
            Some(json!({
                "type": "Feature",
                "geometry": geometry(&e.geometry),
                "properties": {
                    "id": l.id,
                    "name": e.name,
                    "metric": "mean_speed_kmh",
                    "baseline": base,
                    "variant": var,
                    "delta": delta,
                },
            }))
        })
        .collect();
    Ok(Outcome {
        result: RunResult {
            kpis,
            baseline: report_json(&b),
            variant: report_json(&v),
        },
        features,
    })
}
