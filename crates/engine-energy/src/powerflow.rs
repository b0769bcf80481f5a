//! AC power flow: Newton-Raphson in polar coordinates on a sparse Jacobian.
//!
//! Unknowns are the angle and magnitude of every energised non-slack bus; the
//! equations are the active and reactive power mismatches. Voltage-dependent
//! (ZIP) loads enter both the mismatch and the Jacobian. Iterations stop when
//! the largest mismatch is below `tolerance_mva`, as in pandapower's `runpp`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::complex::C64;
use crate::error::PfError;
use crate::model::Model;
use crate::network::Network;
use crate::sparse::{BlockLu, minimum_degree};

/// What to do with buses that no external grid can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IslandPolicy {
    /// De-energise them (no voltage, no flow), as pandapower does, and list
    /// them in the result.
    #[default]
    Deenergize,
    /// Fail with [`PfError::Islanded`] if any of them carries load or generation.
    Error,
}

/// Power-flow options.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PfOptions {
    /// Largest allowed power mismatch at any bus, MVA.
    pub tolerance_mva: f64,
    /// Newton-Raphson iteration limit.
    pub max_iteration: usize,
    /// Handling of unsupplied islands.
    pub islands: IslandPolicy,
}

impl Default for PfOptions {
    fn default() -> Self {
        Self {
            tolerance_mva: 1e-10,
            max_iteration: 30,
            islands: IslandPolicy::Deenergize,
        }
    }
}

/// A reusable Newton-Raphson solver for one topology: the ordering and the
/// fill-in pattern are computed once, each solve only refactors numerically.
#[derive(Debug, Clone)]
pub struct Solver {
    pub(crate) model: Model,
    opts: PfOptions,
    /// Unknown position per internal bus (`usize::MAX` for slack or de-energised).
    slot: Vec<usize>,
    /// Internal bus per unknown position.
    bus_at: Vec<usize>,
    /// Per Ybus entry: the Jacobian block it feeds (`usize::MAX` if none).
    jpos: Vec<usize>,
    lu: BlockLu,
    rhs: Vec<[f64; 2]>,
    current: Vec<C64>,
    vm: Vec<f64>,
    va: Vec<f64>,
}

/// A solved operating point in internal form.
#[derive(Debug, Clone)]
pub(crate) struct Solution {
    pub v: Vec<C64>,
    pub iterations: usize,
}

impl Solver {
    /// Compiles `net` and prepares the sparse factorisation.
    pub fn new(net: &Network, opts: PfOptions) -> Result<Self, PfError> {
        let model = Model::new(net)?;
        let n = model.n;
        let is_slack = |b: usize| model.slack.iter().any(|(s, _)| *s == b);
        let unknown: Vec<usize> = (0..n)
            .filter(|&b| model.energized[b] && !is_slack(b))
            .collect();
        let mut local = vec![usize::MAX; n];
        for (k, &b) in unknown.iter().enumerate() {
            local[b] = k;
        }
        let mut adj = vec![BTreeSet::new(); unknown.len()];
        for (k, &b) in unknown.iter().enumerate() {
            for p in model.y_ptr[b]..model.y_ptr[b + 1] {
                let j = model.y_col[p];
                if j != b && local[j] != usize::MAX {
                    adj[k].insert(local[j]);
                    adj[local[j]].insert(k);
                }
            }
        }
        let order = minimum_degree(&adj);
        let mut slot = vec![usize::MAX; n];
        let mut bus_at = Vec::with_capacity(order.len());
        for (new, &old) in order.iter().enumerate() {
            slot[unknown[old]] = new;
            bus_at.push(unknown[old]);
        }
        let padj: Vec<BTreeSet<usize>> = bus_at
            .iter()
            .map(|&b| {
                (model.y_ptr[b]..model.y_ptr[b + 1])
                    .map(|p| model.y_col[p])
                    .filter(|&j| j != b && slot[j] != usize::MAX)
                    .map(|j| slot[j])
                    .collect()
            })
            .collect();
        let lu = BlockLu::symbolic(&padj);
        let mut jpos = vec![usize::MAX; model.y_col.len()];
        for i in 0..n {
            if slot[i] == usize::MAX {
                continue;
            }
            for p in model.y_ptr[i]..model.y_ptr[i + 1] {
                let j = model.y_col[p];
                if slot[j] != usize::MAX {
                    jpos[p] = lu
                        .position(slot[i], slot[j])
                        .expect("pattern holds every Ybus entry");
                }
            }
        }
        let m = bus_at.len();
        Ok(Self {
            opts,
            slot,
            bus_at,
            jpos,
            lu,
            rhs: vec![[0.0; 2]; m],
            current: vec![C64::ZERO; n],
            vm: vec![0.0; n],
            va: vec![0.0; n],
            model,
        })
    }

