//! The live feeder state: the latest meter and PV readings in, loading,
//! voltages, losses, violations and low-carbon indicators out.
//!
//! The server calls [`LiveFeeder::update`] whenever new readings arrive (for
//! example every 15 minutes from smart meters). Buses without a reading keep
//! the values of the previous update (at first: the network's static values),
//! so a missing meter never empties a bus.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::complex::C64;
use crate::error::PfError;
use crate::kpi::Limits;
use crate::network::{Load, Network, Sgen};
use crate::powerflow::{PfOptions, Solver};
use crate::timeseries::StepState;

/// The latest readings, kW. Building ids are mapped to buses by the
/// feeder's `building_bus` table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LiveReadings {
    /// Metered consumption per bus, kW.
    pub load_kw_by_bus: BTreeMap<i64, f64>,
    /// Metered consumption per building id, kW.
    pub load_kw_by_building: BTreeMap<String, f64>,
    /// PV inverter output per bus, kW.
    pub pv_kw_by_bus: BTreeMap<i64, f64>,
    /// PV inverter output per building id, kW.
    pub pv_kw_by_building: BTreeMap<String, f64>,
}

/// What kind of limit is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationKind {
    /// Voltage below the band.
    Undervoltage,
    /// Voltage above the band.
    Overvoltage,
    /// Line loading above the limit.
    LineOverload,
    /// Transformer loading above the limit.
    TrafoOverload,
    /// Line loading above the "high" level (a warning).
    LineHighLoading,
    /// Transformer loading above the "high" level (a warning).
    TrafoHighLoading,
}

/// How urgent a violation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Approaching a limit.
    Warning,
    /// A limit is broken.
    Critical,
}

/// One broken or nearly broken limit, for the alarm rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Violation {
    /// Kind.
    pub kind: ViolationKind,
    /// Severity.
    pub severity: Severity,
    /// pandapower index of the bus, line or transformer.
    pub element: i64,
    /// The value (pu or %).
    pub value: f64,
    /// The limit it is compared with.
    pub limit: f64,
}

/// Low-carbon indicators of the current state.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LowCarbon {
    /// PV output, kW.
    pub pv_kw: f64,
    /// Share of consumption covered by local PV (0..1).
    pub pv_share: f64,
    /// CO₂ rate of the grid import, kg/h.
    pub grid_co2_kg_per_h: f64,
    /// CO₂ intensity of the feeder's consumption, kg/kWh.
    pub co2_intensity_kg_per_kwh: f64,
    /// CO₂ rate avoided by PV, kg/h.
    pub avoided_co2_kg_per_h: f64,
}

/// The live state of a feeder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveState {
    /// Voltage per bus (`index`, pu); `NaN` (JSON null) if de-energised.
    pub vm_pu: Vec<(i64, f64)>,
    /// Loading per line (`index`, %).
    pub line_loading_percent: Vec<(i64, f64)>,
    /// Loading per transformer (`index`, %).
    pub trafo_loading_percent: Vec<(i64, f64)>,
    /// Consumption, kW.
    pub load_kw: f64,
    /// Import from the grid, kW (negative = reverse flow).
    pub grid_kw: f64,
    /// Losses, kW.
    pub losses_kw: f64,
    /// Violations, critical first, then by kind and element.
    pub violations: Vec<Violation>,
    /// Low-carbon indicators.
    pub low_carbon: LowCarbon,
    /// Newton-Raphson iterations.
    pub iterations: usize,
}

/// Errors of a live update.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LiveError {
    /// A reading names a bus the feeder does not have.
    #[error("reading for unknown bus {0}")]
    UnknownBus(i64),
    /// A reading names a building the feeder does not know.
    #[error("reading for unknown building {0:?}")]
    UnknownBuilding(String),
    /// A reading is not a finite number.
    #[error("non-finite reading for {0}")]
    NonFinite(String),
    /// The power flow failed.
    #[error(transparent)]
    PowerFlow(#[from] PfError),
}

