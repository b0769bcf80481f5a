//! The event-handling model: arrivals, dispatch, teams on shift calendars,
//! lifecycle and SLA, run as a `scenario::Engine`.

use std::collections::BTreeMap;

use domain::EventChannel;
use rand::RngExt as _;
use rand_distr::{Distribution as _, Exp1};
use scenario::{ChaCha8Rng, Engine, KpiDelta, Progress, Scheduler, SimTime, compare, fork, seeded};
use serde::{Deserialize, Serialize};

use crate::calendar::DAY;
use crate::calendar::{HOUR, WEEK_HOURS};
use crate::kpi::{Frame, Incident, KpiReport, Names, PartKpis, Scratch, aggregate_part, merge};
use crate::spec::{CitySpec, Compiled, SpecError};
use crate::station::Station;

mod parts;
mod queue;

pub(crate) use parts::Part;
use queue::{Calendar, EventQueue};

const NONE: u64 = u64::MAX;

/// Events of the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ModelEvent {
    /// The next arrival of a stream.
    Arrive(u32),
    /// A replayed event is reported.
    Replay(u32),
    /// A job reaches its team.
    Dispatch(u32),
    /// A worker finishes a job.
    Finish(u32),
    /// A team's on-duty count changes.
    Shift(u32),
}

/// One job's lifecycle, times in ms (`NONE` = not yet).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Job {
    reported: u64,
    dispatched: u64,
    started: u64,
    resolved: u64,
    closed: u64,
    due: u64,
    service: u64,
    stream: u32,
    class: u8,
    channel: EventChannel,
}

struct StreamState {
    /// draws, per arrival: the gap, then the job's channel, handling,
    /// dispatch and verification times; the count per arrival never depends
    /// on the arrival's time, so variants that move arrivals keep each job's
    /// attributes (common random numbers)
    rng: ChaCha8Rng,
    /// continuous time of the next arrival, ms
    t: f64,
    /// the next arrival's REPORTED time, whole ms
    next_report: u64,
    /// the stream's index in the spec
    global: u32,
    /// its team, as an index into the part's teams
    team: u32,
    /// the dispatch delay when it is the same for every job of the stream:
    /// then the stream's event fires at the dispatch (REPORTED + delay, capped
    /// at the horizon) and no separate dispatch event is needed
    fixed_dispatch: Option<u64>,
}

/// The random streams of a run: one per arrival stream, forked from the
/// seed in spec order, then one for replayed events. A part of the city
/// takes its streams' generators, so splitting the city changes no draw.
pub(crate) struct Rngs {
    streams: Vec<ChaCha8Rng>,
    replay: ChaCha8Rng,
}

impl Rngs {
    pub(crate) fn new(c: &Compiled) -> Self {
        let mut master = seeded(c.seed);
        let streams = c.streams.iter().map(|_| fork(&mut master)).collect();
        let replay = fork(&mut master);
        Self { streams, replay }
    }
}

/// The simulation of one part of a city (or of all of it): its arrival
/// streams, teams and jobs. Events name streams, teams and replayed events
/// by their index in the part, jobs by their index in `jobs`.
pub(crate) struct Sim {
    streams: Vec<StreamState>,
    stations: Vec<Station>,
    /// per team: sorted (hour, workers) changes and the next one's index
    shift_plan: Vec<(Vec<(u64, u32)>, usize)>,
    /// (stream in the part, reported, service, channel)
    replay: Vec<(u32, u64, Option<u64>, EventChannel)>,
    replay_rng: ChaCha8Rng,
    jobs: Vec<Job>,
    events: u64,
}

/// What a team did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TeamUse {
    /// Worker-hours on duty within the horizon.
    pub on_duty_h: f64,
    /// Worker-hours spent handling jobs within the horizon.
    pub busy_h: f64,
    /// `busy_h / on_duty_h` (can exceed 1 when workers finish jobs past their shift).
    pub utilisation: Option<f64>,
}

/// The report of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Seed.
    pub seed: u64,
    /// Horizon, hours.
    pub horizon_h: f64,
    /// Scheduler events handled.
    pub events: u64,
    /// Jobs reported within the horizon.
    pub jobs: u64,
    /// KPIs (time stats in hours; day 0 starts at the run start).
    pub kpis: KpiReport,
    /// Per team, by name.
    pub teams: BTreeMap<String, TeamUse>,
}