    /// Number of internal buses (after fusing, with auxiliary buses).
    pub fn internal_buses(&self) -> usize {
        self.model.n
    }

    /// Blocks in the factorised Jacobian (including fill-in).
    pub fn factor_blocks(&self) -> usize {
        self.lu.nnz()
    }

    /// Runs a power flow for `net` (same topology as at construction).
    pub fn run(&mut self, net: &Network) -> Result<PfResult, PfError> {
        let demand = self.model.demand_pu(net);
        self.check_islands(&demand)?;
        let mut v = self.model.v_init.clone();
        let iterations = self.solve(&demand, &mut v)?;
        Ok(self.results(net, &demand, &Solution { v, iterations }))
    }

    pub(crate) fn check_islands(&self, demand: &[C64]) -> Result<(), PfError> {
        if self.opts.islands == IslandPolicy::Error {
            let buses: Vec<i64> = (0..self.model.n)
                .filter(|&b| !self.model.energized[b] && demand[b] != C64::ZERO)
                .map(|b| self.model.name_of[b])
                .collect();
            if !buses.is_empty() {
                return Err(PfError::Islanded { buses });
            }
        }
        Ok(())
    }

    /// Newton-Raphson from the voltages in `v` (updated in place). Returns the
    /// number of iterations (Jacobian solves).
    pub(crate) fn solve(&mut self, demand: &[C64], v: &mut [C64]) -> Result<usize, PfError> {
        let m = &self.model;
        for &b in &self.bus_at {
            if !demand[b].is_finite() {
                return Err(PfError::NonFinite { bus: m.name_of[b] });
            }
        }
        for &(b, vs) in &m.slack {
            v[b] = vs;
        }
        let tol = self.opts.tolerance_mva / m.sn_mva;
        for (i, x) in v.iter().enumerate() {
            self.vm[i] = x.abs();
            self.va[i] = x.arg();
        }
        let mut it = 0;
        loop {
            // currents and mismatches
            for i in 0..m.n {
                let mut s = C64::ZERO;
                for p in m.y_ptr[i]..m.y_ptr[i + 1] {
                    s += m.y_val[p] * v[m.y_col[p]];
                }
                self.current[i] = s;
            }
            let mut worst = (0.0f64, 0usize);
            for (k, &b) in self.bus_at.iter().enumerate() {
                let vm = self.vm[b];
                let mis = v[b] * self.current[b].conj() + m.demand_at(b, demand[b], vm);
                self.rhs[k] = [mis.re, mis.im];
                let a = mis.re.abs().max(mis.im.abs());
                if a > worst.0 || a.is_nan() {
                    worst = (a, b);
                }
            }
            if worst.0 < tol {
                return Ok(it);
            }
            if it >= self.opts.max_iteration || !worst.0.is_finite() {
                return Err(PfError::NotConverged {
                    iterations: it,
                    mismatch_mva: worst.0 * m.sn_mva,
                    bus: m.name_of[worst.1],
                });
            }
            // Jacobian
            self.lu.clear();
            for &i in &self.bus_at {
                let vi = v[i];
                let vm_i = self.vm[i];
                let ui = vi.scale(1.0 / vm_i);
                for p in m.y_ptr[i]..m.y_ptr[i + 1] {
                    let pos = self.jpos[p];
                    if pos == usize::MAX {
                        continue;
                    }
                    let j = m.y_col[p];
                    let y = m.y_val[p];
                    let vj = v[j];
                    let yv = y * vj;
                    // dS_i/dθ_j = -j V_i conj(Y_ij V_j); dS_i/d|V_j| = V_i conj(Y_ij V_j / |V_j|)
                    let ds_dth = C64::new(0.0, -1.0) * vi * yv.conj();
                    let ds_dvm = vi * (yv.scale(1.0 / self.vm[j])).conj();
                    let blk = &mut self.lu.vals[pos];
                    blk[0] += ds_dth.re;
                    blk[1] += ds_dvm.re;
                    blk[2] += ds_dth.im;
                    blk[3] += ds_dvm.im;
                }
                // diagonal extras: +j V_i conj(I_i) and conj(I_i) V_i/|V_i|, ZIP slope
                let d = self
                    .lu
                    .position(self.slot[i], self.slot[i])
                    .expect("diagonal in pattern");
                let ci = self.current[i].conj();
                let a = C64::new(0.0, 1.0) * vi * ci;
                let bterm = ci * ui;
                let [zp, ip, zq, iq] = m.zip[i];
                let dl = demand[i];
                let blk = &mut self.lu.vals[d];
                blk[0] += a.re;
                blk[1] += bterm.re + dl.re * (ip + 2.0 * zp * vm_i);
                blk[2] += a.im;
                blk[3] += bterm.im + dl.im * (iq + 2.0 * zq * vm_i);
            }
            self.lu.factor().map_err(|row| PfError::Singular {
                bus: m.name_of[self.bus_at[row]],
            })?;
            self.lu.solve(&mut self.rhs);
            for (k, &b) in self.bus_at.iter().enumerate() {
                let [dth, dvm] = self.rhs[k];
                self.vm[b] -= dvm;
                self.va[b] -= dth;
                v[b] = C64::from_polar(self.vm[b], self.va[b]);
            }
            it += 1;
        }
    }

