//! The per-unit calculation model compiled from a [`Network`].
//!
//! Follows pandapower's conversion (`_pd2ppc`): buses joined by closed
//! bus-bus switches without impedance are fused; an open line or transformer
//! switch moves that branch end to an auxiliary bus, so the open end still
//! carries the line's charging current; closed bus-bus switches with
//! `z_ohm > 0` become impedance branches; transformers use the T model
//! converted to a π equivalent, with the tap ratio and phase shift.

use std::collections::{BTreeMap, VecDeque};
use std::f64::consts::PI;

use crate::complex::C64;
use crate::error::PfError;
use crate::network::{Network, SwitchKind, TapChanger, Trafo};

/// A branch in admittance form: `[I_f; I_t] = [[yff, yft], [ytf, ytt]] · [V_f; V_t]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Branch {
    pub f: usize,
    pub t: usize,
    pub yff: C64,
    pub yft: C64,
    pub ytf: C64,
    pub ytt: C64,
    /// Phase shift from `f` to `t`, radians (the `t` side lags).
    pub shift_rad: f64,
}

/// The compiled model. Internal buses are numbered `0..n`.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub n: usize,
    pub sn_mva: f64,
    pub base_kv: Vec<f64>,
    /// Per position in `net.bus`: internal bus, `None` if out of service.
    pub bus_of_pp: Vec<Option<usize>>,
    /// A pandapower bus index that names each internal bus (for errors).
    pub name_of: Vec<i64>,
    /// Per position in `net.line` / `net.trafo`: branch index if in service.
    pub line_branch: Vec<Option<usize>>,
    pub trafo_branch: Vec<Option<usize>>,
    pub branches: Vec<Branch>,
    /// Slack buses and their fixed voltages.
    pub slack: Vec<(usize, C64)>,
    /// Per position in `net.ext_grid`: the slack bus it feeds, if in service.
    pub ext_grid_bus: Vec<Option<usize>>,
    /// Whether each internal bus is connected to a slack.
    pub energized: Vec<bool>,
    /// ZIP shares per internal bus: `[cz_p, ci_p, cz_q, ci_q]`.
    pub zip: Vec<[f64; 4]>,
    /// Element to internal bus, `None` if the element is out of service.
    pub load_bus: Vec<Option<usize>>,
    pub sgen_bus: Vec<Option<usize>>,
    pub storage_bus: Vec<Option<usize>>,
    /// Element to the position of its bus in `net.bus`.
    pub load_pos: Vec<usize>,
    pub sgen_pos: Vec<usize>,
    pub storage_pos: Vec<usize>,
    pub ext_grid_pos: Vec<usize>,
    /// Bus admittance matrix in CSR form, per unit.
    pub y_ptr: Vec<usize>,
    pub y_col: Vec<usize>,
    pub y_val: Vec<C64>,
    /// Initial voltage (slack magnitude, angles shifted through transformers).
    pub v_init: Vec<C64>,
}

struct UnionFind(Vec<usize>);
impl UnionFind {
    fn find(&mut self, mut i: usize) -> usize {
        while self.0[i] != i {
            self.0[i] = self.0[self.0[i]];
            i = self.0[i];
        }
        i
    }
    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        // the lower position becomes the root: deterministic numbering
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.0[hi] = lo;
    }
}

/// The π-model parameters of a transformer in per unit, as pandapower computes them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrafoPi {
    pub r: f64,
    pub x: f64,
    /// Shunt admittance at the high side (`Bcf / 2`).
    pub y_hv: C64,
    /// Shunt admittance at the low side (`Bct / 2`).
    pub y_lv: C64,
    pub ratio: f64,
    pub shift_degree: f64,
}

