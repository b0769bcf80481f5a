//! The mesoscopic model: lane-group queues with free-flow traversal,
//! signal-gated saturation outflow, storage limits with spill-back, and
//! teleporting gridlock safety. Time-stepped at one second, driven by the
//! `scenario` scheduler.

mod route;

use std::collections::{BTreeSet, VecDeque};

use rand::RngExt as _;
use scenario::{ChaCha8Rng, Engine, Scheduler, SimTime};

use crate::demand::{Route, Trip};
use crate::edits::{Effect, Timed};
use crate::emission::co2_g_per_km;
use crate::network::{LinkIdx, Network};
use crate::params::Params;
use crate::report::{Kpis, LinkBin, LinkReport, REPORT_SCHEMA, Report, VehicleReport};
use route::Router;

/// No movement: the vehicle ends its trip on this link.
const SINK: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Scheduled,
    Waiting,
    OnLink,
    Teleporting,
    Arrived,
    Removed,
    Unroutable,
}

#[derive(Debug, Clone)]
struct Veh {
    route: Vec<LinkIdx>,
    pos: usize,
    /// Desired speed factor.
    sf: f64,
    depart_s: f64,
    entered_s: f64,
    /// When it entered its current link.
    enter_s: f64,
    /// Earliest time it can leave its current link (free-flow traversal done).
    ready_s: f64,
    /// Free-flow seconds of the links completed.
    ff_s: f64,
    dist_m: f64,
    arrival_s: f64,
    state: State,
    /// Movement queue it is in (or [`SINK`]).
    mv: u32,
}

/// What a run is, for the report.
#[derive(Debug, Clone)]
pub(crate) struct RunMeta {
    pub seed: u64,
    pub horizon_s: u32,
    pub scenario_name: Option<String>,
}

/// Events of the traffic model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Advance one second.
    Step,
    /// Timed edit `i` starts.
    EditStart(usize),
    /// Timed edit `i` ends.
    EditEnd(usize),
}

