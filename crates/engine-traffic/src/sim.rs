//! The mesoscopic model: lane-group queues with free-flow traversal,
//! signal-gated saturation outflow, storage limits with spill-back, and
//! teleporting gridlock safety. Time-stepped at one second, driven by the
//! `scenario` scheduler.
//!
//! Cost model: work follows vehicle movements, not queued vehicles. A step
//! visits only the queues that can change in it (ordered index sets,
//! [`queue::IndexSet`]) and polls them through ready times kept in the queues
//! themselves ([`queue::Fifo`]). A queue that cannot discharge sleeps until
//! it can: on red until its signal switches, with a travelling head until
//! that head's ready time, with a head waiting for room on a full link until
//! a vehicle leaves that link (or its teleport falls due); an origin whose
//! waiting vehicles find their first link full sleeps likewise
//! ([`queue::Calendar`] holds the timed wake-ups). A sleeping queue's
//! saturation credit is brought up to date when it wakes, by the same
//! per-second recurrence the visits would have applied, so results are
//! those of visiting every queue every second. Stop-line queues are counted
//! when a ready prefix can grow, not every second. What a step does per link
//! or per signal (entry capacity, signal switching) is a few arithmetic
//! operations on dense arrays: the fixed part of the cost.
//!
//! Files: `flow.rs` (one step: signals, discharge, arrivals, teleports,
//! departures, insertion, queue census), `edit.rs` (timed edits and
//! re-routing), `outcome.rs` (the report), `queue.rs`, `route.rs`.

mod edit;
mod flow;
mod outcome;
mod queue;
mod route;

use std::collections::VecDeque;

use rand::RngExt as _;
use scenario::{ChaCha8Rng, Engine, Scheduler, SimTime};

use crate::demand::{Route, Trip};
use crate::edits::Timed;
use crate::emission::co2_g_per_km;
use crate::network::{LinkIdx, Network};
use crate::params::Params;
use crate::report::Report;
use queue::{Calendar, Fifo, IndexSet, Slot, step_at};
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

/// A vehicle's driving state: what a step reads and writes for every link
/// the vehicle crosses, in one cache line. Its path is in
/// [`Simulation::paths`]; what is written once per trip is in [`TripInfo`].
#[derive(Debug, Clone)]
#[repr(align(64))]
struct Veh {
    /// Its path is `paths[start..start + len]`.
    start: u32,
    len: u32,
    /// Position in its path of the link it is on (or will enter first).
    pos: u32,
    /// Movement queue it is in (or [`SINK`]).
    mv: u32,
    state: State,
    /// Desired speed factor.
    sf: f64,
    /// When it entered its current link.
    enter_s: f64,
    /// Earliest time it can leave its current link (free-flow traversal done).
    ready_s: f64,
    /// Free-flow seconds of the links completed.
    ff_s: f64,
    dist_m: f64,
}

impl Veh {
    /// Its path.
    fn path<'a>(&self, paths: &'a [LinkIdx]) -> &'a [LinkIdx] {
        &paths[self.start as usize..(self.start + self.len) as usize]
    }

    /// The link at position `k` of its path, if the path is that long.
    fn link_at(&self, paths: &[LinkIdx], k: u32) -> Option<LinkIdx> {
        (k < self.len).then(|| paths[(self.start + k) as usize])
    }

    /// The link it is on (or will enter first).
    fn link(&self, paths: &[LinkIdx]) -> usize {
        paths[(self.start + self.pos) as usize].0 as usize
    }
}

