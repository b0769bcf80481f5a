//! Feeder studies: a baseline time series and what-if variants, with KPI
//! deltas (`scenario::compare`).
//!
//! A study is described by a [`StudySpec`] (JSON). The pure part here takes
//! the network, optional measured element series and an optional PV profile
//! already parsed; the CLI reads the files.

use serde::{Deserialize, Serialize};

use crate::battery::{Battery, Controller, simulate};
use crate::emission::emission_factor;
use crate::error::PfError;
use crate::ev::{ChargingStrategy, EvFleet, schedule, synthetic_sessions};
use crate::kpi::{KpiAccumulator, Kpis, Limits};
use crate::network::{Load, Network, Sgen, Storage};
use crate::powerflow::PfOptions;
use crate::timeseries::{ElementSeries, STEP_HOURS, run_series};

/// PV added at a bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddPv {
    /// pandapower bus index.
    pub bus: i64,
    /// DC rating, kWp.
    pub kwp: f64,
}

/// EV chargers added at buses, one synthetic session per charger per day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddEv {
    /// Buses that get one charger each (repeat a bus for several).
    pub buses: Vec<i64>,
    /// Session statistics.
    #[serde(default)]
    pub fleet: EvFleet,
    /// Charging strategy.
    #[serde(default)]
    pub strategy: ChargingStrategy,
}

/// Which net demand a battery controller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatteryScope {
    /// The feeder's total (loads + EV + storage so far − PV): community storage.
    #[default]
    Feeder,
    /// Only the elements at its own bus: a home battery behind the meter.
    Bus,
}

/// A battery added at a bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddBattery {
    /// pandapower bus index.
    pub bus: i64,
    /// Ratings.
    pub battery: Battery,
    /// Control strategy.
    pub controller: Controller,
    /// Which demand the controller sees.
    #[serde(default)]
    pub scope: BatteryScope,
}

/// Edits that turn the baseline into a variant. Applied in this order:
/// demand growth, PV, EV, batteries (which see everything before them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WhatIf {
    /// Name shown in the report.
    pub name: String,
    /// Relative growth of every load (0.1 = +10 %).
    pub demand_growth: f64,
    /// PV added.
    pub add_pv: Vec<AddPv>,
    /// EV chargers added.
    pub add_ev: Vec<AddEv>,
    /// Batteries added.
    pub add_battery: Vec<AddBattery>,
    /// Replaces the controller of every battery added by earlier edits and
    /// by this variant (to compare controllers on the same hardware).
    pub controller: Option<Controller>,
}

/// A study: baseline settings and variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StudySpec {
    /// Study name.
    #[serde(default)]
    pub name: String,
    /// Folder of pandapower CSV tables (read by the CLI, relative to the spec).
    pub network: String,
    /// Optional per-element series in SimBench layout (CSV, relative to the spec).
    #[serde(default)]
    pub element_series: Option<String>,
    /// Optional TMY3 weather file for PV (relative to the spec).
    #[serde(default)]
    pub weather: Option<String>,
    /// Number of 15-minute steps (defaults to the series length, else one year).
    #[serde(default)]
    pub steps: Option<usize>,
    /// Emission-factor identifier (see `docs/specs/emission-factors.md`).
    #[serde(default = "default_factor")]
    pub emission_factor: String,
    /// Violation limits.
    #[serde(default)]
    pub limits: Limits,
    /// Seed for synthetic EV sessions.
    #[serde(default)]
    pub seed: u64,
    /// Edits applied to the baseline itself (e.g. existing batteries).
    #[serde(default)]
    pub baseline: WhatIf,
    /// The what-ifs, each compared with the baseline.
    #[serde(default)]
    pub variants: Vec<WhatIf>,
}

fn default_factor() -> String {
    "CN-2022-national".into()
}