/// A running simulation. Build with [`Simulation::new`], drive with
/// [`scenario::run_until`] from [`Simulation::scheduler`], read with
/// [`Engine::outcome`].
#[derive(Debug)]
pub struct Simulation {
    net: Network,
    p: Params,
    trips: Vec<Trip>,
    horizon_s: u32,
    seed: u64,
    scenario_name: Option<String>,
    veh: Vec<Veh>,
    next_trip: usize,
    router: Router,
    // per movement
    mq: Vec<VecDeque<u32>>,
    mv_credit: Vec<f64>,
    mv_rate: Vec<f64>,
    mv_lost: Vec<f64>,
    mv_storage: Vec<f64>,
    mv_nready: Vec<u32>,
    mv_blocked: Vec<f64>,
    green_start: Vec<f64>,
    // per signal
    sig_phase: Vec<usize>,
    sig_next: Vec<f64>,
    // per link
    sink: Vec<VecDeque<u32>>,
    waiting: Vec<VecDeque<u32>>,
    waiting_links: BTreeSet<u32>,
    occ: Vec<u32>,
    storage: Vec<f64>,
    entry_credit: Vec<f64>,
    entry_rate: Vec<f64>,
    closed: Vec<u16>,
    cut: Vec<u16>,
    capf: Vec<f64>,
    tt_est: Vec<f64>,
    // edits
    timed: Vec<Timed>,
    active: Vec<bool>,
    teleporting: Vec<u32>,
    // statistics
    bin_entered: Vec<u32>,
    bin_dist: Vec<f64>,
    bin_time: Vec<f64>,
    bin_queue: Vec<u32>,
    n_bins: usize,
    teleports: u64,
    co2_g: f64,
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box-Muller; portable and seeded
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

impl Simulation {
    /// Prepares a run of `trips` on `net` (edits already applied) with the
    /// timed edits `timed`, to `horizon_s`.
    pub(crate) fn new(
        net: Network,
        trips: Vec<Trip>,
        timed: Vec<Timed>,
        p: Params,
        mut rng_speed: ChaCha8Rng,
        meta: RunMeta,
    ) -> Self {
        let RunMeta {
            seed,
            horizon_s,
            scenario_name,
        } = meta;
        let nl = net.links.len();
        let nm = net.movements.len();
        let veh = trips
            .iter()
            .map(|t| {
                let z = normal(&mut rng_speed).clamp(-2.0, 2.0);
                Veh {
                    route: match &t.route {
                        Route::Fixed(r) => r.clone(),
                        Route::Od { from, to } => vec![*from, *to],
                    },
                    pos: 0,
                    sf: (1.0 + p.speed_factor_sd * z).max(0.1),
                    depart_s: t.depart_s,
                    entered_s: f64::NAN,
                    enter_s: f64::NAN,
                    ready_s: f64::INFINITY,
                    ff_s: 0.0,
                    dist_m: 0.0,
                    arrival_s: f64::NAN,
                    state: State::Scheduled,
                    mv: SINK,
                }
            })
            .collect();
        let n_bins = (horizon_s as usize).div_ceil(p.bin_s as usize).max(1);
        let tt_est = net.links.iter().map(|l| l.free_flow_s()).collect();
        let mut s = Self {
            router: Router::new(nl),
            mq: vec![VecDeque::new(); nm],
            mv_credit: vec![0.0; nm],
            mv_rate: vec![0.0; nm],
            mv_lost: vec![0.0; nm],
            mv_storage: vec![1.0; nm],
            mv_nready: vec![0; nm],
            mv_blocked: vec![f64::NAN; nm],
            green_start: vec![f64::NEG_INFINITY; nm],
            sig_phase: vec![0; net.signals.len()],
            sig_next: vec![0.0; net.signals.len()],
            sink: vec![VecDeque::new(); nl],
            waiting: vec![VecDeque::new(); nl],
            waiting_links: BTreeSet::new(),
            occ: vec![0; nl],
            storage: vec![1.0; nl],
            entry_credit: vec![0.0; nl],
            entry_rate: vec![0.0; nl],
            closed: vec![0; nl],
            cut: vec![0; nl],
            capf: vec![1.0; nl],
            tt_est,
            active: vec![false; timed.len()],
            timed,
            teleporting: Vec::new(),
            bin_entered: vec![0; nl * n_bins],
            bin_dist: vec![0.0; nl * n_bins],
            bin_time: vec![0.0; nl * n_bins],
            bin_queue: vec![0; nl * n_bins],
            n_bins,
            teleports: 0,
            co2_g: 0.0,
            net,
            p,
            trips,
            horizon_s,
            seed,
            scenario_name,
            veh,
            next_trip: 0,
        };
        for l in 0..nl {
            s.refresh_link(l);
        }
        s.init_signals();
        s
    }

    /// A scheduler holding the first step and every timed edit.
    pub fn scheduler(&self) -> Scheduler<Event> {
        let mut sched = Scheduler::new();
        for (i, t) in self.timed.iter().enumerate() {
            sched.schedule(secs(t.from_s), Event::EditStart(i));
            if t.to_s.is_finite() {
                sched.schedule(secs(t.to_s), Event::EditEnd(i));
            }
        }
        sched.schedule(SimTime::ZERO, Event::Step);
        sched
    }

    /// The simulated horizon.
    pub fn horizon(&self) -> SimTime {
        SimTime::from_secs(u64::from(self.horizon_s))
    }

    fn init_signals(&mut self) {
        for (si, plan) in self.net.signals.iter().enumerate() {
            let (ph, into) = plan.phase_at(0.0);
            self.sig_phase[si] = ph;
            self.sig_next[si] = plan.phases[ph].duration_s - into;
            for (k, m) in plan.movements.iter().enumerate() {
                self.green_start[m.0 as usize] = match plan.green_since(k, 0.0) {
                    Some(s) => -s,
                    None => f64::INFINITY,
                };
            }
        }
    }

