//! Energy runs on the twin's own feeders: the networks the operations centre
//! watches live (`engine_energy::feeder_networks`: a 0.4 kV busbar behind
//! the MV/LV substation at the feeder head, bus 1, and one bus per supplied
//! building along the buildings' spanning tree, cables sized for their design
//! load), a study (`engine_energy::run_study`) with the default load and PV
//! shapes, and the planner's PV, EV chargers, battery and demand growth as
//! its one variant. City KPIs add up the feeders (energies, peaks) or take
//! the worst one (loadings, voltages); the city's self-sufficiency is the PV
//! energy used on the feeders (yield − export) over their load.
//!
//! # Loads
//! The twin networks carry no loads; every building bus gets one, named by
//! the building id: the building's design load
//! (`engine_energy::building_design_kw`: floor area × 30 W/m², at least
//! 5 kW, the value the substation rating and the cables are sized for) ×
//! [`DIVERSITY`], at cos φ [`COS_PHI`]. `run_study` multiplies each load by
//! `engine_energy::default_load_shape`, a residential day whose evening peak
//! is ≈ 1.0 in January (0.75 in July), so a building peaks at about 60 % of
//! its design load (18 W/m²; ≈ 1.3 kW for a 70 m² flat, within the 1-2 kW
//! after-diversity maximum demand per dwelling used for LV planning) and a
//! feeder's transformer, rated at 1.3 × the design load, at about 50 % on a
//! winter evening. The run starts on 1 January at midnight.
//!
//! # Variant
//! PV (`pv_kwp_per_building`) on every building bus; EV chargers
//! (`ev_chargers`) round robin over the buildings, one building of each
//! feeder in turn (the first building of every feeder, then the second, ...);
//! a community battery (`battery_kwh`) at every feeder's LV busbar; demand
//! growth on every load. The baseline has no PV: the twin knows PV inverters'
//! readings, not their ratings.
//!
//! Feeders that supply no building have no network and are skipped; the
//! reports list them (`skipped_feeders`). A twin without any feeder that
//! supplies a building cannot run (422).

use std::collections::BTreeMap;

use domain::EntityKind;
use engine_energy::{
    AddBattery, AddEv, AddPv, Battery, BatteryScope, Controller, Limits, Load, Network, RunReport,
    StudyInputs, StudySpec, TwinFeeder, WhatIf, building_design_kw, feeder_networks, run_study,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use twin::TwinSnapshot;
use utoipa::ToSchema;

use super::{
    Better, Control, KpiDef, Outcome, Phase, RunResult, RunSpec, Stop, bad_field, geometry,
    in_range, kpi_rows, parse_variant,
};
use crate::ApiError;

/// `(default, min, max)` horizon, s: a day, from 15 minutes to a week.
pub(crate) const HORIZON_S: (u64, u64, u64) = (86_400, 900, 604_800);
/// Step of the studies, s.
pub const STEP_S: u64 = 900;
/// A building's load before the daily shape, as a share of its design load
/// (the after-diversity peak; see the module docs).
pub const DIVERSITY: f64 = 0.6;
/// Power factor of the building loads.
pub const COS_PHI: f64 = 0.95;
/// Emission factor of the studies (see `docs/specs/emission-factors.md`).
pub const EMISSION_FACTOR: &str = "CN-2022-national";

/// The energy what-if.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EnergyVariant {
    /// Rooftop PV added on every building supplied by a feeder, kWp (0..=100).
    pub pv_kwp_per_building: Option<f64>,
    /// EV chargers (7 kW, one evening session a day) spread over the
    /// feeders' buildings, round robin (0..=10,000).
    pub ev_chargers: Option<u32>,
    /// A community battery at every feeder's LV busbar, kWh (0..=100,000);
    /// power is half the capacity per hour, peak shaving with foresight.
    pub battery_kwh: Option<f64>,
    /// Multiplier on every load (1.1 = +10 %, 0.1..=5).
    pub demand_growth: Option<f64>,
}

/// One twin feeder, its network with the building loads, and its buses.
#[derive(Debug)]
struct Feeder {
    id: String,
    net: Network,
    /// Building buses, in building-id order.
    buses: Vec<i64>,
    /// LV busbar (the substation's low side).
    busbar: i64,
}