/// A feeder kept warm between updates.
#[derive(Debug, Clone)]
pub struct LiveFeeder {
    net: Network,
    solver: Solver,
    v: Vec<C64>,
    limits: Limits,
    factor_kg_per_kwh: f64,
    building_bus: BTreeMap<String, i64>,
    /// Per bus: positions of its loads and PV generators in `net`.
    loads_at: BTreeMap<i64, Vec<usize>>,
    pv_at: BTreeMap<i64, Vec<usize>>,
    state: StepState,
}

impl LiveFeeder {
    /// Prepares `net`. Every in-service bus gets a metered load and a PV
    /// generator slot (zero until a reading arrives where the network has none).
    pub fn new(
        net: &Network,
        limits: Limits,
        emission_factor_kg_per_kwh: f64,
        building_bus: BTreeMap<String, i64>,
    ) -> Result<Self, LiveError> {
        let mut net = net.clone();
        for b in building_bus.values() {
            if net.bus_position(*b).is_none() {
                return Err(LiveError::UnknownBus(*b));
            }
        }
        let mut load_id = net.load.iter().map(|l| l.index).max().unwrap_or(-1);
        let mut sgen_id = net.sgen.iter().map(|g| g.index).max().unwrap_or(-1);
        let buses: Vec<i64> = net
            .bus
            .iter()
            .filter(|b| b.in_service)
            .map(|b| b.index)
            .collect();
        for &b in &buses {
            if !net.load.iter().any(|l| l.bus == b) {
                load_id += 1;
                net.load.push(Load::constant_power(
                    load_id,
                    format!("meter at bus {b}"),
                    b,
                    0.0,
                    0.0,
                ));
            }
            if !net.sgen.iter().any(|g| g.bus == b) {
                sgen_id += 1;
                net.sgen.push(Sgen {
                    index: sgen_id,
                    name: format!("PV at bus {b}"),
                    bus: b,
                    p_mw: 0.0,
                    q_mvar: 0.0,
                    sn_mva: None,
                    scaling: 1.0,
                    in_service: true,
                    kind: "PV".into(),
                    profile: String::new(),
                });
            }
        }
        let mut loads_at: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (i, l) in net.load.iter().enumerate() {
            loads_at.entry(l.bus).or_default().push(i);
        }
        let mut pv_at: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
        for (i, g) in net.sgen.iter().enumerate() {
            pv_at.entry(g.bus).or_default().push(i);
        }
        let solver = Solver::new(&net, PfOptions::default())?;
        Ok(Self {
            net,
            solver,
            v: Vec::new(),
            limits,
            factor_kg_per_kwh: emission_factor_kg_per_kwh,
            building_bus,
            loads_at,
            pv_at,
            state: StepState::default(),
        })
    }

    /// Applies the readings, solves, and returns the live state.
    pub fn update(&mut self, r: &LiveReadings) -> Result<LiveState, LiveError> {
        let mut load: BTreeMap<i64, f64> = r.load_kw_by_bus.clone();
        let mut pv: BTreeMap<i64, f64> = r.pv_kw_by_bus.clone();
        for (target, by_building) in [
            (&mut load, &r.load_kw_by_building),
            (&mut pv, &r.pv_kw_by_building),
        ] {
            for (id, kw) in by_building {
                let bus = *self
                    .building_bus
                    .get(id)
                    .ok_or_else(|| LiveError::UnknownBuilding(id.clone()))?;
                *target.entry(bus).or_default() += kw;
            }
        }
        for (bus, kw) in &load {
            if !kw.is_finite() {
                return Err(LiveError::NonFinite(format!("load at bus {bus}")));
            }
            let at = self.loads_at.get(bus).ok_or(LiveError::UnknownBus(*bus))?;
            // split the reading over the bus's loads in proportion to their
            // current values (evenly if all are zero), keeping each power factor
            let cur: f64 = at.iter().map(|&i| self.net.load[i].p_mw).sum();
            for &i in at {
                let l = &mut self.net.load[i];
                let share = if cur > 0.0 {
                    l.p_mw / cur
                } else {
                    1.0 / at.len() as f64
                };
                let p = kw / 1000.0 * share / l.scaling.max(1e-12);
                let tan = if l.p_mw != 0.0 {
                    l.q_mvar / l.p_mw
                } else {
                    0.329
                }; // cos φ = 0.95
                l.p_mw = p;
                l.q_mvar = p * tan;
            }
        }
        for (bus, kw) in &pv {
            if !kw.is_finite() {
                return Err(LiveError::NonFinite(format!("PV at bus {bus}")));
            }
            let at = self.pv_at.get(bus).ok_or(LiveError::UnknownBus(*bus))?;
            for &i in at {
                let g = &mut self.net.sgen[i];
                g.p_mw = kw / 1000.0 / at.len() as f64 / g.scaling.max(1e-12);
            }
        }
        self.solver.step(&self.net, &mut self.v, &mut self.state)?;
        Ok(self.snapshot())
    }