    /// Recomputes a link's storage, entry rate and its movements' rates from
    /// the edits active now.
    fn refresh_link(&mut self, l: usize) {
        let link = &self.net.links[l];
        let lanes = f64::from(link.lanes);
        let open_lanes = (lanes - f64::from(self.cut[l])).max(0.0);
        let share = open_lanes / lanes;
        let per_lane = link.length_m / self.p.jam_spacing_m;
        self.storage[l] = (open_lanes * per_lane).max(1.0);
        self.entry_rate[l] = link.capacity_veh_h / 3600.0 * self.capf[l] * share;
        for m in link.moves.clone() {
            let mv = &self.net.movements[m as usize];
            let v = mv.cross_speed_mps.min(link.speed_mps).max(0.5);
            let headway = self.p.tau_s + self.p.jam_spacing_m / v;
            let m = m as usize;
            self.mv_rate[m] = f64::from(mv.lanes) / headway * self.capf[l];
            self.mv_lost[m] = v / (2.0 * self.p.accel_mps2);
            self.mv_storage[m] = if self.p.lane_group_storage {
                (f64::from(mv.lanes) * per_lane)
                    .min(self.storage[l])
                    .max(1.0)
            } else {
                self.storage[l]
            };
        }
    }

    fn bin(&self, t: f64) -> usize {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let b = (t.max(0.0) as usize) / self.p.bin_s as usize;
        b.min(self.n_bins - 1)
    }

    /// The queue (movement or sink) a vehicle at route position `pos` joins.
    fn target(&self, v: &Veh, pos: usize) -> u32 {
        match v.route.get(pos + 1) {
            Some(&next) => self.net.movement(v.route[pos], next).map_or(SINK, |m| m.0),
            None => SINK,
        }
    }

    fn has_space(&self, l: usize, mv: u32) -> bool {
        self.closed[l] == 0
            && f64::from(self.occ[l]) + 1.0 <= self.storage[l] + 1e-9
            && self.entry_credit[l] >= 1.0 - 1e-9
            && (mv == SINK
                || f64::from(self.mq[mv as usize].len() as u32) + 1.0
                    <= self.mv_storage[mv as usize] + 1e-9)
    }

    /// Puts vehicle `vi` onto link `route[pos]` at time `t`, having crossed
    /// the junction in `cross_s`.
    fn enter(&mut self, vi: u32, t: f64, cross_s: f64) {
        let v = &self.veh[vi as usize];
        let l = v.route[v.pos].0 as usize;
        let mv = self.target(v, v.pos);
        let link = &self.net.links[l];
        let ff = link.length_m / (link.speed_mps * v.sf);
        let v = &mut self.veh[vi as usize];
        v.enter_s = t;
        v.ready_s = t + cross_s + ff;
        v.mv = mv;
        v.state = State::OnLink;
        self.occ[l] += 1;
        self.entry_credit[l] -= 1.0;
        let b = self.bin(t);
        self.bin_entered[l * self.n_bins + b] += 1;
        if mv == SINK {
            self.sink[l].push_back(vi);
        } else {
            self.mq[mv as usize].push_back(vi);
        }
    }

    /// Bookkeeping when vehicle `vi` leaves its current link at `t` by a
    /// movement with crossing length `cross_m` (0 at the destination).
    fn leave(&mut self, vi: u32, t: f64, cross_m: f64) {
        let v = &mut self.veh[vi as usize];
        let l = v.route[v.pos].0 as usize;
        let link = &self.net.links[l];
        let ff = link.length_m / (link.speed_mps * v.sf);
        let dt = (t - v.enter_s).max(1e-3);
        let dist = link.length_m + cross_m;
        v.ff_s += ff + cross_m / (link.speed_mps * v.sf);
        v.dist_m += dist;
        self.occ[l] -= 1;
        let b = self.bin(t);
        self.bin_dist[l * self.n_bins + b] += link.length_m;
        self.bin_time[l * self.n_bins + b] += dt;
        self.co2_g += co2_g_per_km(dist / dt * 3.6) * dist / 1000.0;
        let a = self.p.travel_time_smoothing;
        self.tt_est[l] = (1.0 - a) * self.tt_est[l] + a * dt;
    }