/// A what-if's run and its city-wide deltas against the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantReport {
    /// The variant's name.
    pub name: String,
    /// Its run.
    pub report: RunReport,
    /// City-wide KPI deltas, variant minus baseline.
    pub deltas: Vec<KpiDelta>,
}

/// A spec's baseline and variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimulationReport {
    /// The baseline run.
    pub baseline: RunReport,
    /// The what-ifs, in spec order.
    pub variants: Vec<VariantReport>,
}

/// A run of the event-handling model on one scheduler. Build with
/// [`CityModel::new`], drive with [`scenario::run_until`] (or
/// [`CityModel::run`]), read with [`CityModel::report`]. [`run_once`] gives
/// the same report faster, running independent parts of the city apart.
pub struct CityModel {
    c: Compiled,
    part: Part,
    sim: Sim,
}

impl CityModel {
    /// Builds the baseline (`variant = None`) or a named variant of `spec`
    /// and schedules its first events.
    ///
    /// # Errors
    /// An invalid spec, or an unknown variant name.
    pub fn new(
        spec: &CitySpec,
        variant: Option<&str>,
        sched: &mut Scheduler<ModelEvent>,
    ) -> Result<Self, SpecError> {
        let c = compile(spec, variant)?;
        let part = Part::whole(&c);
        let rngs = Rngs::new(&c);
        let sim = Sim::new(&c, &part, &rngs, Vec::new(), sched);
        Ok(Self { c, part, sim })
    }

    /// Runs to the horizon, reporting progress in simulated ms.
    pub fn run(&mut self, sched: &mut Scheduler<ModelEvent>, progress: &mut dyn Progress) -> u64 {
        scenario::run_until(self, sched, SimTime(self.c.horizon_ms), progress)
    }

    /// Scheduler events handled so far.
    pub fn events(&self) -> u64 {
        self.sim.events
    }

    /// Jobs reported so far.
    pub fn jobs(&self) -> usize {
        self.sim.jobs.len()
    }

    /// The incidents so far, as the KPI aggregation reads them (times in ms
    /// from the run start; lifecycle steps after the horizon are absent).
    pub fn incidents(&self) -> impl Iterator<Item = Incident> + Clone + '_ {
        self.sim.incidents(&self.c)
    }

    /// The report of the run so far (state taken at the horizon).
    pub fn report(&self) -> RunReport {
        let mut scratch = Scratch::default();
        let out = self.sim.outcome(&self.c, &self.part, &mut scratch);
        assemble(&self.c, std::slice::from_ref(&self.part), vec![out])
    }
}

/// The compiled baseline or named variant of a spec.
fn compile(spec: &CitySpec, variant: Option<&str>) -> Result<Compiled, SpecError> {
    let v = variant
        .map(|name| {
            spec.variants
                .iter()
                .find(|v| v.name == name)
                .ok_or_else(|| SpecError::Unknown {
                    what: "variant",
                    name: name.to_string(),
                })
        })
        .transpose()?;
    spec.compile(v)
}

/// The frame of a run's KPIs: the state at the horizon, days from the run
/// start, a span holding every report (trimmed when merging).
fn run_frame(c: &Compiled) -> Frame {
    let h = c.horizon_ms;
    Frame {
        as_of: i64::try_from(h).expect("ms below 2^63"),
        origin: 0,
        d0: 0,
        n_days: usize::try_from(h.div_ceil(DAY)).expect("days fit usize"),
    }
}

/// What a part's run leaves for the report.
pub(crate) struct PartOutcome {
    kpis: PartKpis,
    events: u64,
    jobs: u64,
    /// per team of the part: busy and on-duty worker-ms within the horizon
    busy: Vec<u64>,
    duty: Vec<u64>,
}