pub(crate) fn trafo_pi(t: &Trafo, bus_hv_kv: f64, bus_lv_kv: f64, sn_mva: f64) -> TrafoPi {
    let mut vnh = t.vn_hv_kv;
    let mut vnl = t.vn_lv_kv;
    let mut shift = t.shift_degree;
    for tap in [&t.tap, &t.tap2].into_iter().flatten() {
        let diff = tap.pos - tap.neutral;
        let dir = if tap.hv_side { 1.0 } else { -1.0 };
        let vn = if tap.hv_side { &mut vnh } else { &mut vnl };
        let pct = tap.step_percent.unwrap_or(0.0);
        let deg = tap.step_degree.unwrap_or(0.0);
        match tap.changer {
            TapChanger::Ideal => {
                shift += if deg != 0.0 {
                    dir * diff * deg
                } else {
                    dir * 2.0 * (diff * pct / 100.0 / 2.0).asin().to_degrees()
                };
            }
            TapChanger::Ratio | TapChanger::Symmetrical => {
                let du = *vn * pct * diff / 100.0;
                let (s, c) = deg.to_radians().sin_cos();
                let u1 = *vn;
                *vn = ((u1 + du * c).powi(2) + (du * s).powi(2)).sqrt();
                shift += (dir * du * s / (u1 + du * c)).atan().to_degrees();
            }
        }
    }
    let ratio = (vnh / vnl) / (bus_hv_kv / bus_lv_kv);
    // series impedance, on the system base at the low-voltage bus
    let tap_lv = (vnl / bus_lv_kv).powi(2) * sn_mva;
    let z = t.vk_percent / 100.0 / t.sn_mva * tap_lv;
    let mut r = t.vkr_percent / 100.0 / t.sn_mva * tap_lv;
    let mut x = z.signum() * (z * z - r * r).sqrt();
    r /= t.parallel;
    x /= t.parallel;
    // magnetising admittance
    let base_z = bus_lv_kv * bus_lv_kv / sn_mva;
    let pfe_mw = t.pfe_kw * 1e-3;
    let ym = t.i0_percent / 100.0 * t.sn_mva;
    let b_mva = -(ym * ym - pfe_mw * pfe_mw).max(0.0).sqrt();
    let k = base_z * t.parallel / (t.vn_lv_kv * t.vn_lv_kv) / (vnl / t.vn_lv_kv).powi(2);
    let (g, b) = (pfe_mw * k, b_mva * k);
    if g == 0.0 && b == 0.0 {
        return TrafoPi {
            r,
            x,
            y_hv: C64::ZERO,
            y_lv: C64::ZERO,
            ratio,
            shift_degree: shift,
        };
    }
    // T model to π (pandapower `_wye_delta`)
    let (rr, xr) = (t.leakage_resistance_ratio_hv, t.leakage_reactance_ratio_hv);
    let za = C64::new(r * rr, x * xr);
    let zb = C64::new(r * (1.0 - rr), x * (1.0 - xr));
    let zc = C64::new(g, b).inv();
    let sum = za * zb + za * zc + zb * zc;
    let zab = sum / zc;
    let zac = sum / zb;
    let zbc = sum / za;
    TrafoPi {
        r: zab.re,
        x: zab.im,
        y_hv: zac.inv(),
        y_lv: zbc.inv(),
        ratio,
        shift_degree: shift,
    }
}