    fn step(&mut self, t: f64) {
        self.switch_signals(t);
        for l in 0..self.net.links.len() {
            let cap = f64::from(self.net.links[l].lanes).max(1.0);
            // carry at most `cap` unused credit, then add this second's rate
            self.entry_credit[l] = self.entry_credit[l].min(cap) + self.entry_rate[l];
        }
        self.discharge(t);
        self.arrive(t);
        self.teleport_step(t);
        self.depart(t);
        self.insert(t);
        self.record_queues(t);
    }

    fn switch_signals(&mut self, t: f64) {
        for si in 0..self.net.signals.len() {
            while t >= self.sig_next[si] {
                let plan = &self.net.signals[si];
                let old = self.sig_phase[si];
                let new = (old + 1) % plan.phases.len();
                let at = self.sig_next[si];
                for (k, m) in plan.movements.iter().enumerate() {
                    let (g_old, g_new) = (plan.phases[old].green[k], plan.phases[new].green[k]);
                    if g_new && !g_old {
                        self.green_start[m.0 as usize] = at;
                    } else if !g_new {
                        self.green_start[m.0 as usize] = f64::INFINITY;
                    }
                }
                self.sig_phase[si] = new;
                self.sig_next[si] = at + plan.phases[new].duration_s;
                if plan.cycle_s() <= 0.0 {
                    break;
                }
            }
        }
    }

    fn discharge(&mut self, t: f64) {
        for m in 0..self.mq.len() {
            if self.mq[m].is_empty() {
                self.mv_credit[m] = 0.0;
                continue;
            }
            if t < self.green_start[m] + self.mv_lost[m] {
                self.mv_credit[m] = 0.0;
                self.mv_blocked[m] = f64::NAN;
                continue;
            }
            let cap = f64::from(self.net.movements[m].lanes).max(1.0);
            self.mv_credit[m] = self.mv_credit[m].min(cap) + self.mv_rate[m];
            while self.mv_credit[m] >= 1.0 - 1e-9 {
                let Some(&vi) = self.mq[m].front() else { break };
                if self.veh[vi as usize].ready_s > t {
                    break;
                }
                let v = &self.veh[vi as usize];
                let next = v.route[v.pos + 1].0 as usize;
                let next_mv = self.target(v, v.pos + 1);
                if !self.has_space(next, next_mv) {
                    if self.mv_blocked[m].is_nan() {
                        self.mv_blocked[m] = t;
                    } else if t - self.mv_blocked[m] >= self.p.stuck_time_s {
                        self.mq[m].pop_front();
                        self.mv_nready[m] = self.mv_nready[m].saturating_sub(1);
                        self.start_teleport(vi, t);
                        self.mv_blocked[m] = f64::NAN;
                    }
                    break;
                }
                self.mv_blocked[m] = f64::NAN;
                self.mq[m].pop_front();
                self.mv_nready[m] = self.mv_nready[m].saturating_sub(1);
                self.mv_credit[m] -= 1.0;
                let mv = &self.net.movements[m];
                let (cross_m, cross_v) = (mv.cross_m, mv.cross_speed_mps);
                self.leave(vi, t, cross_m);
                let v = &mut self.veh[vi as usize];
                v.pos += 1;
                let cross_s = cross_m / cross_v.min(self.net.links[next].speed_mps * v.sf);
                self.enter(vi, t, cross_s);
            }
        }
    }

    fn arrive(&mut self, t: f64) {
        for l in 0..self.sink.len() {
            while let Some(&vi) = self.sink[l].front() {
                if self.veh[vi as usize].ready_s > t {
                    break;
                }
                self.sink[l].pop_front();
                self.leave(vi, t, 0.0);
                let v = &mut self.veh[vi as usize];
                v.state = State::Arrived;
                v.arrival_s = t;
            }
        }
    }