/// Study inputs after the files are read.
#[derive(Debug, Clone)]
pub struct StudyInputs {
    /// The network.
    pub network: Network,
    /// Measured per-element values, if any; otherwise [`default_load_shape`]
    /// scales each load's static value.
    pub series: Option<ElementSeries>,
    /// PV output per kWp per 15-minute step, kW/kWp; otherwise
    /// [`default_pv_shape`]. Existing static generators are scaled by it
    /// from their `sn_mva` (or `p_mw`) when no series is given.
    pub pv_kw_per_kwp: Option<Vec<f64>>,
}

/// One run's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Variant name (`baseline` for the baseline).
    pub name: String,
    /// KPIs.
    pub kpis: Kpis,
    /// EV energy not delivered by departure, kWh.
    pub ev_unmet_kwh: f64,
    /// Thresholds chosen by peak-shaving controllers, kW.
    pub battery_thresholds_kw: Vec<f64>,
}

/// A variant compared with the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantReport {
    /// The run.
    pub run: RunReport,
    /// KPI deltas, variant − baseline.
    pub deltas: Vec<scenario::KpiDelta>,
}

/// The study report (`citybrain energy timeseries --out`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudyReport {
    /// Report format version.
    pub format: u32,
    /// Study name.
    pub name: String,
    /// Steps per run.
    pub steps: usize,
    /// Step length, hours.
    pub step_hours: f64,
    /// Emission factor identifier and version of the table.
    pub emission_factor: String,
    /// Emission-factor table version.
    pub emission_table_version: String,
    /// The baseline.
    pub baseline: RunReport,
    /// The variants.
    pub variants: Vec<VariantReport>,
}

/// Errors of a study.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StudyError {
    /// Unknown emission factor identifier.
    #[error("unknown emission factor {0:?}")]
    UnknownFactor(String),
    /// An edit names a bus that does not exist.
    #[error("variant {variant:?}: unknown bus {bus}")]
    UnknownBus {
        /// Variant name.
        variant: String,
        /// The bus index.
        bus: i64,
    },
    /// A power flow failed.
    #[error("variant {variant:?}, step {step}: {source}")]
    PowerFlow {
        /// Variant name.
        variant: String,
        /// Step (0 when building the solver).
        step: usize,
        /// The failure.
        source: PfError,
    },
}

/// A typical residential day (15-minute values, max 1): a night base, a
/// morning and a larger evening peak, with ±15 % seasonal swing peaking in
/// mid-January. Used where no measured series exists.
pub fn default_load_shape(step: usize) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let (h, day) = ((step % 96) as f64 * 0.25 + 0.125, (step / 96) as f64);
    let g = |mu: f64, s: f64| (-((h - mu) / s).powi(2)).exp();
    let daily = 0.35 + 0.25 * g(7.5, 1.5) + 0.6 * g(19.0, 2.0);
    let season = 1.0 + 0.15 * (2.0 * std::f64::consts::PI * (day - 14.0) / 365.0).cos();
    daily / 0.95 * season / 1.15
}

/// A clear-sky-like PV day (kW per kWp) where no weather exists: a sine
/// from 6:00 to 18:00 at 0.75 kW/kWp, ±25 % seasonal swing peaking in June.
pub fn default_pv_shape(step: usize) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let (h, day) = ((step % 96) as f64 * 0.25 + 0.125, (step / 96) as f64);
    let s = (std::f64::consts::PI * (h - 6.0) / 12.0).sin().max(0.0);
    let season = 1.0 + 0.25 * (2.0 * std::f64::consts::PI * (day - 172.0) / 365.0).cos();
    0.75 * s * season
}