    /// Element results for a solved operating point.
    pub(crate) fn results(&self, net: &Network, demand: &[C64], sol: &Solution) -> PfResult {
        let m = &self.model;
        let v = &sol.v;
        let sn = m.sn_mva;
        let flows = |br: &crate::model::Branch| {
            let (vf, vt) = (v[br.f], v[br.t]);
            let sf = vf * (br.yff * vf + br.yft * vt).conj();
            let st = vt * (br.ytf * vf + br.ytt * vt).conj();
            let ok = m.energized[br.f] || m.energized[br.t];
            if ok {
                (sf.scale(sn), st.scale(sn))
            } else {
                (C64::ZERO, C64::ZERO)
            }
        };
        let current_ka = |s: C64, b: usize| {
            if !m.energized[b] {
                return 0.0;
            }
            s.abs() / (v[b].abs() * m.base_kv[b]) / 3f64.sqrt()
        };
        let mut losses = 0.0;
        let mut line = Vec::with_capacity(net.line.len());
        for (l, br) in net.line.iter().zip(&m.line_branch) {
            let r = match br {
                Some(k) => {
                    let b = &m.branches[*k];
                    let (sf, st) = flows(b);
                    let (i_f, i_t) = (current_ka(sf, b.f), current_ka(st, b.t));
                    let i = i_f.max(i_t);
                    losses += sf.re + st.re;
                    LineResult {
                        index: l.index,
                        p_from_mw: sf.re,
                        q_from_mvar: sf.im,
                        p_to_mw: st.re,
                        q_to_mvar: st.im,
                        pl_mw: sf.re + st.re,
                        ql_mvar: sf.im + st.im,
                        i_from_ka: i_f,
                        i_to_ka: i_t,
                        i_ka: i,
                        loading_percent: i / (l.max_i_ka * l.df * l.parallel) * 100.0,
                    }
                }
                None => LineResult::zero(l.index),
            };
            line.push(r);
        }
        let mut trafo = Vec::with_capacity(net.trafo.len());
        for (t, br) in net.trafo.iter().zip(&m.trafo_branch) {
            let r = match br {
                Some(k) => {
                    let b = &m.branches[*k];
                    let (sf, st) = flows(b);
                    let (i_hv, i_lv) = (current_ka(sf, b.f), current_ka(st, b.t));
                    let ld =
                        (i_hv * t.vn_hv_kv).max(i_lv * t.vn_lv_kv) * 3f64.sqrt() / t.sn_mva * 100.0;
                    losses += sf.re + st.re;
                    TrafoResult {
                        index: t.index,
                        p_hv_mw: sf.re,
                        q_hv_mvar: sf.im,
                        p_lv_mw: st.re,
                        q_lv_mvar: st.im,
                        pl_mw: sf.re + st.re,
                        ql_mvar: sf.im + st.im,
                        i_hv_ka: i_hv,
                        i_lv_ka: i_lv,
                        loading_percent: ld / t.parallel / t.df,
                    }
                }
                None => TrafoResult::zero(t.index),
            };
            trafo.push(r);
        }
        let n_elem =
            m.line_branch.iter().flatten().count() + m.trafo_branch.iter().flatten().count();
        for b in &m.branches[n_elem..] {
            let (sf, st) = flows(b);
            losses += sf.re + st.re;
        }
        // slack injections
        let mut slack_s = vec![C64::ZERO; m.n];
        for &(b, _) in &m.slack {
            let mut i = C64::ZERO;
            for p in m.y_ptr[b]..m.y_ptr[b + 1] {
                i += m.y_val[p] * v[m.y_col[p]];
            }
            slack_s[b] = (v[b] * i.conj() + m.demand_at(b, demand[b], v[b].abs())).scale(sn);
        }
        let mut ext_grid = Vec::new();
        let mut taken = vec![false; m.n];
        for (e, b) in net.ext_grid.iter().zip(&m.ext_grid_bus) {
            let s = match b {
                Some(b) if !taken[*b] => {
                    taken[*b] = true;
                    slack_s[*b]
                }
                _ => C64::ZERO,
            };
            ext_grid.push(ExtGridResult {
                index: e.index,
                p_mw: s.re,
                q_mvar: s.im,
            });
        }
        // bus results: element sums at each pandapower bus (consumption positive)
        let mut bus_pq: Vec<C64> = vec![C64::ZERO; net.bus.len()];
        for ((l, b), &p) in net.load.iter().zip(&m.load_bus).zip(&m.load_pos) {
            if let Some(ib) = *b {
                let s0 = C64::new(l.p_mw * l.scaling, l.q_mvar * l.scaling);
                bus_pq[p] += m.demand_at(ib, s0, v[ib].abs());
            }
        }
        for ((s, b), &p) in net.storage.iter().zip(&m.storage_bus).zip(&m.storage_pos) {
            if b.is_some() {
                bus_pq[p] += C64::new(s.p_mw * s.scaling, s.q_mvar * s.scaling);
            }
        }
        for ((g, b), &p) in net.sgen.iter().zip(&m.sgen_bus).zip(&m.sgen_pos) {
            if b.is_some() {
                bus_pq[p] -= C64::new(g.p_mw * g.scaling, g.q_mvar * g.scaling);
            }
        }
        for (r, &p) in ext_grid.iter().zip(&m.ext_grid_pos) {
            bus_pq[p] -= C64::new(r.p_mw, r.q_mvar);
        }
        let mut isolated = Vec::new();
        let bus = net
            .bus
            .iter()
            .enumerate()
            .map(|(p, b)| match m.bus_of_pp[p] {
                Some(ib) if m.energized[ib] => BusResult {
                    index: b.index,
                    vm_pu: v[ib].abs(),
                    va_degree: v[ib].arg().to_degrees(),
                    p_mw: bus_pq[p].re,
                    q_mvar: bus_pq[p].im,
                },
                _ => {
                    if b.in_service {
                        isolated.push(b.index);
                    }
                    BusResult {
                        index: b.index,
                        vm_pu: f64::NAN,
                        va_degree: f64::NAN,
                        p_mw: 0.0,
                        q_mvar: 0.0,
                    }
                }
            })
            .collect();
        PfResult {
            iterations: sol.iterations,
            bus,
            line,
            trafo,
            ext_grid,
            losses_mw: losses,
            isolated_buses: isolated,
        }
    }
}

