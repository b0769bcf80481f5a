//! Time series: one power flow per 15-minute step with per-element values.
//!
//! Each step sets the active (and optionally reactive) power of loads, static
//! generators and storage units, solves the power flow warm-started from the
//! previous step, and hands a compact [`StepState`] to the caller (the KPI
//! accumulator, a test, a writer).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::complex::C64;
use crate::csv::Table;
use crate::error::{NetError, PfError};
use crate::network::Network;
use crate::powerflow::{PfOptions, Solver};

/// Length of one step of the smart-meter clock, hours (15 minutes).
pub const STEP_HOURS: f64 = 0.25;

/// Absolute per-element values for a run of steps (SimBench's
/// `get_absolute_values` layout): `[step][element position]`. An empty
/// vector means "keep the network's static value" for that quantity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ElementSeries {
    /// Number of steps.
    pub steps: usize,
    /// Load active power, MW.
    pub load_p_mw: Vec<Vec<f64>>,
    /// Load reactive power, Mvar.
    pub load_q_mvar: Vec<Vec<f64>>,
    /// Static generator active power, MW.
    pub sgen_p_mw: Vec<Vec<f64>>,
    /// Storage active power, MW (positive = charging).
    pub storage_p_mw: Vec<Vec<f64>>,
    /// A label per step (timestamp text), if the source had one.
    pub labels: Vec<String>,
}

impl ElementSeries {
    /// Reads columns `load_<index>_p_mw`, `load_<index>_q_mvar`,
    /// `sgen_<index>_p_mw` and `storage_<index>_p_mw` (pandapower indices);
    /// elements without a column keep their static value. A `timestamp`
    /// column, if present, becomes the step labels.
    pub fn from_csv(net: &Network, name: &str, text: &str) -> Result<Self, NetError> {
        let t = Table::parse(name, text)?;
        let steps = t.rows.len();
        let grab = |prefix: &str,
                    idx: &[i64],
                    statics: &[f64],
                    suffix: &str|
         -> Result<Vec<Vec<f64>>, NetError> {
            let cols: Vec<Option<usize>> = idx
                .iter()
                .map(|i| t.col(&format!("{prefix}_{i}_{suffix}")))
                .collect();
            if cols.iter().all(Option::is_none) {
                return Ok(Vec::new());
            }
            (0..steps)
                .map(|r| {
                    cols.iter()
                        .zip(statics)
                        .map(|(c, &s)| match c {
                            Some(c) => t.f64(r, &t.header[*c].clone()),
                            None => Ok(s),
                        })
                        .collect()
                })
                .collect()
        };
        let li: Vec<i64> = net.load.iter().map(|l| l.index).collect();
        let gi: Vec<i64> = net.sgen.iter().map(|g| g.index).collect();
        let si: Vec<i64> = net.storage.iter().map(|s| s.index).collect();
        let lp: Vec<f64> = net.load.iter().map(|l| l.p_mw).collect();
        let lq: Vec<f64> = net.load.iter().map(|l| l.q_mvar).collect();
        let gp: Vec<f64> = net.sgen.iter().map(|g| g.p_mw).collect();
        let sp: Vec<f64> = net.storage.iter().map(|s| s.p_mw).collect();
        Ok(Self {
            steps,
            load_p_mw: grab("load", &li, &lp, "p_mw")?,
            load_q_mvar: grab("load", &li, &lq, "q_mvar")?,
            sgen_p_mw: grab("sgen", &gi, &gp, "p_mw")?,
            storage_p_mw: grab("storage", &si, &sp, "p_mw")?,
            labels: (0..steps).map(|r| t.str_or_empty(r, "timestamp")).collect(),
        })
    }

    /// Writes step `k`'s values into `net`'s elements.
    pub fn apply(&self, k: usize, net: &mut Network) {
        if let Some(row) = self.load_p_mw.get(k) {
            for (l, &v) in net.load.iter_mut().zip(row) {
                l.p_mw = v;
            }
        }
        if let Some(row) = self.load_q_mvar.get(k) {
            for (l, &v) in net.load.iter_mut().zip(row) {
                l.q_mvar = v;
            }
        }
        if let Some(row) = self.sgen_p_mw.get(k) {
            for (g, &v) in net.sgen.iter_mut().zip(row) {
                g.p_mw = v;
            }
        }
        if let Some(row) = self.storage_p_mw.get(k) {
            for (s, &v) in net.storage.iter_mut().zip(row) {
                s.p_mw = v;
            }
        }
    }
}

/// The state of the feeder after one step's power flow.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepState {
    /// Voltage magnitude per bus (`net.bus` order), pu; `NaN` if de-energised.
    pub vm_pu: Vec<f64>,
    /// Loading per line, %.
    pub line_loading_percent: Vec<f64>,
    /// Loading per transformer, %.
    pub trafo_loading_percent: Vec<f64>,
    /// Active losses, MW.
    pub losses_mw: f64,
    /// Power drawn from the external grids, MW (negative = reverse flow).
    pub grid_p_mw: f64,
    /// Reactive power drawn from the external grids, Mvar.
    pub grid_q_mvar: f64,
    /// Total load (after ZIP voltage dependence), MW.
    pub load_mw: f64,
    /// Total static generation, MW.
    pub sgen_mw: f64,
    /// Total storage charging power, MW (negative = discharging).
    pub storage_mw: f64,
    /// Newton-Raphson iterations.
    pub iterations: usize,
}