/// Runs the baseline and every variant.
pub fn run_study(
    spec: &StudySpec,
    inputs: &StudyInputs,
    progress: &mut dyn scenario::Progress,
) -> Result<StudyReport, StudyError> {
    let factor = emission_factor(&spec.emission_factor)
        .ok_or_else(|| StudyError::UnknownFactor(spec.emission_factor.clone()))?;
    let steps = spec
        .steps
        .or(inputs.series.as_ref().map(|s| s.steps))
        .unwrap_or(35_040);
    let base_series = base_series(inputs, steps);
    let total = (1 + spec.variants.len()) as u64 * steps as u64;
    let mut done = 0u64;
    let mut run = |w: &WhatIf, name: &str, done: &mut u64| -> Result<RunReport, StudyError> {
        let mut sub = |d: u64, _t: u64| progress.update(*done + d, total);
        let r = run_variant(
            spec,
            inputs,
            &base_series,
            steps,
            w,
            name,
            factor.kg_per_kwh,
            &mut sub,
        );
        *done += steps as u64;
        r
    };
    let baseline = run(&spec.baseline, "baseline", &mut done)?;
    let base_map = baseline.kpis.to_map();
    let mut variants = Vec::new();
    for v in &spec.variants {
        // a variant builds on the baseline's own edits
        let mut merged = spec.baseline.clone();
        merged.name.clone_from(&v.name);
        merged.demand_growth = (1.0 + spec.baseline.demand_growth) * (1.0 + v.demand_growth) - 1.0;
        merged.add_pv.extend(v.add_pv.iter().cloned());
        merged.add_ev.extend(v.add_ev.iter().cloned());
        merged.add_battery.extend(v.add_battery.iter().cloned());
        merged.controller = v.controller.or(spec.baseline.controller);
        let r = run(&merged, &v.name, &mut done)?;
        let deltas = scenario::compare(&base_map, &r.kpis.to_map());
        variants.push(VariantReport { run: r, deltas });
    }
    progress.update(total, total);
    Ok(StudyReport {
        format: 1,
        name: spec.name.clone(),
        steps,
        step_hours: STEP_HOURS,
        emission_factor: factor.id.to_string(),
        emission_table_version: crate::emission::EMISSION_TABLE_VERSION.to_string(),
        baseline,
        variants,
    })
}

/// Per-element values of the unedited network for `steps` steps.
fn base_series(inputs: &StudyInputs, steps: usize) -> ElementSeries {
    let net = &inputs.network;
    let pv = |k: usize| match &inputs.pv_kw_per_kwp {
        Some(p) if !p.is_empty() => p[k % p.len()],
        _ => default_pv_shape(k),
    };
    let mut s = ElementSeries {
        steps,
        ..ElementSeries::default()
    };
    for k in 0..steps {
        let given = inputs.series.as_ref().filter(|s| s.steps > 0);
        let row = |m: Option<&Vec<Vec<f64>>>, statics: Vec<f64>, shape: f64| -> Vec<f64> {
            match m.filter(|m| !m.is_empty()) {
                Some(m) => m[k % m.len()].clone(),
                None => statics.into_iter().map(|v| v * shape).collect(),
            }
        };
        let ls = default_load_shape(k);
        s.load_p_mw.push(row(
            given.map(|g| &g.load_p_mw),
            net.load.iter().map(|l| l.p_mw).collect(),
            ls,
        ));
        s.load_q_mvar.push(row(
            given.map(|g| &g.load_q_mvar),
            net.load.iter().map(|l| l.q_mvar).collect(),
            ls,
        ));
        // static generators without a series: rated power (sn_mva, else p_mw) × PV shape
        let pk = pv(k);
        s.sgen_p_mw.push(row(
            given.map(|g| &g.sgen_p_mw),
            net.sgen
                .iter()
                .map(|g| g.sn_mva.unwrap_or(g.p_mw))
                .collect(),
            pk,
        ));
        s.storage_p_mw.push(row(
            given.map(|g| &g.storage_p_mw),
            net.storage.iter().map(|x| x.p_mw).collect(),
            1.0,
        ));
    }
    s
}