/// What a run keeps of a trip besides its path and driving state.
#[derive(Debug, Clone)]
struct TripInfo {
    id: String,
    depart_s: f64,
    /// Origin and destination of a trip routed at departure.
    od: Option<(LinkIdx, LinkIdx)>,
    /// When it entered the network (NaN before).
    entered_s: f64,
    /// When it arrived (NaN before).
    arrival_s: f64,
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
    trips: Vec<TripInfo>,
    /// Every vehicle's path, end to end (a re-routed vehicle's new path is
    /// appended).
    paths: Vec<LinkIdx>,
    horizon_s: u32,
    seed: u64,
    scenario_name: Option<String>,
    veh: Vec<Veh>,
    next_trip: usize,
    router: Router,
    // per movement
    mq: Vec<Fifo>,
    /// Movements to visit in the next discharge pass: every non-empty queue
    /// that is not asleep; an empty one leaves when a visit finds it empty.
    mv_awake: IndexSet,
    /// Step of each movement's last visit, and whether its credit accrued in
    /// it (green, past the lost time): then the steps it slept through accrue
    /// too, replayed at its next visit.
    mv_seen: Vec<u32>,
    mv_accrues: Vec<bool>,
    /// Timed wake-ups of sleeping movements (head ready, teleport due).
    mv_wake: Calendar,
    /// Per link: movements asleep until a vehicle leaves the link (their
    /// ready head waits for room on it).
    room_waiters: Vec<Vec<u32>>,
    /// Upstream link of each movement.
    mv_link: Vec<u32>,
    mv_credit: Vec<f64>,
    mv_rate: Vec<f64>,
    mv_lost: Vec<f64>,
    mv_storage: Vec<f64>,
    mv_blocked: Vec<f64>,
    green_start: Vec<f64>,
    // per signal
    sig_phase: Vec<usize>,
    sig_next: Vec<f64>,
    // per link
    sink: Vec<Fifo>,
    /// Links whose sink may hold vehicles (every non-empty sink is in it).
    sink_active: IndexSet,
    /// Per link: vehicles waiting to enter it, with the movement queue each
    /// joins there.
    waiting: Vec<VecDeque<(u32, u32)>>,
    /// Links with vehicles waiting to enter that may enter now (and some
    /// just emptied).
    waiting_links: IndexSet,
    /// Links whose waiting vehicles are asleep until a vehicle leaves the link.
    origin_asleep: Vec<bool>,
    /// Per link: its stop-line queue (the sum of its movements' ready
    /// prefixes) as of the last count.
    link_queue: Vec<u32>,
    /// When a movement's ready prefix can next grow.
    count_due: Calendar,
    /// The bin whose stop-line queues were last recorded for every link.
    queue_bin: usize,
    /// The last step run (`None` before the first).
    last_step: Option<u32>,
    /// Reference mode for tests: no queue or origin ever sleeps and every
    /// queue is counted every step (what the wake-ups must reproduce).
    #[cfg(test)]
    pub(crate) visit_all: bool,
    occ: Vec<u32>,
    storage: Vec<f64>,
    entry_credit: Vec<f64>,
    entry_rate: Vec<f64>,
    closed: Vec<u16>,
    /// Whether any link is closed now (departures check their routes only then).
    any_closed: bool,
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
        let mut paths = Vec::with_capacity(
            trips
                .iter()
                .map(|t| match &t.route {
                    Route::Fixed(r) => r.len(),
                    Route::Od { .. } => 2,
                })
                .sum(),
        );
        let mut veh = Vec::with_capacity(trips.len());
        let trips = trips
            .into_iter()
            .map(|t| {
                let z = normal(&mut rng_speed).clamp(-2.0, 2.0);
                let start = u32::try_from(paths.len()).expect("fewer than 2^32 path links");
                let od = match t.route {
                    Route::Fixed(r) => {
                        paths.extend_from_slice(&r);
                        None
                    }
                    Route::Od { from, to } => {
                        paths.extend_from_slice(&[from, to]);
                        Some((from, to))
                    }
                };
                veh.push(Veh {
                    start,
                    len: u32::try_from(paths.len()).expect("fewer than 2^32 path links") - start,
                    pos: 0,
                    mv: SINK,
                    state: State::Scheduled,
                    sf: (1.0 + p.speed_factor_sd * z).max(0.1),
                    enter_s: f64::NAN,
                    ready_s: f64::INFINITY,
                    ff_s: 0.0,
                    dist_m: 0.0,
                });
                TripInfo {
                    id: t.id,
                    depart_s: t.depart_s,
                    od,
                    entered_s: f64::NAN,
                    arrival_s: f64::NAN,
                }
            })
            .collect();
        let n_bins = (horizon_s as usize).div_ceil(p.bin_s as usize).max(1);
        let tt_est = net.links.iter().map(|l| l.free_flow_s()).collect();
        let mut s = Self {
            router: Router::new(nl),
            mq: vec![Fifo::default(); nm],
            mv_awake: IndexSet::new(nm),
            mv_seen: vec![0; nm],
            mv_accrues: vec![false; nm],
            mv_wake: Calendar::default(),
            room_waiters: vec![Vec::new(); nl],
            mv_link: net.movements.iter().map(|m| m.from.0).collect(),
            mv_credit: vec![0.0; nm],
            mv_rate: vec![0.0; nm],
            mv_lost: vec![0.0; nm],
            mv_storage: vec![1.0; nm],
            mv_blocked: vec![f64::NAN; nm],
            green_start: vec![f64::NEG_INFINITY; nm],
            sig_phase: vec![0; net.signals.len()],
            sig_next: vec![0.0; net.signals.len()],
            sink: vec![Fifo::default(); nl],
            sink_active: IndexSet::new(nl),
            waiting: vec![VecDeque::new(); nl],
            waiting_links: IndexSet::new(nl),
            origin_asleep: vec![false; nl],
            link_queue: vec![0; nl],
            count_due: Calendar::default(),
            queue_bin: usize::MAX,
            last_step: None,
            #[cfg(test)]
            visit_all: false,
            occ: vec![0; nl],
            storage: vec![1.0; nl],
            entry_credit: vec![0.0; nl],
            entry_rate: vec![0.0; nl],
            closed: vec![0; nl],
            any_closed: false,
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
            paths,
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
    fn target(&self, v: &Veh, pos: u32) -> u32 {
        match v.link_at(&self.paths, pos + 1) {
            Some(next) => self
                .net
                .movement(self.paths[(v.start + pos) as usize], next)
                .map_or(SINK, |m| m.0),
            None => SINK,
        }
    }

    /// Gives vehicle `vi` a new path: the first `keep` links of its current
    /// one followed by `tail`.
    fn set_path(&mut self, vi: usize, keep: u32, tail: &[LinkIdx]) {
        let v = &mut self.veh[vi];
        let start = self.paths.len();
        let old = v.start as usize;
        self.paths.extend_from_within(old..old + keep as usize);
        self.paths.extend_from_slice(tail);
        v.start = u32::try_from(start).expect("fewer than 2^32 path links");
        v.len = u32::try_from(self.paths.len() - start).expect("path fits u32");
    }

    fn has_space(&self, l: usize, mv: u32) -> bool {
        self.room(l, mv) == Room::Yes
    }

    /// Whether a vehicle can enter link `l` into the queue of movement `mv`
    /// now, and if not, what can change that.
    fn room(&self, l: usize, mv: u32) -> Room {
        if self.closed[l] > 0
            || f64::from(self.occ[l]) + 1.0 > self.storage[l] + 1e-9
            || (mv != SINK
                && f64::from(u32::try_from(self.mq[mv as usize].len()).expect("queue fits u32"))
                    + 1.0
                    > self.mv_storage[mv as usize] + 1e-9)
        {
            Room::WhenLeft
        } else if self.entry_credit[l] < 1.0 - 1e-9 {
            Room::NextSecond
        } else {
            Room::Yes
        }
    }

    /// Whether queues and origins may sleep (always, except in the tests'
    /// reference mode).
    fn may_sleep(&self) -> bool {
        #[cfg(test)]
        if self.visit_all {
            return false;
        }
        true
    }

    /// A vehicle left link `l` (or its storage changed): wakes the queues and
    /// the origin waiting for room on it.
    fn freed(&mut self, l: usize) {
        for m in self.room_waiters[l].drain(..) {
            self.mv_awake.insert(m as usize);
        }
        if self.origin_asleep[l] {
            self.origin_asleep[l] = false;
            self.waiting_links.insert(l);
        }
    }

    /// Wakes every queue and origin (after an edit), first bringing the
    /// credit of sleeping movements up to the last step with the rates in
    /// force until now.
    fn wake_all(&mut self) {
        for m in 0..self.mq.len() {
            if self.mq[m].is_empty() {
                continue;
            }
            if let Some(last) = self.last_step
                && self.mv_accrues[m]
                && last > self.mv_seen[m]
            {
                self.accrue(m, last - self.mv_seen[m]);
                self.mv_seen[m] = last;
            }
            self.mv_awake.insert(m);
        }
        for l in 0..self.waiting.len() {
            self.room_waiters[l].clear();
            self.origin_asleep[l] = false;
            if !self.waiting[l].is_empty() {
                self.waiting_links.insert(l);
            }
        }
    }

    /// Applies `steps` green seconds of movement `m`'s saturation credit
    /// recurrence (carry at most one lane's worth per lane, add the rate),
    /// stopping early at its fixed point.
    fn accrue(&mut self, m: usize, steps: u32) {
        let cap = f64::from(self.net.movements[m].lanes).max(1.0);
        let rate = self.mv_rate[m];
        let mut c = self.mv_credit[m];
        for _ in 0..steps {
            let next = c.min(cap) + rate;
            if next == c {
                break;
            }
            c = next;
        }
        self.mv_credit[m] = c;
    }

    /// Puts vehicle `vi` onto link `route[pos]` at time `t`, having crossed
    /// the junction in `cross_s`, into the queue of movement `mv` (its
    /// [`Self::target`] there).
    fn enter(&mut self, vi: u32, t: f64, cross_s: f64, mv: u32) {
        let v = &mut self.veh[vi as usize];
        let l = v.link(&self.paths);
        let link = &self.net.links[l];
        let ff = link.length_m / (link.speed_mps * v.sf);
        v.enter_s = t;
        v.ready_s = t + cross_s + ff;
        v.mv = mv;
        v.state = State::OnLink;
        let ready_s = v.ready_s;
        let then = if mv == SINK {
            SINK
        } else {
            self.target(&self.veh[vi as usize], self.veh[vi as usize].pos + 1)
        };
        let slot = Slot { ready_s, vi, then };
        self.occ[l] += 1;
        self.entry_credit[l] -= 1.0;
        let b = self.bin(t);
        self.bin_entered[l * self.n_bins + b] += 1;
        self.enqueue(l, mv, slot);
    }

    /// Appends `slot` to movement `mv`'s queue, or to link `l`'s sink.
    fn enqueue(&mut self, l: usize, mv: u32, slot: Slot) {
        if mv == SINK {
            self.sink[l].push(slot);
            self.sink_active.insert(l);
        } else {
            let m = mv as usize;
            let q = &mut self.mq[m];
            let was_empty = q.is_empty();
            let prefix_ends_here = q.nready() as usize == q.len();
            q.push(slot);
            if prefix_ends_here {
                self.count_due.at(step_at(slot.ready_s), m);
            }
            if was_empty {
                // a new head: behind a non-empty queue nothing changes for it
                self.mv_awake.insert(m);
            }
        }
    }

    /// Takes the head of movement `m`'s queue out, keeping its link's
    /// stop-line count.
    fn mq_pop(&mut self, m: usize) -> Option<Slot> {
        let n0 = self.mq[m].nready();
        let s = self.mq[m].pop()?;
        if n0 > 0 {
            self.link_queue[self.mv_link[m] as usize] -= 1;
        } else {
            self.count_due.at(step_at(self.mq[m].pending_ready_s()), m);
        }
        Some(s)
    }

    /// Takes vehicle `vi` out of movement `m`'s queue wherever it is.
    fn mq_remove(&mut self, m: usize, vi: u32) {
        let n0 = self.mq[m].nready() as usize;
        match self.mq[m].remove(vi) {
            Some(k) if k < n0 => self.link_queue[self.mv_link[m] as usize] -= 1,
            Some(k) if k == n0 => self.count_due.at(step_at(self.mq[m].pending_ready_s()), m),
            _ => {}
        }
    }

    /// Bookkeeping when vehicle `vi` leaves its current link at `t` by a
    /// movement with crossing length `cross_m` (0 at the destination).
    fn leave(&mut self, vi: u32, t: f64, cross_m: f64) {
        let v = &mut self.veh[vi as usize];
        let l = v.link(&self.paths);
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
        self.freed(l);
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
        self.last_step = Some(step_index(t));
    }
}

/// Whether a link has room for one more vehicle, and if not, what can change that.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Room {
    Yes,
    /// Only the link's entry capacity is lacking: it refills every second.
    NextSecond,
    /// The link is full (or closed): only a vehicle leaving it, or an edit,
    /// makes room.
    WhenLeft,
}

/// The index of the step at `t` (steps are whole seconds).
fn step_index(t: f64) -> u32 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = t.max(0.0) as u32;
    s
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