/// A validated energy run.
#[derive(Debug)]
pub(crate) struct Job {
    snap: TwinSnapshot,
    feeders: Vec<Feeder>,
    /// Feeders of the twin that supply no building, in id order.
    skipped: Vec<String>,
    steps: usize,
    seed: u64,
    variant: Vec<WhatIf>,
}

/// The twin feeder's network with one load per building (see the module docs).
fn with_loads(t: TwinFeeder, snap: &TwinSnapshot) -> Feeder {
    let TwinFeeder {
        id,
        mut net,
        building_bus,
        ..
    } = t;
    let tan_phi = (1.0 - COS_PHI * COS_PHI).sqrt() / COS_PHI;
    for (b, &bus) in &building_bus {
        let kw = snap
            .entity(b)
            .map_or(engine_energy::MIN_DESIGN_KW, building_design_kw)
            * DIVERSITY;
        let index = i64::try_from(net.load.len()).unwrap_or(i64::MAX);
        net.load.push(Load::constant_power(
            index,
            b.clone(),
            bus,
            kw / 1000.0,
            kw * tan_phi / 1000.0,
        ));
    }
    let buses = net.load.iter().map(|l| l.bus).collect();
    let busbar = net.trafo.first().map_or(1, |t| t.lv_bus);
    Feeder {
        id,
        net,
        buses,
        busbar,
    }
}

/// Charger `k` of `n`: round robin over the feeders' buildings, one
/// building of each feeder in turn. Returns the buses per feeder.
fn place_chargers(feeders: &[Feeder], n: usize) -> Vec<Vec<i64>> {
    let deepest = feeders.iter().map(|f| f.buses.len()).max().unwrap_or(0);
    let order: Vec<(usize, i64)> = (0..deepest)
        .flat_map(|j| {
            feeders
                .iter()
                .enumerate()
                .filter_map(move |(fi, f)| f.buses.get(j).map(|&b| (fi, b)))
        })
        .collect();
    let mut out = vec![Vec::new(); feeders.len()];
    if order.is_empty() {
        return out;
    }
    for k in 0..n {
        let (fi, b) = order[k % order.len()];
        out[fi].push(b);
    }
    out
}

/// Builds the feeders and checks the variant.
pub(crate) fn plan(spec: &RunSpec, snap: &TwinSnapshot) -> Result<Job, ApiError> {
    let v: EnergyVariant = parse_variant(&spec.variant)?;
    let twin_feeders = feeder_networks(
        snap.entities_of(EntityKind::Feeder)
            .chain(snap.entities_of(EntityKind::Building)),
    );
    let mut skipped: Vec<String> = snap
        .entities_of(EntityKind::Feeder)
        .map(|e| e.id.to_string())
        .filter(|id| !twin_feeders.iter().any(|t| &t.id == id))
        .collect();
    skipped.sort();
    let feeders: Vec<Feeder> = twin_feeders
        .into_iter()
        .map(|t| with_loads(t, snap))
        .collect();
    if feeders.is_empty() {
        return Err(ApiError::Unprocessable(if skipped.is_empty() {
            "engine: the twin has no feeder to simulate".into()
        } else {
            format!(
                "engine: none of the twin's {} feeders supplies a building",
                skipped.len()
            )
        }));
    }
    let pv = v
        .pv_kwp_per_building
        .map(|x| in_range("variant.pv_kwp_per_building", x, 0.0, 100.0))
        .transpose()?;
    let ev = v.ev_chargers.unwrap_or(0);
    if ev > 10_000 {
        return Err(bad_field(
            "variant.ev_chargers",
            format!("{ev} is above 10000"),
        ));
    }
    let battery = v
        .battery_kwh
        .map(|x| in_range("variant.battery_kwh", x, 0.0, 100_000.0))
        .transpose()?;
    let growth = v
        .demand_growth
        .map(|x| in_range("variant.demand_growth", x, 0.1, 5.0))
        .transpose()?;
    let chargers = place_chargers(&feeders, ev as usize);
    let variant = feeders
        .iter()
        .zip(chargers)
        .map(|(f, ch)| WhatIf {
            name: "variant".into(),
            demand_growth: growth.map_or(0.0, |g| g - 1.0),
            add_pv: pv
                .filter(|&k| k > 0.0)
                .map(|kwp| f.buses.iter().map(|&bus| AddPv { bus, kwp }).collect())
                .unwrap_or_default(),
            add_ev: if ch.is_empty() {
                Vec::new()
            } else {
                vec![AddEv {
                    buses: ch,
                    fleet: engine_energy::EvFleet::default(),
                    strategy: engine_energy::ChargingStrategy::default(),
                }]
            },
            add_battery: battery
                .filter(|&k| k > 0.0)
                .map(|kwh| {
                    vec![AddBattery {
                        bus: f.busbar,
                        battery: Battery {
                            capacity_kwh: kwh,
                            soc_min_kwh: 0.0,
                            power_kw: kwh / 2.0,
                            eta_charge: 0.95,
                            eta_discharge: 0.95,
                            soc0_kwh: kwh / 2.0,
                        },
                        controller: Controller::PeakShavingOptimal,
                        scope: BatteryScope::Feeder,
                    }]
                })
                .unwrap_or_default(),
            controller: None,
        })
        .collect();
    Ok(Job {
        snap: snap.clone(),
        feeders,
        skipped,
        steps: usize::try_from(spec.horizon_s.div_ceil(STEP_S)).unwrap_or(1),
        seed: spec.seed,
        variant,
    })
}