impl Model {
    /// Compiles `net`.
    pub fn new(net: &Network) -> Result<Self, PfError> {
        net.validate()?;
        let nb = net.bus.len();
        let pos_of: BTreeMap<i64, usize> = net
            .bus
            .iter()
            .enumerate()
            .map(|(p, b)| (b.index, p))
            .collect();
        let pos = |i: i64| pos_of[&i]; // validated above
        let in_service: Vec<bool> = net.bus.iter().map(|b| b.in_service).collect();

        // 1. fuse buses joined by closed bus-bus switches without impedance
        let mut uf = UnionFind((0..nb).collect());
        for s in &net.switch {
            if s.et == SwitchKind::Bus && s.closed && s.z_ohm <= 0.0 {
                let (a, b) = (pos(s.bus), pos(s.element));
                if in_service[a] && in_service[b] {
                    uf.union(a, b);
                }
            }
        }
        let mut bus_of_pp = vec![None; nb];
        let mut base_kv = Vec::new();
        let mut name_of = Vec::new();
        let mut root_id: BTreeMap<usize, usize> = BTreeMap::new();
        for p in 0..nb {
            if !in_service[p] {
                continue;
            }
            let root = uf.find(p);
            let id = *root_id.entry(root).or_insert_with(|| {
                base_kv.push(net.bus[root].vn_kv);
                name_of.push(net.bus[root].index);
                base_kv.len() - 1
            });
            bus_of_pp[p] = Some(id);
        }
        let add_aux = |base_kv: &mut Vec<f64>, name_of: &mut Vec<i64>, p: usize| {
            base_kv.push(net.bus[p].vn_kv);
            name_of.push(net.bus[p].index);
            base_kv.len() - 1
        };
        let open: std::collections::BTreeSet<(SwitchKind, i64, i64)> = net
            .switch
            .iter()
            .filter(|s| !s.closed)
            .map(|s| (s.et, s.element, s.bus))
            .collect();
        let open_at = |et: SwitchKind, element: i64, bus: i64| open.contains(&(et, element, bus));

        // 2. branches
        let sn = net.sn_mva;
        let mut branches = Vec::new();
        let mut line_branch = vec![None; net.line.len()];
        for (li, l) in net.line.iter().enumerate() {
            if !l.in_service {
                continue;
            }
            let (pf, pt) = (pos(l.from_bus), pos(l.to_bus));
            if !in_service[pf] && !in_service[pt] {
                continue;
            }
            let mut end = |p: usize, bus: i64| match bus_of_pp[p] {
                Some(id) if !open_at(SwitchKind::Line, l.index, bus) => id,
                _ => add_aux(&mut base_kv, &mut name_of, p),
            };
            let f = end(pf, l.from_bus);
            let t = end(pt, l.to_bus);
            let base_r = net.bus[pf].vn_kv.powi(2) / sn;
            let r = l.r_ohm_per_km * l.length_km / base_r / l.parallel;
            let x = l.x_ohm_per_km * l.length_km / base_r / l.parallel;
            let b = 2.0 * net.f_hz * PI * l.c_nf_per_km * 1e-9 * base_r * l.length_km * l.parallel;
            let g = l.g_us_per_km * 1e-6 * base_r * l.length_km * l.parallel;
            let ys = C64::new(r, x).inv();
            let ysh = C64::new(g, b).scale(0.5);
            line_branch[li] = Some(branches.len());
            branches.push(Branch {
                f,
                t,
                yff: ys + ysh,
                yft: -ys,
                ytf: -ys,
                ytt: ys + ysh,
                shift_rad: 0.0,
            });
        }
        let mut trafo_branch = vec![None; net.trafo.len()];
        for (ti, tr) in net.trafo.iter().enumerate() {
            let (ph, pl) = (pos(tr.hv_bus), pos(tr.lv_bus));
            if !tr.in_service || !in_service[ph] || !in_service[pl] {
                continue;
            }
            let pi = trafo_pi(tr, net.bus[ph].vn_kv, net.bus[pl].vn_kv, sn);
            let mut end = |p: usize, bus: i64| match bus_of_pp[p] {
                Some(id) if !open_at(SwitchKind::Trafo, tr.index, bus) => id,
                _ => add_aux(&mut base_kv, &mut name_of, p),
            };
            let f = end(ph, tr.hv_bus);
            let t = end(pl, tr.lv_bus);
            let ys = C64::new(pi.r, pi.x).inv();
            let tap = C64::from_polar(pi.ratio, pi.shift_degree.to_radians());
            trafo_branch[ti] = Some(branches.len());
            branches.push(Branch {
                f,
                t,
                yff: (ys + pi.y_hv).scale(1.0 / tap.norm_sqr()),
                yft: -(ys / tap.conj()),
                ytf: -(ys / tap),
                ytt: ys + pi.y_lv,
                shift_rad: pi.shift_degree.to_radians(),
            });
        }
        let rx: f64 = 2.0; // pandapower's default switch_rx_ratio
        let (rz, xz) = (rx / (1.0 + rx * rx).sqrt(), 1.0 / (1.0 + rx * rx).sqrt());
        for s in &net.switch {
            if s.et == SwitchKind::Bus && s.closed && s.z_ohm > 0.0 {
                let (a, b) = (pos(s.bus), pos(s.element));
                let (Some(f), Some(t)) = (bus_of_pp[a], bus_of_pp[b]) else {
                    continue;
                };
                let base_r = net.bus[a].vn_kv.powi(2) / sn;
                let ys = C64::new(s.z_ohm / base_r * rz, s.z_ohm / base_r * xz).inv();
                branches.push(Branch {
                    f,
                    t,
                    yff: ys,
                    yft: -ys,
                    ytf: -ys,
                    ytt: ys,
                    shift_rad: 0.0,
                });
            }
        }
        let n = base_kv.len();

        // 3. slack buses
        let mut slack: Vec<(usize, C64)> = Vec::new();
        let mut ext_grid_bus = vec![None; net.ext_grid.len()];
        for (ei, e) in net.ext_grid.iter().enumerate() {
            let Some(id) = bus_of_pp[pos(e.bus)] else {
                continue;
            };
            if !e.in_service {
                continue;
            }
            ext_grid_bus[ei] = Some(id);
            if !slack.iter().any(|(b, _)| *b == id) {
                slack.push((id, C64::from_polar(e.vm_pu, e.va_degree.to_radians())));
            }
        }
        if slack.is_empty() {
            return Err(PfError::NoSlack);
        }

        // 4. energised buses and initial angles, by breadth-first search from the slacks
        let mut adj: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
        for br in &branches {
            adj[br.f].push((br.t, -br.shift_rad));
            adj[br.t].push((br.f, br.shift_rad));
        }
        let mut energized = vec![false; n];
        let mut v_init = vec![C64::ZERO; n];
        let mut queue = VecDeque::new();
        for &(b, v) in &slack {
            energized[b] = true;
            v_init[b] = v;
            queue.push_back(b);
        }
        while let Some(b) = queue.pop_front() {
            for &(o, dtheta) in &adj[b] {
                if !energized[o] {
                    energized[o] = true;
                    v_init[o] = C64::from_polar(v_init[b].abs(), v_init[b].arg() + dtheta);
                    queue.push_back(o);
                }
            }
        }
        for &(b, v) in &slack {
            v_init[b] = v;
        }

        // 5. elements to internal buses; ZIP shares averaged per pandapower bus
        let elem_bus = |bus: i64, on: bool| if on { bus_of_pp[pos(bus)] } else { None };
        let load_bus = net
            .load
            .iter()
            .map(|l| elem_bus(l.bus, l.in_service))
            .collect();
        let sgen_bus = net
            .sgen
            .iter()
            .map(|g| elem_bus(g.bus, g.in_service))
            .collect();
        let storage_bus = net
            .storage
            .iter()
            .map(|s| elem_bus(s.bus, s.in_service))
            .collect();
        let mut zip = vec![[0.0; 4]; n];
        let mut per_bus: BTreeMap<i64, Vec<[f64; 4]>> = BTreeMap::new();
        for l in net.load.iter().filter(|l| l.in_service) {
            per_bus.entry(l.bus).or_default().push([
                l.const_z_p_percent / 100.0,
                l.const_i_p_percent / 100.0,
                l.const_z_q_percent / 100.0,
                l.const_i_q_percent / 100.0,
            ]);
        }
        for (bus, shares) in per_bus {
            if let Some(id) = bus_of_pp[pos(bus)] {
                let k = shares.len() as f64;
                let mut z = [0.0; 4];
                for s in &shares {
                    for c in 0..4 {
                        z[c] += s[c];
                    }
                }
                zip[id] = z.map(|v| v / k);
            }
        }

        // 6. bus admittance matrix
        let mut rows: Vec<BTreeMap<usize, C64>> = vec![BTreeMap::new(); n];
        for br in &branches {
            *rows[br.f].entry(br.f).or_default() += br.yff;
            *rows[br.f].entry(br.t).or_default() += br.yft;
            *rows[br.t].entry(br.f).or_default() += br.ytf;
            *rows[br.t].entry(br.t).or_default() += br.ytt;
        }
        let mut y_ptr = vec![0];
        let mut y_col = Vec::new();
        let mut y_val = Vec::new();
        for (i, row) in rows.iter_mut().enumerate() {
            row.entry(i).or_default();
            for (&j, &v) in row.iter() {
                y_col.push(j);
                y_val.push(v);
            }
            y_ptr.push(y_col.len());
        }
        Ok(Self {
            n,
            sn_mva: sn,
            base_kv,
            bus_of_pp,
            name_of,
            line_branch,
            trafo_branch,
            branches,
            slack,
            ext_grid_bus,
            energized,
            zip,
            load_bus,
            sgen_bus,
            storage_bus,
            load_pos: net.load.iter().map(|x| pos(x.bus)).collect(),
            sgen_pos: net.sgen.iter().map(|x| pos(x.bus)).collect(),
            storage_pos: net.storage.iter().map(|x| pos(x.bus)).collect(),
            ext_grid_pos: net.ext_grid.iter().map(|x| pos(x.bus)).collect(),
            y_ptr,
            y_col,
            y_val,
            v_init,
        })
    }