#[allow(clippy::too_many_arguments)] // one call site
fn run_variant(
    spec: &StudySpec,
    inputs: &StudyInputs,
    base: &ElementSeries,
    steps: usize,
    w: &WhatIf,
    name: &str,
    factor: f64,
    progress: &mut dyn scenario::Progress,
) -> Result<RunReport, StudyError> {
    let mut net = inputs.network.clone();
    let mut s = base.clone();
    let unknown = |bus: i64| StudyError::UnknownBus {
        variant: name.to_string(),
        bus,
    };
    let check = |net: &Network, bus: i64| {
        net.bus_position(bus)
            .map(|_| ())
            .ok_or_else(|| unknown(bus))
    };
    let g = 1.0 + w.demand_growth;
    for k in 0..steps {
        s.load_p_mw[k].iter_mut().for_each(|v| *v *= g);
        s.load_q_mvar[k].iter_mut().for_each(|v| *v *= g);
    }
    let next = |v: &mut i64| {
        *v += 1;
        *v
    };
    let mut sgen_id = net.sgen.iter().map(|x| x.index).max().unwrap_or(-1);
    for p in &w.add_pv {
        check(&net, p.bus)?;
        net.sgen.push(Sgen {
            index: next(&mut sgen_id),
            name: format!("what-if PV {} kWp", p.kwp),
            bus: p.bus,
            p_mw: 0.0,
            q_mvar: 0.0,
            sn_mva: Some(p.kwp / 1000.0),
            scaling: 1.0,
            in_service: true,
            kind: "PV".into(),
            profile: String::new(),
        });
        for k in 0..steps {
            let per_kwp = match &inputs.pv_kw_per_kwp {
                Some(v) if !v.is_empty() => v[k % v.len()],
                _ => default_pv_shape(k),
            };
            s.sgen_p_mw[k].push(p.kwp * per_kwp / 1000.0);
        }
    }
    // feeder demand so far, kW (loads − PV + existing storage)
    let feeder_kw = |s: &ElementSeries| -> Vec<f64> {
        (0..steps)
            .map(|k| {
                (s.load_p_mw[k].iter().sum::<f64>() - s.sgen_p_mw[k].iter().sum::<f64>()
                    + s.storage_p_mw[k].iter().sum::<f64>())
                    * 1000.0
            })
            .collect()
    };
    let mut load_id = net.load.iter().map(|x| x.index).max().unwrap_or(-1);
    let mut rng = scenario::seeded(spec.seed);
    let mut unmet = 0.0;
    for ev in &w.add_ev {
        for &b in &ev.buses {
            check(&net, b)?;
        }
        let mut sub = scenario::fork(&mut rng);
        let days = steps.div_ceil(96);
        let sessions = synthetic_sessions(&ev.fleet, &ev.buses, days, 4, &mut sub);
        let sch = schedule(&sessions, &feeder_kw(&s), steps, STEP_HOURS, ev.strategy);
        unmet += sch.unmet_kwh.iter().sum::<f64>();
        // one EV load per distinct bus
        let mut buses: Vec<i64> = ev.buses.clone();
        buses.sort_unstable();
        buses.dedup();
        for &b in &buses {
            net.load.push(Load {
                profile: "EV".into(),
                ..Load::constant_power(
                    next(&mut load_id),
                    format!("what-if EV chargers at bus {b}"),
                    b,
                    0.0,
                    0.0,
                )
            });
            let mut kw = vec![0.0; steps];
            for (sess, p) in sessions.iter().zip(&sch.power_kw) {
                if sess.bus == b {
                    for (j, &x) in p.iter().enumerate() {
                        kw[sess.arrival_step + j] += x;
                    }
                }
            }
            for k in 0..steps {
                s.load_p_mw[k].push(kw[k] / 1000.0);
                s.load_q_mvar[k].push(0.0);
            }
        }
    }
    let mut storage_id = net.storage.iter().map(|x| x.index).max().unwrap_or(-1);
    let mut thresholds = Vec::new();
    for bat in &w.add_battery {
        check(&net, bat.bus)?;
        let controller = w.controller.unwrap_or(bat.controller);
        let seen: Vec<f64> = match bat.scope {
            BatteryScope::Feeder => feeder_kw(&s),
            BatteryScope::Bus => {
                let lb: Vec<bool> = net.load.iter().map(|l| l.bus == bat.bus).collect();
                let gb: Vec<bool> = net.sgen.iter().map(|x| x.bus == bat.bus).collect();
                let sb: Vec<bool> = net.storage.iter().map(|x| x.bus == bat.bus).collect();
                let pick = |row: &[f64], m: &[bool]| -> f64 {
                    row.iter()
                        .zip(m)
                        .filter(|(_, on)| **on)
                        .map(|(v, _)| v)
                        .sum()
                };
                (0..steps)
                    .map(|k| {
                        (pick(&s.load_p_mw[k], &lb) - pick(&s.sgen_p_mw[k], &gb)
                            + pick(&s.storage_p_mw[k], &sb))
                            * 1000.0
                    })
                    .collect()
            }
        };
        let r = simulate(&bat.battery, controller, &seen, STEP_HOURS);
        if let Some(t) = r.threshold_kw {
            thresholds.push(t);
        }
        net.storage.push(Storage {
            index: next(&mut storage_id),
            name: format!("what-if battery at bus {}", bat.bus),
            bus: bat.bus,
            p_mw: 0.0,
            q_mvar: 0.0,
            sn_mva: Some(bat.battery.power_kw / 1000.0),
            max_e_mwh: bat.battery.capacity_kwh / 1000.0,
            min_e_mwh: bat.battery.soc_min_kwh / 1000.0,
            scaling: 1.0,
            in_service: true,
        });
        for k in 0..steps {
            s.storage_p_mw[k].push(r.battery_kw[k] / 1000.0);
        }
    }
    let mut acc = KpiAccumulator::new(&net, spec.limits, factor, STEP_HOURS);
    let pf_err = |step: usize, source: PfError| StudyError::PowerFlow {
        variant: name.to_string(),
        step,
        source,
    };
    let mut failed_at = 0;
    run_series(&mut net, &s, PfOptions::default(), progress, |k, st| {
        failed_at = k + 1;
        acc.add(st);
    })
    .map_err(|e| pf_err(failed_at, e))?;
    Ok(RunReport {
        name: name.to_string(),
        kpis: acc.finish(),
        ev_unmet_kwh: unmet,
        battery_thresholds_kw: thresholds,
    })
}