    /// Takes a blocked queue head out of the network and lets it travel along
    /// its route at free-flow speed until a link has room (SUMO's teleport).
    fn start_teleport(&mut self, vi: u32, t: f64) {
        self.teleports += 1;
        let v = &mut self.veh[vi as usize];
        let l = v.route[v.pos].0 as usize;
        self.occ[l] -= 1;
        let link = &self.net.links[l];
        v.ff_s += link.length_m / (link.speed_mps * v.sf);
        v.dist_m += link.length_m;
        self.skip_link(vi, t);
    }

    /// Moves a teleporting vehicle virtually over its next link.
    fn skip_link(&mut self, vi: u32, t: f64) {
        let v = &mut self.veh[vi as usize];
        v.pos += 1;
        let link = &self.net.links[v.route[v.pos].0 as usize];
        v.enter_s = t;
        v.ready_s = t + link.length_m / (link.speed_mps * v.sf);
        v.state = State::Teleporting;
        v.mv = SINK;
        self.teleporting.push(vi);
    }

    fn teleport_step(&mut self, t: f64) {
        if self.teleporting.is_empty() {
            return;
        }
        let list = std::mem::take(&mut self.teleporting);
        for vi in list {
            let v = &self.veh[vi as usize];
            if v.ready_s > t {
                self.teleporting.push(vi);
                continue;
            }
            let link = &self.net.links[v.route[v.pos].0 as usize];
            let (len, ff) = (link.length_m, link.length_m / (link.speed_mps * v.sf));
            let v = &mut self.veh[vi as usize];
            v.ff_s += ff;
            v.dist_m += len;
            if v.pos + 1 == v.route.len() {
                v.state = State::Arrived;
                v.arrival_s = t;
                continue;
            }
            let v = &self.veh[vi as usize];
            let next = v.route[v.pos + 1].0 as usize;
            let next_mv = self.target(v, v.pos + 1);
            if self.has_space(next, next_mv) {
                self.veh[vi as usize].pos += 1;
                self.enter(vi, t, 0.0);
            } else {
                self.skip_link(vi, t);
            }
        }
    }

    fn depart(&mut self, t: f64) {
        while self.next_trip < self.trips.len() && self.trips[self.next_trip].depart_s <= t {
            let i = self.next_trip;
            self.next_trip += 1;
            let vi = u32::try_from(i).expect("fewer than 2^32 vehicles");
            let needs_route = matches!(self.trips[i].route, Route::Od { .. })
                || self.veh[i]
                    .route
                    .iter()
                    .any(|l| self.closed[l.0 as usize] > 0);
            if needs_route {
                let (o, d) = (
                    self.trips[i].route.origin(),
                    self.trips[i].route.destination(),
                );
                let path = if self.closed[o.0 as usize] > 0 || self.closed[d.0 as usize] > 0 {
                    None
                } else if o == d {
                    Some(vec![o])
                } else {
                    self.router
                        .shortest(&self.net, &self.tt_est, &self.closed, o, d)
                };
                match path {
                    Some(p) => self.veh[i].route = p,
                    None => {
                        self.veh[i].state = State::Unroutable;
                        continue;
                    }
                }
            }
            self.veh[i].state = State::Waiting;
            let o = self.veh[i].route[0].0;
            self.waiting[o as usize].push_back(vi);
            self.waiting_links.insert(o);
        }
    }

    fn insert(&mut self, t: f64) {
        if self.waiting_links.is_empty() {
            return;
        }
        let links: Vec<u32> = self.waiting_links.iter().copied().collect();
        for l in links {
            while let Some(&vi) = self.waiting[l as usize].front() {
                let mv = self.target(&self.veh[vi as usize], 0);
                if !self.has_space(l as usize, mv) {
                    break;
                }
                self.waiting[l as usize].pop_front();
                self.veh[vi as usize].entered_s = t;
                self.enter(vi, t, 0.0);
            }
            if self.waiting[l as usize].is_empty() {
                self.waiting_links.remove(&l);
            }
        }
    }