    fn snapshot(&self) -> LiveState {
        let (net, st, lim) = (&self.net, &self.state, &self.limits);
        let mut violations = Vec::new();
        for (p, (&vm, b)) in st.vm_pu.iter().zip(&net.bus).enumerate() {
            let (lo, hi) = lim.band(net, p);
            if vm < lo {
                violations.push(Violation {
                    kind: ViolationKind::Undervoltage,
                    severity: Severity::Critical,
                    element: b.index,
                    value: vm,
                    limit: lo,
                });
            } else if vm > hi {
                violations.push(Violation {
                    kind: ViolationKind::Overvoltage,
                    severity: Severity::Critical,
                    element: b.index,
                    value: vm,
                    limit: hi,
                });
            }
        }
        let mut loading = |values: &[f64],
                           idx: &mut dyn Iterator<Item = i64>,
                           over: ViolationKind,
                           high: ViolationKind| {
            for (&v, i) in values.iter().zip(idx) {
                if v > lim.loading_max_percent {
                    violations.push(Violation {
                        kind: over,
                        severity: Severity::Critical,
                        element: i,
                        value: v,
                        limit: lim.loading_max_percent,
                    });
                } else if v > lim.loading_high_percent {
                    violations.push(Violation {
                        kind: high,
                        severity: Severity::Warning,
                        element: i,
                        value: v,
                        limit: lim.loading_high_percent,
                    });
                }
            }
        };
        loading(
            &st.line_loading_percent,
            &mut net.line.iter().map(|l| l.index),
            ViolationKind::LineOverload,
            ViolationKind::LineHighLoading,
        );
        loading(
            &st.trafo_loading_percent,
            &mut net.trafo.iter().map(|t| t.index),
            ViolationKind::TrafoOverload,
            ViolationKind::TrafoHighLoading,
        );
        violations.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then((a.kind as u8).cmp(&(b.kind as u8)))
                .then(a.element.cmp(&b.element))
        });
        let load_kw = st.load_mw * 1000.0;
        let pv_kw = st.sgen_mw * 1000.0;
        let grid_kw = st.grid_p_mw * 1000.0;
        let import = grid_kw.max(0.0);
        let f = self.factor_kg_per_kwh;
        LiveState {
            vm_pu: net
                .bus
                .iter()
                .map(|b| b.index)
                .zip(st.vm_pu.iter().copied())
                .collect(),
            line_loading_percent: net
                .line
                .iter()
                .map(|l| l.index)
                .zip(st.line_loading_percent.iter().copied())
                .collect(),
            trafo_loading_percent: net
                .trafo
                .iter()
                .map(|t| t.index)
                .zip(st.trafo_loading_percent.iter().copied())
                .collect(),
            load_kw,
            grid_kw,
            losses_kw: st.losses_mw * 1000.0,
            violations,
            low_carbon: LowCarbon {
                pv_kw,
                pv_share: if load_kw > 0.0 {
                    ((load_kw - import) / load_kw).clamp(0.0, 1.0)
                } else {
                    0.0
                },
                grid_co2_kg_per_h: import * f,
                co2_intensity_kg_per_kwh: if load_kw > 0.0 {
                    import * f / load_kw
                } else {
                    0.0
                },
                avoided_co2_kg_per_h: pv_kw * f,
            },
            iterations: st.iterations,
        }
    }
}
