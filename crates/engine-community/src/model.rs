//! The event-handling model: arrivals, dispatch, teams on shift calendars,
//! lifecycle and SLA, run as a `scenario::Engine`.

use std::collections::BTreeMap;

use domain::EventChannel;
use rand::RngExt as _;
use rand_distr::{Distribution as _, Exp1};
use scenario::{ChaCha8Rng, Engine, KpiDelta, Progress, Scheduler, SimTime, compare, fork, seeded};
use serde::{Deserialize, Serialize};

use crate::calendar::{HOUR, WEEK_HOURS};
use crate::kpi::{Incident, KpiOptions, KpiReport, Names, aggregate_iter};
use crate::spec::{CitySpec, Compiled, SpecError};
use crate::station::Station;

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
struct Job {
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
    /// the dispatch delay when it is the same for every job of the stream:
    /// then the stream's event fires at the dispatch (REPORTED + delay, capped
    /// at the horizon) and no separate dispatch event is needed
    fixed_dispatch: Option<u64>,
}

impl StreamState {
    fn new(master: &mut ChaCha8Rng) -> Self {
        Self {
            rng: fork(master),
            t: 0.0,
            next_report: 0,
            fixed_dispatch: None,
        }
    }
}

/// A run of the event-handling model. Build with [`CityModel::new`], drive
/// with [`scenario::run_until`] (or [`CityModel::run`]), read with
/// [`CityModel::report`].
pub struct CityModel {
    c: Compiled,
    jobs: Vec<Job>,
    stations: Vec<Station>,
    streams: Vec<StreamState>,
    replay_rng: ChaCha8Rng,
    /// per team: sorted (hour, workers) changes and the next one's index
    shift_plan: Vec<(Vec<(u64, u32)>, usize)>,
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
        let c = spec.compile(v)?;
        Ok(Self::from_compiled(c, sched))
    }

    fn from_compiled(c: Compiled, sched: &mut Scheduler<ModelEvent>) -> Self {
        let mut master = seeded(c.seed);
        let mut streams: Vec<StreamState> = c
            .streams
            .iter()
            .map(|_| StreamState::new(&mut master))
            .collect();
        let replay_rng = fork(&mut master);
        let horizon_h = c.horizon_ms.div_ceil(HOUR);
        let mut stations = Vec::with_capacity(c.teams.len());
        let mut shift_plan = Vec::with_capacity(c.teams.len());
        for t in &c.teams {
            let first = t.workers(0, c.start_how);
            stations.push(Station::new(first));
            let mut plan = Vec::new();
            let mut last = first;
            for h in 1..horizon_h {
                let w = t.workers(h, c.start_how);
                if w != last {
                    plan.push((h, w));
                    last = w;
                }
            }
            shift_plan.push((plan, 0));
        }
        // expected jobs, so the job table does not grow by copying
        let weekly: f64 = c.streams.iter().flat_map(|s| s.rate.iter()).sum::<f64>() * HOUR as f64;
        let expected = weekly * (c.horizon_ms as f64 / (WEEK_HOURS as u64 * HOUR) as f64);
        let capacity = if expected.is_finite() && expected < 1.0e9 {
            to_count(expected * 1.01) + c.replay.len() + 1024
        } else {
            1024
        };
        let mut model = Self {
            c,
            jobs: Vec::with_capacity(capacity),
            stations,
            streams: Vec::new(),
            replay_rng,
            shift_plan,
            events: 0,
        };
        for (s, st) in streams.iter_mut().enumerate() {
            let kind = &model.c.kinds[model.c.streams[s].kind as usize];
            st.fixed_dispatch = match kind.dispatch {
                crate::spec::Dist::None => Some(0),
                crate::spec::Dist::Fixed(ms) => Some(crate::spec::to_ms(ms)),
                _ => None,
            };
            let s = u32::try_from(s).expect("streams indexed by u32");
            if let Some(at) = next_arrival(&model.c, s, st) {
                st.next_report = at;
                let fire = Self::fire_time(st, at, model.c.horizon_ms);
                sched.schedule(SimTime(fire), ModelEvent::Arrive(s));
            }
        }
        model.streams = streams;
        let mut order: Vec<u32> = (0..u32::try_from(model.c.replay.len()).expect("u32")).collect();
        order.sort_by_key(|&i| (model.c.replay[i as usize].1, i));
        for i in order {
            let at = model.c.replay[i as usize].1;
            if at < model.c.horizon_ms {
                sched.schedule(SimTime(at), ModelEvent::Replay(i));
            }
        }
        for (t, (plan, _)) in model.shift_plan.iter().enumerate() {
            if let Some(&(h, _)) = plan.first() {
                sched.schedule(
                    SimTime(h * HOUR),
                    ModelEvent::Shift(u32::try_from(t).expect("u32")),
                );
            }
        }
        model
    }

    fn new_job(
        &mut self,
        now: u64,
        stream: u32,
        service: Option<u64>,
        channel: Option<EventChannel>,
    ) -> u32 {
        let (kind_ix, rng) = {
            let st = &self.c.streams[stream as usize];
            let rng = if service.is_some() || channel.is_some() {
                &mut self.replay_rng
            } else {
                &mut self.streams[stream as usize].rng
            };
            (st.kind, rng)
        };
        let kind = &self.c.kinds[kind_ix as usize];
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

    fn dispatch(&mut self, now: u64, job: u32, sched: &mut Scheduler<ModelEvent>) {
        let j = &mut self.jobs[job as usize];
        j.dispatched = now;
        let team = self.c.streams[j.stream as usize].team;
        if self.stations[team as usize].arrive(job, j.class) {
            self.start(now, job, sched);
        }
    }

    fn start(&mut self, now: u64, job: u32, sched: &mut Scheduler<ModelEvent>) {
        let j = &mut self.jobs[job as usize];
        j.started = now;
        sched.schedule(SimTime(now + j.service), ModelEvent::Finish(job));
    }

    /// When a stream's event for an arrival reported at `at` fires: at the
    /// report, or at the dispatch for a fixed delay (capped at the horizon).
    fn fire_time(st: &StreamState, at: u64, horizon: u64) -> u64 {
        st.fixed_dispatch
            .map_or(at, |d| at.saturating_add(d).min(horizon))
    }

    fn submit(&mut self, now: u64, job: u32, sched: &mut Scheduler<ModelEvent>) {
        let planned = self.jobs[job as usize].dispatched;
        if planned > now {
            sched.schedule(SimTime(planned), ModelEvent::Dispatch(job));
        } else {
            self.dispatch(now, job, sched);
        }
    }

    /// Runs to the horizon, reporting progress in simulated ms.
    pub fn run(&mut self, sched: &mut Scheduler<ModelEvent>, progress: &mut dyn Progress) -> u64 {
        scenario::run_until(self, sched, SimTime(self.c.horizon_ms), progress)
    }

    /// Scheduler events handled so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Jobs reported so far.
    pub fn jobs(&self) -> usize {
        self.jobs.len()
    }

    /// The incidents so far, as the KPI aggregation reads them (times in ms
    /// from the run start; lifecycle steps after the horizon are absent).
    pub fn incidents(&self) -> impl Iterator<Item = Incident> + Clone + '_ {
        let h = self.c.horizon_ms;
        let opt =
            move |t: u64| (t != NONE && t <= h).then(|| i64::try_from(t).expect("ms below 2^63"));
        self.jobs.iter().map(move |j| {
            let st = &self.c.streams[j.stream as usize];
            let kind = &self.c.kinds[st.kind as usize];
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

    /// The report of the run so far (state taken at the horizon).
    pub fn report(&self) -> RunReport {
        let names = Names {
            communities: self.c.communities.clone(),
            teams: self.c.team_names.clone(),
            kinds: self.c.kind_names.clone(),
        };
        let h = self.c.horizon_ms;
        let opts = KpiOptions {
            as_of_ms: Some(i64::try_from(h).expect("ms below 2^63")),
            day_origin_ms: Some(0),
        };
        let mut kpis = aggregate_iter(self.incidents(), &names, &opts);
        // utilisation: busy time within the horizon over on-duty time
        let mut busy = vec![0u64; self.c.teams.len()];
        for j in &self.jobs {
            if j.started != NONE && j.started < h {
                let end = if j.resolved == NONE {
                    h
                } else {
                    j.resolved.min(h)
                };
                busy[self.c.streams[j.stream as usize].team as usize] += end - j.started;
            }
        }
        let mut teams = BTreeMap::new();
        let (mut all_busy, mut all_duty) = (0u64, 0u64);
        for (t, team) in self.c.teams.iter().enumerate() {
            let mut duty = 0u64;
            for hr in 0..h.div_ceil(HOUR) {
                let len = ((hr + 1) * HOUR).min(h) - hr * HOUR;
                duty += u64::from(team.workers(hr, self.c.start_how)) * len;
            }
            all_busy += busy[t];
            all_duty += duty;
            #[allow(clippy::cast_precision_loss)]
            let u = TeamUse {
                on_duty_h: duty as f64 / HOUR as f64,
                busy_h: busy[t] as f64 / HOUR as f64,
                utilisation: (duty > 0).then(|| busy[t] as f64 / duty as f64),
            };
            if let Some(k) = kpis.by_team.get_mut(&self.c.team_names[t]) {
                k.utilisation = u.utilisation;
            }
            teams.insert(self.c.team_names[t].clone(), u);
        }
        #[allow(clippy::cast_precision_loss)]
        {
            kpis.city.utilisation = (all_duty > 0).then(|| all_busy as f64 / all_duty as f64);
        }
        #[allow(clippy::cast_precision_loss)]
        RunReport {
            seed: self.c.seed,
            horizon_h: h as f64 / HOUR as f64,
            events: self.events,
            jobs: self.jobs.len() as u64,
            kpis,
            teams,
        }
    }
}

impl Engine for CityModel {
    type Event = ModelEvent;
    type Outcome = RunReport;

    fn handle(&mut self, now: SimTime, event: ModelEvent, sched: &mut Scheduler<ModelEvent>) {
        let now = now.as_millis();
        self.events += 1;
        match event {
            ModelEvent::Arrive(s) => {
                let reported = self.streams[s as usize].next_report;
                let job = self.new_job(reported, s, None, None);
                let st = &mut self.streams[s as usize];
                if let Some(at) = next_arrival(&self.c, s, st) {
                    st.next_report = at;
                    let fire = Self::fire_time(st, at, self.c.horizon_ms).max(now);
                    sched.schedule(SimTime(fire), ModelEvent::Arrive(s));
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
                let (stream, _, service, channel) = self.c.replay[i as usize];
                let job = self.new_job(now, stream, service, Some(channel));
                self.submit(now, job, sched);
            }
            ModelEvent::Dispatch(job) => self.dispatch(now, job, sched),
            ModelEvent::Finish(job) => {
                let j = &mut self.jobs[job as usize];
                j.resolved = now;
                j.closed = now.saturating_add(j.closed);
                let team = self.c.streams[j.stream as usize].team;
                if let Some(next) = self.stations[team as usize].finish() {
                    self.start(now, next, sched);
                }
            }
            ModelEvent::Shift(t) => {
                let (plan, next) = &mut self.shift_plan[t as usize];
                let (_, workers) = plan[*next];
                *next += 1;
                if let Some(&(h, _)) = plan.get(*next) {
                    sched.schedule(SimTime(h * HOUR), ModelEvent::Shift(t));
                }
                let st = &mut self.stations[t as usize];
                st.set_capacity(workers);
                while let Some(job) = self.stations[t as usize].take_next() {
                    self.start(now, job, sched);
                }
            }
        }
    }

    fn outcome(&self) -> RunReport {
        self.report()
    }
}

/// Runs one variant (or the baseline) of a spec to its horizon.
///
/// # Errors
/// An invalid spec or unknown variant.
pub fn run_once(
    spec: &CitySpec,
    variant: Option<&str>,
    progress: &mut dyn Progress,
) -> Result<RunReport, SpecError> {
    let mut sched = Scheduler::new();
    let mut model = CityModel::new(spec, variant, &mut sched)?;
    model.run(&mut sched, progress);
    Ok(model.report())
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
    spec.validate()?;
    let runs = 1 + spec.variants.len() as u64;
    let mut done = 0u64;
    let mut step = |p: &mut dyn Progress, variant: Option<&str>| {
        let mut inner = |d: u64, t: u64| p.update(done * t + d, runs * t);
        let r = run_once(spec, variant, &mut inner);
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

/// Rate (per ms) of stream `s` in hour `h` from the start.
fn rate(c: &Compiled, s: u32, h: u64) -> f64 {
    let st = &c.streams[s as usize];
    let how = usize::try_from((h + c.start_how) % WEEK_HOURS as u64).expect("< 168");
    let mut r = st.rate[how];
    for &(a, b, f) in &st.surges {
        if a <= h && h < b {
            r *= f;
        }
    }
    r
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn to_count(x: f64) -> usize {
    x as usize
}

/// Advances a stream to its next arrival by inverting the piecewise-constant
/// cumulative rate; `None` when it falls at or after the horizon.
#[allow(clippy::cast_precision_loss)]
fn next_arrival(c: &Compiled, s: u32, st: &mut StreamState) -> Option<u64> {
    let mut e: f64 = Exp1.sample(&mut st.rng);
    let horizon = c.horizon_ms as f64;
    let hour = HOUR as f64;
    let mut t = st.t;
    loop {
        if t >= horizon {
            st.t = t;
            return None;
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let h = (t / hour) as u64;
        let end = (h + 1) as f64 * hour;
        let r = rate(c, s, h);
        let room = (end - t) * r;
        if r > 0.0 && e <= room {
            t += e / r;
            break;
        }
        e -= room.max(0.0);
        t = end;
    }
    st.t = t;
    let at = crate::spec::to_ms(t);
    (at < c.horizon_ms).then_some(at)
}