/// The report of a run from its parts' outcomes (in part order).
pub(crate) fn assemble(c: &Compiled, parts: &[Part], outs: Vec<PartOutcome>) -> RunReport {
    let names = Names {
        communities: c.communities.clone(),
        teams: c.team_names.clone(),
        kinds: c.kind_names.clone(),
    };
    let (mut events, mut jobs) = (0, 0);
    let mut busy = vec![0u64; c.teams.len()];
    let mut duty = vec![0u64; c.teams.len()];
    let mut kpis = Vec::with_capacity(outs.len());
    for (part, out) in parts.iter().zip(outs) {
        events += out.events;
        jobs += out.jobs;
        for (k, &t) in part.teams.iter().enumerate() {
            busy[t as usize] = out.busy[k];
            duty[t as usize] = out.duty[k];
        }
        kpis.push(out.kpis);
    }
    let mut kpis = merge(&kpis, &run_frame(c), &names);
    let mut teams = BTreeMap::new();
    let (mut all_busy, mut all_duty) = (0u64, 0u64);
    for (t, (&b, &d)) in busy.iter().zip(&duty).enumerate() {
        all_busy += b;
        all_duty += d;
        #[allow(clippy::cast_precision_loss)]
        let u = TeamUse {
            on_duty_h: d as f64 / HOUR as f64,
            busy_h: b as f64 / HOUR as f64,
            utilisation: (d > 0).then(|| b as f64 / d as f64),
        };
        if let Some(k) = kpis.by_team.get_mut(&c.team_names[t]) {
            k.utilisation = u.utilisation;
        }
        teams.insert(c.team_names[t].clone(), u);
    }
    #[allow(clippy::cast_precision_loss)]
    {
        kpis.city.utilisation = (all_duty > 0).then(|| all_busy as f64 / all_duty as f64);
    }
    #[allow(clippy::cast_precision_loss)]
    RunReport {
        seed: c.seed,
        horizon_h: c.horizon_ms as f64 / HOUR as f64,
        events,
        jobs,
        kpis,
        teams,
    }
}

impl Sim {
    /// The part's state at time zero, with its first events scheduled;
    /// `jobs` is a table to reuse (emptied first).
    pub(crate) fn new(
        c: &Compiled,
        part: &Part,
        rngs: &Rngs,
        mut jobs: Vec<Job>,
        sched: &mut impl Calendar,
    ) -> Self {
        let team_in_part = |t: u32| {
            let k = part
                .teams
                .binary_search(&t)
                .expect("a stream's team is in its part");
            u32::try_from(k).expect("teams indexed by u32")
        };
        let mut streams: Vec<StreamState> = part
            .streams
            .iter()
            .map(|&s| {
                let st = &c.streams[s as usize];
                let kind = &c.kinds[st.kind as usize];
                StreamState {
                    rng: rngs.streams[s as usize].clone(),
                    t: 0.0,
                    next_report: 0,
                    global: s,
                    team: team_in_part(st.team),
                    fixed_dispatch: match kind.dispatch {
                        crate::spec::Dist::None => Some(0),
                        crate::spec::Dist::Fixed(ms) => Some(crate::spec::to_ms(ms)),
                        _ => None,
                    },
                }
            })
            .collect();
        let horizon_h = c.horizon_ms.div_ceil(HOUR);
        let mut stations = Vec::with_capacity(part.teams.len());
        let mut shift_plan = Vec::with_capacity(part.teams.len());
        for &t in &part.teams {
            let t = &c.teams[t as usize];
            let first = t.workers(0, c.start_how);
            stations.push(Station::new(first));
            let mut plan = Vec::new();
            let mut last = first;
            for (h, w) in (0..).zip(t.hourly(horizon_h, c.start_how)).skip(1) {
                if w != last {
                    plan.push((h, w));
                    last = w;
                }
            }
            shift_plan.push((plan, 0));
        }
        // expected jobs, so the job table does not grow by copying
        let weekly: f64 = part
            .streams
            .iter()
            .flat_map(|&s| c.streams[s as usize].rate.iter())
            .sum::<f64>()
            * HOUR as f64;
        let expected = weekly * (c.horizon_ms as f64 / (WEEK_HOURS as u64 * HOUR) as f64);
        let capacity = if expected.is_finite() && expected < 1.0e9 {
            to_count(expected * 1.01) + part.replays.len() + 1024
        } else {
            1024
        };
        jobs.clear();
        jobs.reserve(capacity);
        for (k, st) in streams.iter_mut().enumerate() {
            if let Some(at) = next_arrival(c, st) {
                st.next_report = at;
                let fire = Self::fire_time(st, at, c.horizon_ms);
                let k = u32::try_from(k).expect("streams indexed by u32");
                sched.schedule(fire, ModelEvent::Arrive(k));
            }
        }
        let replay: Vec<(u32, u64, Option<u64>, EventChannel)> = part
            .replays
            .iter()
            .map(|&i| {
                let (s, at, service, channel) = c.replay[i as usize];
                let k = part
                    .streams
                    .binary_search(&s)
                    .expect("a replayed stream is in its part");
                (u32::try_from(k).expect("u32"), at, service, channel)
            })
            .collect();
        let mut order: Vec<u32> = (0..u32::try_from(replay.len()).expect("u32")).collect();
        order.sort_by_key(|&i| (replay[i as usize].1, i));
        for i in order {
            let at = replay[i as usize].1;
            if at < c.horizon_ms {
                sched.schedule(at, ModelEvent::Replay(i));
            }
        }
        for (t, (plan, _)) in shift_plan.iter().enumerate() {
            if let Some(&(h, _)) = plan.first() {
                sched.schedule(h * HOUR, ModelEvent::Shift(u32::try_from(t).expect("u32")));
            }
        }
        Self {
            streams,
            stations,
            shift_plan,
            replay,
            replay_rng: rngs.replay.clone(),
            jobs,
            events: 0,
        }
    }

