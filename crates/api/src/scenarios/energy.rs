//! Energy runs: one documented synthetic low-voltage feeder per twin feeder
//! (`engine_energy::synthetic_feeder`: one 20/0.4 kV substation and an LV
//! tree with one household bus per supplied building, between
//! [`LV_BUSES`] bounds), a study (`engine_energy::run_study`) with the
//! default load and PV shapes, and the planner's PV, EV chargers, battery and
//! demand growth as its one variant. City KPIs add up the feeders (energies,
//! peaks) or take the worst one (loadings, voltages).

use std::collections::BTreeMap;

use domain::EntityKind;
use engine_energy::{
    AddBattery, AddEv, AddPv, Battery, BatteryScope, Controller, Limits, Network, RunReport,
    StudyInputs, StudySpec, SyntheticSpec, WhatIf, run_study, synthetic_feeder,
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
/// LV buses of a synthetic feeder: one per building, within these bounds.
pub const LV_BUSES: (usize, usize) = (4, 40);
/// Emission factor of the studies (see `docs/specs/emission-factors.md`).
pub const EMISSION_FACTOR: &str = "CN-2022-national";

/// The energy what-if.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EnergyVariant {
    /// Rooftop PV added on every building (household bus), kWp (0..=100).
    pub pv_kwp_per_building: Option<f64>,
    /// EV chargers (7 kW, one evening session a day) spread over the
    /// feeders' household buses, round robin (0..=10,000).
    pub ev_chargers: Option<u32>,
    /// A community battery at every feeder's LV busbar, kWh (0..=100,000);
    /// power is half the capacity per hour, peak shaving with foresight.
    pub battery_kwh: Option<f64>,
    /// Multiplier on every load (1.1 = +10 %, 0.1..=5).
    pub demand_growth: Option<f64>,
}

/// One twin feeder and its synthetic network.
#[derive(Debug)]
struct Feeder {
    id: String,
    net: Network,
    /// Household (load) buses.
    buses: Vec<i64>,
    /// LV busbar.
    busbar: i64,
}

/// A validated energy run.
#[derive(Debug)]
pub(crate) struct Job {
    snap: TwinSnapshot,
    feeders: Vec<Feeder>,
    steps: usize,
    seed: u64,
    variant: Vec<WhatIf>,
}

/// Builds the feeders and checks the variant.
pub(crate) fn plan(spec: &RunSpec, snap: &TwinSnapshot) -> Result<Job, ApiError> {
    let v: EnergyVariant = parse_variant(&spec.variant)?;
    let mut buildings: BTreeMap<String, usize> = BTreeMap::new();
    for e in snap.entities_of(EntityKind::Building) {
        if let twin::EntityAttrs::Building(b) = &e.attrs
            && let Some(f) = &b.feeder
        {
            *buildings.entry(f.to_string()).or_insert(0) += 1;
        }
    }
    let feeders: Vec<Feeder> = snap
        .entities_of(EntityKind::Feeder)
        .enumerate()
        .map(|(i, e)| {
            let n = buildings
                .get(e.id.as_str())
                .copied()
                .unwrap_or(0)
                .clamp(LV_BUSES.0, LV_BUSES.1);
            let net = synthetic_feeder(&SyntheticSpec {
                substations: 1,
                lv_buses: n,
                seed: spec.seed.wrapping_mul(1_000_003).wrapping_add(i as u64),
            });
            let buses = net.load.iter().map(|l| l.bus).collect();
            let busbar = net.trafo.first().map_or(0, |t| t.lv_bus);
            Feeder {
                id: e.id.to_string(),
                net,
                buses,
                busbar,
            }
        })
        .collect();
    if feeders.is_empty() {
        return Err(ApiError::Unprocessable(
            "engine: the twin has no feeder to simulate".into(),
        ));
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
    let mut chargers: Vec<Vec<i64>> = vec![Vec::new(); feeders.len()];
    for k in 0..ev as usize {
        let fi = k % feeders.len();
        let f = &feeders[fi];
        chargers[fi].push(f.buses[(k / feeders.len()) % f.buses.len()]);
    }
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
    let import = sum(&|r| r.kpis.grid_import_kwh);
    let mut m = BTreeMap::new();
    m.insert("peak_import_kw".into(), sum(&|r| r.kpis.peak_import_kw));
    m.insert("grid_import_kwh".into(), import);
    m.insert("grid_export_kwh".into(), sum(&|r| r.kpis.grid_export_kwh));
    m.insert("load_kwh".into(), load);
    m.insert("pv_yield_kwh".into(), sum(&|r| r.kpis.pv_yield_kwh));
    m.insert(
        "self_sufficiency".into(),
        if load > 0.0 {
            (1.0 - import / load).clamp(0.0, 1.0)
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
            .map(|(f, r)| json!({"id": f.id, "run": r}))
            .collect();
        json!({
            "steps": job.steps,
            "step_hours": 0.25,
            "emission_factor": EMISSION_FACTOR,
            "kpis": m,
            "feeders": feeders,
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