const KPIS: &[KpiDef] = &[
    KpiDef {
        id: "peak_import_kw",
        name: "Peak import (sum of feeders)",
        unit: "kW",
        better: Better::Lower,
    },
    KpiDef {
        id: "grid_import_kwh",
        name: "Energy imported",
        unit: "kWh",
        better: Better::Lower,
    },
    KpiDef {
        id: "grid_export_kwh",
        name: "Energy exported",
        unit: "kWh",
        better: Better::Lower,
    },
    KpiDef {
        id: "load_kwh",
        name: "Energy consumed",
        unit: "kWh",
        better: Better::Lower,
    },
    KpiDef {
        id: "pv_yield_kwh",
        name: "PV yield",
        unit: "kWh",
        better: Better::Higher,
    },
    KpiDef {
        id: "self_sufficiency",
        name: "Self-sufficiency",
        unit: "ratio",
        better: Better::Higher,
    },
    KpiDef {
        id: "losses_kwh",
        name: "Losses",
        unit: "kWh",
        better: Better::Lower,
    },
    KpiDef {
        id: "trafo_loading_max_percent",
        name: "Largest transformer loading",
        unit: "%",
        better: Better::Lower,
    },
    KpiDef {
        id: "line_loading_max_percent",
        name: "Largest line loading",
        unit: "%",
        better: Better::Lower,
    },
    KpiDef {
        id: "vm_min_pu",
        name: "Lowest voltage",
        unit: "pu",
        better: Better::Higher,
    },
    KpiDef {
        id: "vm_max_pu",
        name: "Highest voltage",
        unit: "pu",
        better: Better::Lower,
    },
    KpiDef {
        id: "co2_kg",
        name: "CO2 of imports",
        unit: "kg",
        better: Better::Lower,
    },
    KpiDef {
        id: "ev_unmet_kwh",
        name: "EV energy not delivered",
        unit: "kWh",
        better: Better::Lower,
    },
];

/// City KPIs of the feeders' runs.
fn city(runs: &[RunReport]) -> BTreeMap<String, f64> {
    let sum = |f: &dyn Fn(&RunReport) -> f64| runs.iter().map(f).sum::<f64>();
    let max = |f: &dyn Fn(&RunReport) -> f64| runs.iter().map(f).fold(f64::NEG_INFINITY, f64::max);
    let load = sum(&|r| r.kpis.load_kwh);
    let mut m = BTreeMap::new();
    m.insert("peak_import_kw".into(), sum(&|r| r.kpis.peak_import_kw));
    m.insert("grid_import_kwh".into(), sum(&|r| r.kpis.grid_import_kwh));
    m.insert("grid_export_kwh".into(), sum(&|r| r.kpis.grid_export_kwh));
    m.insert("load_kwh".into(), load);
    m.insert("pv_yield_kwh".into(), sum(&|r| r.kpis.pv_yield_kwh));
    // PV used on the feeders over their load: `1 - import / load` would
    // count the cable and transformer losses as load not covered
    let pv_used = sum(&|r| r.kpis.pv_yield_kwh - r.kpis.grid_export_kwh);
    m.insert(
        "self_sufficiency".into(),
        if load > 0.0 {
            (pv_used / load).clamp(0.0, 1.0)
        } else {
            0.0
        },
    );
    m.insert("losses_kwh".into(), sum(&|r| r.kpis.losses_kwh));
    m.insert(
        "trafo_loading_max_percent".into(),
        max(&|r| r.kpis.trafo_loading_max_percent),
    );
    m.insert(
        "line_loading_max_percent".into(),
        max(&|r| r.kpis.line_loading_max_percent),
    );
    m.insert("vm_min_pu".into(), -max(&|r| -r.kpis.vm_min_pu));
    m.insert("vm_max_pu".into(), max(&|r| r.kpis.vm_max_pu));
    m.insert("co2_kg".into(), sum(&|r| r.kpis.co2_kg));
    m.insert("ev_unmet_kwh".into(), sum(&|r| r.ev_unmet_kwh));
    m
}