/// Runs one power flow on `net`.
pub fn run_pf(net: &Network, opts: PfOptions) -> Result<PfResult, PfError> {
    Solver::new(net, opts)?.run(net)
}

/// Result at one bus (pandapower `res_bus`). `NaN` (JSON `null`) when de-energised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusResult {
    /// Bus index.
    pub index: i64,
    /// Voltage magnitude, pu.
    pub vm_pu: f64,
    /// Voltage angle, degrees.
    pub va_degree: f64,
    /// Net consumption of the bus's elements, MW.
    pub p_mw: f64,
    /// Net reactive consumption, Mvar.
    pub q_mvar: f64,
}

/// Result of one line (pandapower `res_line`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineResult {
    /// Line index.
    pub index: i64,
    /// Active power into the line at the from end, MW.
    pub p_from_mw: f64,
    /// Reactive power into the line at the from end, Mvar.
    pub q_from_mvar: f64,
    /// Active power into the line at the to end, MW.
    pub p_to_mw: f64,
    /// Reactive power into the line at the to end, Mvar.
    pub q_to_mvar: f64,
    /// Active losses, MW.
    pub pl_mw: f64,
    /// Reactive losses, Mvar.
    pub ql_mvar: f64,
    /// Current at the from end, kA.
    pub i_from_ka: f64,
    /// Current at the to end, kA.
    pub i_to_ka: f64,
    /// Larger of the two currents, kA.
    pub i_ka: f64,
    /// `i_ka` relative to `max_i_ka · df · parallel`, %.
    pub loading_percent: f64,
}