    fn record_queues(&mut self, t: f64) {
        let b = self.bin(t);
        for l in 0..self.net.links.len() {
            let mut q = 0u32;
            for m in self.net.links[l].moves.clone() {
                let m = m as usize;
                let dq = &self.mq[m];
                let mut n = self.mv_nready[m] as usize;
                while n < dq.len() && self.veh[dq[n] as usize].ready_s <= t {
                    n += 1;
                }
                self.mv_nready[m] = u32::try_from(n).expect("queue fits u32");
                q += self.mv_nready[m];
            }
            let slot = &mut self.bin_queue[l * self.n_bins + b];
            *slot = (*slot).max(q);
        }
    }

    fn edit(&mut self, i: usize, start: bool, t: f64) {
        if self.active[i] == start {
            return;
        }
        self.active[i] = start;
        let e = self.timed[i];
        let l = e.link.0 as usize;
        match e.effect {
            Effect::Close => {
                if start {
                    self.closed[l] += 1;
                } else {
                    self.closed[l] -= 1;
                }
            }
            Effect::CutLanes(k) => {
                if start {
                    self.cut[l] += k;
                } else {
                    self.cut[l] -= k;
                }
                if self.cut[l] >= self.net.links[l].lanes {
                    // every lane blocked: the link is closed meanwhile
                    let was = self.closed[l];
                    self.closed[l] = was.max(1);
                } else if matches!(e.effect, Effect::CutLanes(_)) && !start {
                    let closures = (0..self.timed.len())
                        .filter(|&j| {
                            self.active[j]
                                && self.timed[j].link == e.link
                                && self.timed[j].effect == Effect::Close
                        })
                        .count();
                    self.closed[l] = u16::try_from(closures).unwrap_or(u16::MAX);
                }
            }
            Effect::Capacity(_) => {}
        }
        self.capf[l] = (0..self.timed.len())
            .filter(|&j| self.active[j] && self.timed[j].link == e.link)
            .map(|j| match self.timed[j].effect {
                Effect::Capacity(f) => f,
                _ => 1.0,
            })
            .product();
        self.refresh_link(l);
        if start && self.closed[l] > 0 {
            self.reroute_around_closures(t);
        }
    }

    /// Re-routes every vehicle whose remaining path uses a closed link.
    fn reroute_around_closures(&mut self, _t: f64) {
        for vi in 0..self.veh.len() {
            let v = &self.veh[vi];
            if !matches!(v.state, State::Waiting | State::OnLink | State::Teleporting) {
                continue;
            }
            let from = if v.state == State::Waiting { 0 } else { v.pos };
            if !v.route[from + 1..]
                .iter()
                .any(|l| self.closed[l.0 as usize] > 0)
            {
                continue;
            }
            let (cur, dest) = (v.route[from], v.route[v.route.len() - 1]);
            let path = if self.closed[dest.0 as usize] > 0 {
                None
            } else {
                self.router
                    .shortest(&self.net, &self.tt_est, &self.closed, cur, dest)
            };
            let vi32 = u32::try_from(vi).expect("vehicle index");
            match path {
                Some(p) => {
                    let v = &mut self.veh[vi];
                    v.route.truncate(from);
                    v.route.extend(p);
                    if v.state == State::OnLink {
                        let new_mv = self.target(&self.veh[vi], from);
                        let old_mv = self.veh[vi].mv;
                        if new_mv != old_mv {
                            self.remove_from_queue(vi32, old_mv);
                            self.veh[vi].mv = new_mv;
                            if new_mv == SINK {
                                self.sink[cur.0 as usize].push_back(vi32);
                            } else {
                                self.mq[new_mv as usize].push_back(vi32);
                            }
                        }
                    }
                }
                None => {
                    let v = &self.veh[vi];
                    match v.state {
                        State::OnLink => {
                            self.remove_from_queue(vi32, v.mv);
                            self.occ[cur.0 as usize] -= 1;
                        }
                        State::Waiting => {
                            let q = &mut self.waiting[cur.0 as usize];
                            if let Some(k) = q.iter().position(|&x| x == vi32) {
                                q.remove(k);
                            }
                        }
                        _ => self.teleporting.retain(|&x| x != vi32),
                    }
                    self.veh[vi].state = State::Removed;
                }
            }
        }
    }