#[cfg(test)]
mod shape_tests {
    use super::{default_load_shape, default_pv_shape};

    /// Step of `hour` (0..24, quarter-hour resolution) on `day` (0 = 1 January).
    fn step(day: usize, hour: f64) -> usize {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let q = (hour * 4.0) as usize;
        day * 96 + q
    }

    #[test]
    fn pv_peaks_at_noon_in_june_and_is_dark_at_night() {
        let june = default_pv_shape(step(171, 11.9));
        let january = default_pv_shape(step(0, 11.9));
        assert!(june > january, "June noon {june} vs January noon {january}");
        assert!((june - 0.75 * 1.25).abs() < 0.01, "June noon {june}");
        assert!(
            (january - 0.75 * 0.75).abs() < 0.02,
            "January noon {january}"
        );
        assert!(default_pv_shape(step(171, 2.0)).abs() < 1e-12);
        assert!(default_pv_shape(step(0, 22.0)).abs() < 1e-12);
    }

    #[test]
    fn load_peaks_on_winter_evenings() {
        let jan_evening = default_load_shape(step(14, 19.0));
        let jul_evening = default_load_shape(step(195, 19.0));
        let jan_night = default_load_shape(step(14, 3.0));
        assert!(jan_evening > jul_evening);
        assert!(jan_evening > jan_night);
    }
}