    fn new_job(
        &mut self,
        c: &Compiled,
        now: u64,
        stream: u32,
        service: Option<u64>,
        channel: Option<EventChannel>,
    ) -> u32 {
        let st = &mut self.streams[stream as usize];
        let kind = &c.kinds[c.streams[st.global as usize].kind as usize];
        let rng = if service.is_some() || channel.is_some() {
            &mut self.replay_rng
        } else {
            &mut st.rng
        };
        // fixed draw order per job: channel, service, dispatch, verify
        let u: f64 = rng.random();
        let channel = channel.unwrap_or_else(|| {
            kind.channels
                .iter()
                .find(|(c, _)| u < *c)
                .or(kind.channels.last())
                .map_or(EventChannel::CitizenCall, |&(_, ch)| ch)
        });
        let service = service.unwrap_or_else(|| kind.service.sample(rng));
        let dispatch = kind.dispatch.sample(rng);
        let verify = kind.verify.sample(rng);
        let id = u32::try_from(self.jobs.len()).expect("fewer than 2^32 jobs");
        self.jobs.push(Job {
            reported: now,
            dispatched: now + dispatch, // planned; becomes actual at the Dispatch event
            started: NONE,
            resolved: NONE,
            closed: verify, // verification delay until resolved
            due: kind.sla_ms.map_or(NONE, |s| now.saturating_add(s)),
            service,
            stream,
            class: kind.class,
            channel,
        });
        id
    }

    fn dispatch<Q: Calendar>(&mut self, now: u64, job: u32, sched: &mut Q) {
        let j = &mut self.jobs[job as usize];
        j.dispatched = now;
        let team = self.streams[j.stream as usize].team;
        if self.stations[team as usize].arrive(job, j.class) {
            self.start(now, job, sched);
        }
    }

    fn start<Q: Calendar>(&mut self, now: u64, job: u32, sched: &mut Q) {
        let j = &mut self.jobs[job as usize];
        j.started = now;
        sched.schedule(now + j.service, ModelEvent::Finish(job));
    }

    /// When a stream's event for an arrival reported at `at` fires: at the
    /// report, or at the dispatch for a fixed delay (capped at the horizon).
    fn fire_time(st: &StreamState, at: u64, horizon: u64) -> u64 {
        st.fixed_dispatch
            .map_or(at, |d| at.saturating_add(d).min(horizon))
    }

    fn submit<Q: Calendar>(&mut self, now: u64, job: u32, sched: &mut Q) {
        let planned = self.jobs[job as usize].dispatched;
        if planned > now {
            sched.schedule(planned, ModelEvent::Dispatch(job));
        } else {
            self.dispatch(now, job, sched);
        }
    }