    fn remove_from_queue(&mut self, vi: u32, mv: u32) {
        let l = self.veh[vi as usize].route[self.veh[vi as usize].pos].0 as usize;
        let q = if mv == SINK {
            &mut self.sink[l]
        } else {
            &mut self.mq[mv as usize]
        };
        if let Some(k) = q.iter().position(|&x| x == vi) {
            q.remove(k);
            if mv != SINK && (k as u32) < self.mv_nready[mv as usize] {
                self.mv_nready[mv as usize] -= 1;
            }
        }
    }

    /// Vehicles loaded so far (departed and routable).
    #[cfg(test)]
    pub(crate) fn census(&self) -> Census {
        let mut c = Census::default();
        for v in &self.veh {
            match v.state {
                State::Scheduled | State::Unroutable => {}
                State::Waiting => c.waiting += 1,
                State::OnLink | State::Teleporting => c.en_route += 1,
                State::Arrived => c.arrived += 1,
                State::Removed => c.removed += 1,
            }
            if !matches!(v.state, State::Scheduled | State::Unroutable) {
                c.loaded += 1;
            }
        }
        for (l, &o) in self.occ.iter().enumerate() {
            c.max_fill = c.max_fill.max(f64::from(o) / self.storage[l]);
        }
        c.min_credit = self.mv_credit.iter().copied().fold(f64::INFINITY, f64::min);
        c
    }