impl LineResult {
    fn zero(index: i64) -> Self {
        Self {
            index,
            p_from_mw: 0.0,
            q_from_mvar: 0.0,
            p_to_mw: 0.0,
            q_to_mvar: 0.0,
            pl_mw: 0.0,
            ql_mvar: 0.0,
            i_from_ka: 0.0,
            i_to_ka: 0.0,
            i_ka: 0.0,
            loading_percent: 0.0,
        }
    }
}

/// Result of one transformer (pandapower `res_trafo`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafoResult {
    /// Transformer index.
    pub index: i64,
    /// Active power into the high side, MW.
    pub p_hv_mw: f64,
    /// Reactive power into the high side, Mvar.
    pub q_hv_mvar: f64,
    /// Active power into the low side, MW.
    pub p_lv_mw: f64,
    /// Reactive power into the low side, Mvar.
    pub q_lv_mvar: f64,
    /// Active losses, MW.
    pub pl_mw: f64,
    /// Reactive losses, Mvar.
    pub ql_mvar: f64,
    /// High-side current, kA.
    pub i_hv_ka: f64,
    /// Low-side current, kA.
    pub i_lv_ka: f64,
    /// Loading by rated current, %.
    pub loading_percent: f64,
}

impl TrafoResult {
    fn zero(index: i64) -> Self {
        Self {
            index,
            p_hv_mw: 0.0,
            q_hv_mvar: 0.0,
            p_lv_mw: 0.0,
            q_lv_mvar: 0.0,
            pl_mw: 0.0,
            ql_mvar: 0.0,
            i_hv_ka: 0.0,
            i_lv_ka: 0.0,
            loading_percent: 0.0,
        }
    }
}

/// Power supplied by one external grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExtGridResult {
    /// ext_grid index.
    pub index: i64,
    /// Active power supplied, MW.
    pub p_mw: f64,
    /// Reactive power supplied, Mvar.
    pub q_mvar: f64,
}

/// A power-flow result in pandapower's `res_*` layout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PfResult {
    /// Newton-Raphson iterations.
    pub iterations: usize,
    /// Per bus, in `net.bus` order.
    pub bus: Vec<BusResult>,
    /// Per line, in `net.line` order.
    pub line: Vec<LineResult>,
    /// Per transformer, in `net.trafo` order.
    pub trafo: Vec<TrafoResult>,
    /// Per external grid.
    pub ext_grid: Vec<ExtGridResult>,
    /// Total active losses in lines, transformers and switch impedances, MW.
    pub losses_mw: f64,
    /// In-service buses not connected to any external grid.
    pub isolated_buses: Vec<i64>,
}