    fn handle<Q: Calendar>(&mut self, c: &Compiled, now: u64, event: ModelEvent, sched: &mut Q) {
        self.events += 1;
        match event {
            ModelEvent::Arrive(s) => {
                let reported = self.streams[s as usize].next_report;
                let job = self.new_job(c, reported, s, None, None);
                let st = &mut self.streams[s as usize];
                if let Some(at) = next_arrival(c, st) {
                    st.next_report = at;
                    let fire = Self::fire_time(st, at, c.horizon_ms).max(now);
                    sched.schedule(fire, ModelEvent::Arrive(s));
                }
                // a fixed-delay job reported just before the horizon whose
                // dispatch falls after it stays undispatched
                if self.jobs[job as usize].dispatched <= now
                    || self.streams[s as usize].fixed_dispatch.is_none()
                {
                    self.submit(now, job, sched);
                }
            }
            ModelEvent::Replay(i) => {
                let (stream, _, service, channel) = self.replay[i as usize];
                let job = self.new_job(c, now, stream, service, Some(channel));
                self.submit(now, job, sched);
            }
            ModelEvent::Dispatch(job) => self.dispatch(now, job, sched),
            ModelEvent::Finish(job) => {
                let j = &mut self.jobs[job as usize];
                j.resolved = now;
                j.closed = now.saturating_add(j.closed);
                let team = self.streams[j.stream as usize].team;
                if let Some(next) = self.stations[team as usize].finish() {
                    self.start(now, next, sched);
                }
            }
            ModelEvent::Shift(t) => {
                let (plan, next) = &mut self.shift_plan[t as usize];
                let (_, workers) = plan[*next];
                *next += 1;
                if let Some(&(h, _)) = plan.get(*next) {
                    sched.schedule(h * HOUR, ModelEvent::Shift(t));
                }
                let st = &mut self.stations[t as usize];
                st.set_capacity(workers);
                while let Some(job) = self.stations[t as usize].take_next() {
                    self.start(now, job, sched);
                }
            }
        }
    }

    /// Handles every event up to the horizon (without progress reports).
    pub(crate) fn run(&mut self, c: &Compiled, queue: &mut EventQueue) {
        while let Some((now, ev)) = queue.pop() {
            if now > c.horizon_ms {
                break;
            }
            self.handle(c, now, ev, queue);
        }
    }

    /// The part's incidents (times in ms from the run start; lifecycle steps
    /// after the horizon are absent).
    fn incidents<'a>(&'a self, c: &'a Compiled) -> impl Iterator<Item = Incident> + Clone + 'a {
        let h = c.horizon_ms;
        let opt =
            move |t: u64| (t != NONE && t <= h).then(|| i64::try_from(t).expect("ms below 2^63"));
        self.jobs.iter().map(move |j| {
            let st = &c.streams[self.streams[j.stream as usize].global as usize];
            let kind = &c.kinds[st.kind as usize];
            let started = opt(j.started);
            Incident {
                community: st.community,
                team: st.team,
                kind: st.kind,
                priority: kind.priority,
                channel: j.channel,
                source_on_time: None,
                reported: i64::try_from(j.reported).expect("ms below 2^63"),
                dispatched: opt(j.dispatched),
                started,
                resolved: opt(j.resolved),
                closed: if j.resolved == NONE {
                    None
                } else {
                    opt(j.closed)
                },
                due: (j.due != NONE).then(|| i64::try_from(j.due).unwrap_or(i64::MAX)),
            }
        })
    }

    /// The part's KPIs and team use, state taken at the horizon.
    pub(crate) fn outcome(&self, c: &Compiled, part: &Part, scratch: &mut Scratch) -> PartOutcome {
        let h = c.horizon_ms;
        let kpis = aggregate_part(
            self.incidents(c),
            &run_frame(c),
            part.community_groups(),
            part.team_groups(),
            scratch,
        );
        // utilisation: busy time within the horizon over on-duty time
        let mut busy = vec![0u64; part.teams.len()];
        for j in &self.jobs {
            if j.started != NONE && j.started < h {
                let end = if j.resolved == NONE {
                    h
                } else {
                    j.resolved.min(h)
                };
                busy[self.streams[j.stream as usize].team as usize] += end - j.started;
            }
        }
        let duty = part
            .teams
            .iter()
            .map(|&t| {
                let team = &c.teams[t as usize];
                (0..)
                    .zip(team.hourly(h.div_ceil(HOUR), c.start_how))
                    .map(|(hr, w)| {
                        let len = ((hr + 1) * HOUR).min(h) - hr * HOUR;
                        u64::from(w) * len
                    })
                    .sum()
            })
            .collect();
        PartOutcome {
            kpis,
            events: self.events,
            jobs: self.jobs.len() as u64,
            busy,
            duty,
        }
    }

    /// Gives back the job table for reuse.
    pub(crate) fn into_jobs(self) -> Vec<Job> {
        self.jobs
    }
}

impl Engine for CityModel {
    type Event = ModelEvent;
    type Outcome = RunReport;

    fn handle(&mut self, now: SimTime, event: ModelEvent, sched: &mut Scheduler<ModelEvent>) {
        self.sim.handle(&self.c, now.as_millis(), event, sched);
    }

    fn outcome(&self) -> RunReport {
        self.report()
    }
}