    fn report(&self) -> Report {
        let h = f64::from(self.horizon_s);
        let mut k = Kpis {
            loaded_vehicles: 0,
            completed_trips: 0,
            unserved_vehicles: 0,
            en_route_vehicles: 0,
            waiting_to_enter: 0,
            removed_vehicles: 0,
            unroutable_trips: 0,
            avg_travel_time_s: 0.0,
            avg_travel_time_completed_s: 0.0,
            mean_delay_s: 0.0,
            vkt_km: 0.0,
            vht_h: 0.0,
            mean_speed_kmh: 0.0,
            travel_time_index: 0.0,
            co2_kg: self.co2_g / 1000.0,
            teleports: self.teleports,
            wall_s: None,
        };
        let (mut tt_sum, mut tt_done, mut delay_sum, mut ff_sum) = (0.0, 0.0, 0.0, 0.0);
        let mut vehicles = Vec::new();
        for (i, v) in self.veh.iter().enumerate() {
            if v.state == State::Scheduled || v.depart_s >= h {
                continue;
            }
            if v.state == State::Unroutable {
                k.unroutable_trips += 1;
                continue;
            }
            k.loaded_vehicles += 1;
            let end = if v.state == State::Arrived {
                v.arrival_s
            } else {
                h
            };
            let tt = end - v.depart_s;
            let (mut ff, mut dist) = (v.ff_s, v.dist_m);
            match v.state {
                State::Arrived => {
                    k.completed_trips += 1;
                    tt_done += tt;
                }
                State::OnLink | State::Teleporting => {
                    k.en_route_vehicles += 1;
                    let link = &self.net.links[v.route[v.pos].0 as usize];
                    let span = (v.ready_s - v.enter_s).max(1e-9);
                    let frac = ((h - v.enter_s) / span).clamp(0.0, 1.0);
                    ff += frac * link.length_m / (link.speed_mps * v.sf);
                    dist += frac * link.length_m;
                }
                State::Waiting => k.waiting_to_enter += 1,
                State::Removed => k.removed_vehicles += 1,
                State::Scheduled | State::Unroutable => {}
            }
            let in_net = if v.entered_s.is_nan() {
                0.0
            } else {
                (end - v.entered_s).max(0.0)
            };
            let delay = tt - ff;
            tt_sum += tt;
            delay_sum += delay;
            ff_sum += ff;
            k.vkt_km += dist / 1000.0;
            k.vht_h += in_net / 3600.0;
            if self.p.record_vehicles {
                vehicles.push(VehicleReport {
                    id: self.trips[i].id.clone(),
                    depart_s: v.depart_s,
                    entered_s: (!v.entered_s.is_nan()).then_some(v.entered_s),
                    arrival_s: (v.state == State::Arrived).then_some(v.arrival_s),
                    route: v
                        .route
                        .iter()
                        .map(|l| self.net.links[l.0 as usize].id.clone())
                        .collect(),
                    travel_time_s: tt,
                    delay_s: delay,
                    distance_m: dist,
                });
            }
        }
        k.unserved_vehicles = k.loaded_vehicles - k.completed_trips;
        #[allow(clippy::cast_precision_loss)]
        {
            let n = k.loaded_vehicles.max(1) as f64;
            k.avg_travel_time_s = tt_sum / n;
            k.mean_delay_s = delay_sum / n;
            k.avg_travel_time_completed_s = tt_done / k.completed_trips.max(1) as f64;
        }
        k.mean_speed_kmh = if k.vht_h > 0.0 {
            k.vkt_km / k.vht_h
        } else {
            0.0
        };
        k.travel_time_index = if ff_sum > 0.0 {
            k.vht_h * 3600.0 / ff_sum
        } else {
            1.0
        };
        let links = self
            .net
            .links
            .iter()
            .enumerate()
            .map(|(l, link)| {
                let bins: Vec<LinkBin> = (0..self.n_bins)
                    .map(|b| {
                        let j = l * self.n_bins + b;
                        LinkBin {
                            start_s: u32::try_from(b).unwrap_or(u32::MAX) * self.p.bin_s,
                            entered: self.bin_entered[j],
                            mean_speed_kmh: (self.bin_time[j] > 0.0)
                                .then(|| self.bin_dist[j] / self.bin_time[j] * 3.6),
                            max_queue: self.bin_queue[j],
                        }
                    })
                    .collect();
                LinkReport {
                    id: link.id.clone(),
                    entered: bins.iter().map(|b| u64::from(b.entered)).sum(),
                    bins,
                }
            })
            .collect();
        Report {
            schema: REPORT_SCHEMA.to_string(),
            scenario: self.scenario_name.clone(),
            seed: self.seed,
            horizon_s: self.horizon_s,
            kpis: k,
            links,
            vehicles,
        }
    }
}

/// Counts for the conservation property tests.
#[cfg(test)]
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Census {
    pub loaded: u64,
    pub waiting: u64,
    pub en_route: u64,
    pub arrived: u64,
    pub removed: u64,
    pub max_fill: f64,
    pub min_credit: f64,
}

fn secs(s: f64) -> SimTime {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    SimTime::from_millis((s.max(0.0) * 1000.0).round() as u64)
}

impl Engine for Simulation {
    type Event = Event;
    type Outcome = Report;

    fn handle(&mut self, now: SimTime, event: Event, sched: &mut Scheduler<Event>) {
        let t = now.as_secs_f64();
        match event {
            Event::Step => {
                self.step(t);
                if now.as_millis() + 1000 < u64::from(self.horizon_s) * 1000 {
                    sched.schedule_in(1000, Event::Step);
                }
            }
            Event::EditStart(i) => self.edit(i, true, t),
            Event::EditEnd(i) => self.edit(i, false, t),
        }
    }

    fn outcome(&self) -> Report {
        self.report()
    }
}