    /// Demand (consumption positive) per internal bus in per unit, from the
    /// element values of `net` (which must be the network this model was built from).
    pub fn demand_pu(&self, net: &Network) -> Vec<C64> {
        let mut d = vec![C64::ZERO; self.n];
        for (l, b) in net.load.iter().zip(&self.load_bus) {
            if let Some(b) = *b {
                d[b] += C64::new(l.p_mw * l.scaling, l.q_mvar * l.scaling);
            }
        }
        for (s, b) in net.storage.iter().zip(&self.storage_bus) {
            if let Some(b) = *b {
                d[b] += C64::new(s.p_mw * s.scaling, s.q_mvar * s.scaling);
            }
        }
        for (g, b) in net.sgen.iter().zip(&self.sgen_bus) {
            if let Some(b) = *b {
                d[b] -= C64::new(g.p_mw * g.scaling, g.q_mvar * g.scaling);
            }
        }
        for v in &mut d {
            *v = v.scale(1.0 / self.sn_mva);
        }
        d
    }

    /// Demand at voltage magnitude `vm` under the bus's ZIP shares.
    pub fn demand_at(&self, bus: usize, d: C64, vm: f64) -> C64 {
        let [zp, ip, zq, iq] = self.zip[bus];
        C64::new(
            d.re * ((1.0 - zp - ip) + ip * vm + zp * vm * vm),
            d.im * ((1.0 - zq - iq) + iq * vm + zq * vm * vm),
        )
    }
}