/// Runs one variant (or the baseline) of a spec to its horizon, on as many
/// threads as the machine offers (see [`run_once_threads`]).
///
/// # Errors
/// An invalid spec or unknown variant.
pub fn run_once(
    spec: &CitySpec,
    variant: Option<&str>,
    progress: &mut dyn Progress,
) -> Result<RunReport, SpecError> {
    run_once_threads(spec, variant, available_threads(), progress)
}

/// Runs one variant (or the baseline) of a spec to its horizon. The city is
/// split into parts that share no team, community or random stream (see
/// `parts.rs`), and the parts run on up to `threads` threads. The report is
/// byte-identical for any thread count, and to [`CityModel`]'s on one
/// scheduler: each part draws from its own streams' generators, events inside
/// a part keep their order, and the KPIs are merged in part order with
/// integer sums.
///
/// # Errors
/// An invalid spec or unknown variant.
pub fn run_once_threads(
    spec: &CitySpec,
    variant: Option<&str>,
    threads: usize,
    progress: &mut dyn Progress,
) -> Result<RunReport, SpecError> {
    let c = compile(spec, variant)?;
    let parts = Part::split(&c);
    let outs = parts::run(&c, &parts, threads, progress);
    Ok(assemble(&c, &parts, outs))
}

/// Threads to run parts on: the machine's parallelism (1 if unknown). The
/// report does not depend on it.
fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Runs the baseline and every variant of a spec, with the variants' deltas.
/// All runs use the same seed: each stream's arrivals and job attributes come
/// from their own random streams, so a staff or policy variant sees the very
/// same events as the baseline (common random numbers).
///
/// # Errors
/// An invalid spec.
pub fn simulate(
    spec: &CitySpec,
    progress: &mut dyn Progress,
) -> Result<SimulationReport, SpecError> {
    simulate_threads(spec, available_threads(), progress)
}

/// [`simulate`] with each run on up to `threads` threads (the report does
/// not depend on it).
///
/// # Errors
/// An invalid spec.
pub fn simulate_threads(
    spec: &CitySpec,
    threads: usize,
    progress: &mut dyn Progress,
) -> Result<SimulationReport, SpecError> {
    spec.validate()?;
    let runs = 1 + spec.variants.len() as u64;
    let mut done = 0u64;
    let mut step = |p: &mut dyn Progress, variant: Option<&str>| {
        let mut inner = |d: u64, t: u64| p.update(done * t + d, runs * t);
        let r = run_once_threads(spec, variant, threads, &mut inner);
        done += 1;
        r
    };
    let baseline = step(progress, None)?;
    let base_flat = baseline.kpis.flat_city();
    let mut variants = Vec::new();
    for v in &spec.variants {
        let report = step(progress, Some(&v.name))?;
        let deltas = compare(&base_flat, &report.kpis.flat_city());
        variants.push(VariantReport {
            name: v.name.clone(),
            report,
            deltas,
        });
    }
    Ok(SimulationReport { baseline, variants })
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn to_count(x: f64) -> usize {
    x as usize
}

/// Advances a stream to its next arrival by inverting the piecewise-constant
/// cumulative rate; `None` when it falls at or after the horizon.
#[allow(clippy::cast_precision_loss)]
fn next_arrival(c: &Compiled, st: &mut StreamState) -> Option<u64> {
    let mut e: f64 = Exp1.sample(&mut st.rng);
    let spec = &c.streams[st.global as usize];
    let horizon = c.horizon_ms as f64;
    let hour = HOUR as f64;
    let mut t = st.t;
    // the hour from the start and of the week; `t` only moves to whole
    // hours below, so they advance by one (`end / hour` is exact)
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let mut h = (t / hour) as u64;
    let mut how = usize::try_from((h + c.start_how) % WEEK_HOURS as u64).expect("< 168");
    loop {
        if t >= horizon {
            st.t = t;
            return None;
        }
        let end = (h + 1) as f64 * hour;
        // rate per ms in hour `h`
        let mut r = spec.rate[how];
        for &(a, b, f) in &spec.surges {
            if a <= h && h < b {
                r *= f;
            }
        }
        let room = (end - t) * r;
        if r > 0.0 && e <= room {
            t += e / r;
            break;
        }
        e -= room.max(0.0);
        t = end;
        h += 1;
        how = if how + 1 == WEEK_HOURS { 0 } else { how + 1 };
    }
    st.t = t;
    let at = crate::spec::to_ms(t);
    (at < c.horizon_ms).then_some(at)
}