impl Solver {
    /// Solves `net` warm-started from `v` (internal voltages; pass an empty
    /// vector the first time) and fills `out`.
    pub fn step(
        &mut self,
        net: &Network,
        v: &mut Vec<C64>,
        out: &mut StepState,
    ) -> Result<(), PfError> {
        let demand = self.model.demand_pu(net);
        self.check_islands(&demand)?;
        if v.len() != self.model.n {
            *v = self.model.v_init.clone();
        }
        let iterations = match self.solve(&demand, v) {
            Ok(it) => it,
            Err(_) => {
                // a bad warm start must not fail a step that a flat start solves
                v.clone_from(&self.model.v_init);
                self.solve(&demand, v)?
            }
        };
        self.summarize(net, &demand, v, iterations, out);
        Ok(())
    }

    fn summarize(
        &self,
        net: &Network,
        demand: &[C64],
        v: &[C64],
        iterations: usize,
        out: &mut StepState,
    ) {
        let m = &self.model;
        let sn = m.sn_mva;
        out.iterations = iterations;
        out.vm_pu.clear();
        out.vm_pu.extend(m.bus_of_pp.iter().map(|b| match b {
            Some(b) if m.energized[*b] => v[*b].abs(),
            _ => f64::NAN,
        }));
        let mut losses = 0.0;
        let flow = |k: usize| {
            let br = &m.branches[k];
            let (vf, vt) = (v[br.f], v[br.t]);
            if !(m.energized[br.f] || m.energized[br.t]) {
                return (0.0, 0.0, 0.0);
            }
            let sf = vf * (br.yff * vf + br.yft * vt).conj();
            let st = vt * (br.ytf * vf + br.ytt * vt).conj();
            let i_f = sf.abs() * sn / (vf.abs() * m.base_kv[br.f]) / 3f64.sqrt();
            let i_t = st.abs() * sn / (vt.abs() * m.base_kv[br.t]) / 3f64.sqrt();
            ((sf.re + st.re) * sn, i_f, i_t)
        };
        out.line_loading_percent.clear();
        for (l, br) in net.line.iter().zip(&m.line_branch) {
            out.line_loading_percent.push(match br {
                Some(k) => {
                    let (pl, i_f, i_t) = flow(*k);
                    losses += pl;
                    i_f.max(i_t) / (l.max_i_ka * l.df * l.parallel) * 100.0
                }
                None => 0.0,
            });
        }
        out.trafo_loading_percent.clear();
        for (t, br) in net.trafo.iter().zip(&m.trafo_branch) {
            out.trafo_loading_percent.push(match br {
                Some(k) => {
                    let (pl, i_hv, i_lv) = flow(*k);
                    losses += pl;
                    (i_hv * t.vn_hv_kv).max(i_lv * t.vn_lv_kv) * 3f64.sqrt() / t.sn_mva * 100.0
                        / t.parallel
                        / t.df
                }
                None => 0.0,
            });
        }
        let n_elem =
            m.line_branch.iter().flatten().count() + m.trafo_branch.iter().flatten().count();
        for k in n_elem..m.branches.len() {
            losses += flow(k).0;
        }
        out.losses_mw = losses;
        let mut grid = C64::ZERO;
        for &(b, _) in &m.slack {
            let mut i = C64::ZERO;
            for p in m.y_ptr[b]..m.y_ptr[b + 1] {
                i += m.y_val[p] * v[m.y_col[p]];
            }
            grid += v[b] * i.conj() + m.demand_at(b, demand[b], v[b].abs());
        }
        out.grid_p_mw = grid.re * sn;
        out.grid_q_mvar = grid.im * sn;
        let mut load = 0.0;
        for (l, b) in net.load.iter().zip(&m.load_bus) {
            if let Some(b) = b.filter(|b| m.energized[*b]) {
                load += m
                    .demand_at(b, C64::new(l.p_mw * l.scaling, 0.0), v[b].abs())
                    .re;
            }
        }
        out.load_mw = load;
        out.sgen_mw = net
            .sgen
            .iter()
            .zip(&m.sgen_bus)
            .filter(|(_, b)| b.is_some_and(|b| m.energized[b]))
            .map(|(g, _)| g.p_mw * g.scaling)
            .sum();
        out.storage_mw = net
            .storage
            .iter()
            .zip(&m.storage_bus)
            .filter(|(_, b)| b.is_some_and(|b| m.energized[b]))
            .map(|(s, _)| s.p_mw * s.scaling)
            .sum();
    }
}

/// Runs `series` on `net` and calls `each(step, &state)` after every step.
/// The network's elements are overwritten step by step.
pub fn run_series(
    net: &mut Network,
    series: &ElementSeries,
    opts: PfOptions,
    progress: &mut dyn scenario::Progress,
    mut each: impl FnMut(usize, &StepState),
) -> Result<(), PfError> {
    let mut solver = Solver::new(net, opts)?;
    let mut v = Vec::new();
    let mut state = StepState::default();
    let total = series.steps as u64;
    let every = (series.steps / 200).max(1);
    for k in 0..series.steps {
        series.apply(k, net);
        solver.step(net, &mut v, &mut state)?;
        each(k, &state);
        if k % every == 0 {
            progress.update(k as u64, total);
        }
    }
    progress.update(total, total);
    Ok(())
}

/// Named per-step profiles: `name -> values`, all of one length.
pub type ProfileSet = BTreeMap<String, Vec<f64>>;