fn loading(r: &engine_energy::RunReport) -> f64 {
    r.kpis
        .trafo_loading_max_percent
        .max(r.kpis.line_loading_max_percent)
}

/// One study run of every feeder: the baseline, or the variant's edits.
fn runs(job: &Job, variant: bool, ctl: &Control) -> Result<Vec<RunReport>, Stop> {
    let n = job.feeders.len();
    let (phase, lo) = if variant {
        (Phase::Variant, 0.5)
    } else {
        (Phase::Baseline, 0.0)
    };
    let mut out = Vec::with_capacity(n);
    for (i, (f, w)) in job.feeders.iter().zip(&job.variant).enumerate() {
        #[allow(clippy::cast_precision_loss)]
        ctl.check(phase, lo + 0.45 * i as f64 / n as f64)?;
        let spec = StudySpec {
            name: f.id.clone(),
            network: String::new(),
            element_series: None,
            weather: None,
            steps: Some(job.steps),
            emission_factor: EMISSION_FACTOR.into(),
            limits: Limits::default(),
            seed: job.seed,
            // the variant's edits as the study's baseline: one run each
            baseline: if variant {
                w.clone()
            } else {
                WhatIf {
                    name: "baseline".into(),
                    ..WhatIf::default()
                }
            },
            variants: Vec::new(),
        };
        let inputs = StudyInputs {
            network: f.net.clone(),
            series: None,
            pv_kw_per_kwp: None,
        };
        let r = run_study(&spec, &inputs, &mut scenario::NoProgress)
            .map_err(|e| Stop::Failed(format!("feeder {}: {e}", f.id)))?;
        out.push(r.baseline);
    }
    Ok(out)
}

/// Runs every feeder's baseline, then every feeder's variant.
pub(crate) fn run(job: &Job, ctl: &Control) -> Result<Outcome, Stop> {
    let b = runs(job, false, ctl)?;
    let v = runs(job, true, ctl)?;
    ctl.check(Phase::Compare, 0.95)?;
    let (cb, cv) = (city(&b), city(&v));
    let kpis = kpi_rows(KPIS, &cb, &cv);
    let features = job
        .feeders
        .iter()
        .zip(b.iter().zip(&v))
        .filter_map(|(f, (rb, rv))| {
            let e = job.snap.entity(&f.id)?;
            let (base, var) = (loading(rb), loading(rv));
            Some(json!({
                "type": "Feature",
                "geometry": geometry(&geo::Geometry::Point(e.representative_point())),
                "properties": {
                    "id": f.id,
                    "name": e.name,
                    "metric": "max_loading_pct",
                    "baseline": base,
                    "variant": var,
                    "delta": var - base,
                },
            }))
        })
        .collect();
    let report = |runs: &[RunReport], m: &BTreeMap<String, f64>| {
        let feeders: Vec<Value> = job
            .feeders
            .iter()
            .zip(runs)
            .map(|(f, r)| json!({"id": f.id, "buildings": f.buses.len(), "run": r}))
            .collect();
        json!({
            "steps": job.steps,
            "step_hours": 0.25,
            "emission_factor": EMISSION_FACTOR,
            "kpis": m,
            "feeders": feeders,
            "skipped_feeders": job.skipped,
        })
    };
    Ok(Outcome {
        result: RunResult {
            kpis,
            baseline: report(&b, &cb),
            variant: report(&v, &cv),
        },
        features,
    })
}

#[cfg(test)]
mod tests;
