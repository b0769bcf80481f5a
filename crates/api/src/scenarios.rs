//! Scenario runs: planners fork the live twin and ask "what if".
//!
//! [`ScenarioService`] holds the runs in memory (the newest
//! [`KEEP_FINISHED`] finished ones, at most [`MAX_ACTIVE`] queued or
//! running) and executes them one at a time ([`WORKERS`]) on
//! `spawn_blocking`: each run simulates a baseline (the snapshot as it is)
//! and a variant (the planner's edits) with the same seed, and compares
//! their KPIs. Engines are pure and deterministic, so the same request on
//! the same twin version gives an identical result.
//!
//! # Terminology
//! - **Run**: one request: a baseline, a variant and their comparison.
//! - **Phase**: `baseline`, `variant` or `compare`; progress is the fraction
//!   of the whole run.
//! - **Fork**: the run reads the twin snapshot taken when it was created
//!   (`twin_version`), never the live twin while it runs.
//!
//! Cancellation is cooperative: the engines' event loops run in slices
//! ([`SLICES`] per simulation) and check the run's flag between slices.

mod community;
mod energy;
mod traffic;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use domain::{SimTime, Timestamp};
use scenario::{Engine, NoProgress, Scheduler, run_until};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::Semaphore;
use twin::TwinSnapshot;
use utoipa::ToSchema;

pub use community::CommunityVariant;
pub use energy::EnergyVariant;
pub use traffic::TrafficVariant;

use crate::ApiError;
use crate::util::{iso, now};

/// Most runs queued or running at once; one more is refused (429).
pub const MAX_ACTIVE: usize = 8;
/// Finished runs (done, failed, cancelled) kept in memory, newest first.
pub const KEEP_FINISHED: usize = 50;
/// Runs executed at the same time (the engines are single-threaded and
/// CPU-bound; the rest of the process needs a core too).
pub const WORKERS: usize = 1;
/// Event-loop slices per simulation: the cancellation flag is checked and
/// progress reported between slices.
pub const SLICES: u64 = 100;

/// The engine a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EngineKind {
    /// Road traffic (`engine-traffic`).
    Traffic,
    /// Community event handling (`engine-community`).
    Community,
    /// Distribution feeders (`engine-energy`).
    Energy,
}

impl EngineKind {
    /// Parses `traffic`, `community` or `energy`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "traffic" => Some(Self::Traffic),
            "community" => Some(Self::Community),
            "energy" => Some(Self::Energy),
            _ => None,
        }
    }

    /// `(default, min, max)` horizon, s.
    pub fn horizon_bounds_s(self) -> (u64, u64, u64) {
        match self {
            Self::Traffic => traffic::HORIZON_S,
            Self::Community => community::HORIZON_S,
            Self::Energy => energy::HORIZON_S,
        }
    }
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting for a worker.
    Queued,
    /// Simulating.
    Running,
    /// Finished with a result.
    Done,
    /// Finished with an error.
    Failed,
    /// Cancelled before it finished.
    Cancelled,
}

impl RunStatus {
    /// Queued or running.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Queued | Self::Running)
    }
}

/// What part of a run is simulating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The snapshot as it is.
    Baseline,
    /// The snapshot with the planner's edits.
    Variant,
    /// KPIs and map deltas.
    Compare,
}

impl Phase {
    fn from_u8(x: u8) -> Self {
        match x {
            0 => Self::Baseline,
            1 => Self::Variant,
            _ => Self::Compare,
        }
    }
}

/// Progress of a run.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProgressDto {
    /// Fraction of the whole run done, 0..1.
    pub fraction: f64,
    /// The current phase.
    pub phase: Phase,
    /// Estimated seconds left (from the rate so far); `null` when unknown.
    pub eta_s: Option<f64>,
}

/// Which way a KPI improves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Better {
    /// Lower is better.
    Lower,
    /// Higher is better.
    Higher,
}

/// Whether the variant improves a KPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Improves by at least [`SAME_PCT`] % (or from zero).
    Better,
    /// Worsens by at least [`SAME_PCT`] %.
    Worse,
    /// Changes by less than [`SAME_PCT`] % of the baseline.
    Same,
}

/// Relative change, %, below which a KPI is judged the `same`.
pub const SAME_PCT: f64 = 0.5;

/// One KPI of the baseline next to the variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct KpiRow {
    /// Stable id (`avg_travel_time_s`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Unit (`s`, `km`, `ratio`, ...).
    pub unit: String,
    /// Baseline value.
    pub baseline: f64,
    /// Variant value.
    pub variant: f64,
    /// `variant - baseline`.
    pub delta: f64,
    /// `delta / |baseline|`, %; `null` when the baseline is zero.
    pub delta_pct: Option<f64>,
    /// Which way is better.
    pub better: Better,
    /// The judgement.
    pub verdict: Verdict,
}

/// A KPI an engine reports, with its presentation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KpiDef {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) unit: &'static str,
    pub(crate) better: Better,
}

/// Rows for the KPIs of `defs` present in both maps, in `defs` order
/// (deltas by `scenario::compare`).
pub(crate) fn kpi_rows(
    defs: &[KpiDef],
    baseline: &BTreeMap<String, f64>,
    variant: &BTreeMap<String, f64>,
) -> Vec<KpiRow> {
    let deltas: BTreeMap<String, scenario::KpiDelta> = scenario::compare(baseline, variant)
        .into_iter()
        .filter(|d| d.baseline.is_finite() && d.variant.is_finite())
        .map(|d| (d.kpi.clone(), d))
        .collect();
    defs.iter()
        .filter_map(|def| {
            let d = deltas.get(def.id)?;
            let delta_pct = d.relative.map(|r| r * 100.0);
            let same = match delta_pct {
                Some(p) => p.abs() < SAME_PCT,
                None => d.delta == 0.0,
            };
            let up = d.delta > 0.0;
            let verdict = if same {
                Verdict::Same
            } else if up == (def.better == Better::Higher) {
                Verdict::Better
            } else {
                Verdict::Worse
            };
            Some(KpiRow {
                id: def.id.to_string(),
                name: def.name.to_string(),
                unit: def.unit.to_string(),
                baseline: d.baseline,
                variant: d.variant,
                delta: d.delta,
                delta_pct,
                better: def.better,
                verdict,
            })
        })
        .collect()
}

/// The outcome of a finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RunResult {
    /// KPI comparison, baseline next to variant.
    pub kpis: Vec<KpiRow>,
    /// The baseline's engine report.
    #[schema(value_type = Object)]
    pub baseline: Value,
    /// The variant's engine report.
    #[schema(value_type = Object)]
    pub variant: Value,
}

/// A run (`GET /api/v1/scenarios/{id}`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunDto {
    /// `scn-000001`.
    pub id: String,
    /// The planner's name for it.
    pub name: String,
    /// Engine.
    pub engine: EngineKind,
    /// Seed.
    pub seed: u64,
    /// Simulated horizon, s.
    pub horizon_s: u64,
    /// The what-if as requested.
    #[schema(value_type = Object)]
    pub variant: Value,
    /// Where it is.
    pub status: RunStatus,
    /// Progress.
    pub progress: ProgressDto,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When a worker started it.
    pub started_at: Option<String>,
    /// When it finished (done, failed or cancelled).
    pub finished_at: Option<String>,
    /// Wall-clock seconds of the simulation; `null` until done.
    pub wall_s: Option<f64>,
    /// Version of the twin snapshot it forked from.
    pub twin_version: u64,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Result, when done (left out of lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<RunResult>,
}

/// `GET /api/v1/scenarios`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RunList {
    /// Runs, newest first, without their results.
    pub runs: Vec<RunDto>,
}

/// Why a run stopped without a result.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Stop {
    Cancelled,
    Failed(String),
}

/// The result and the map of a finished run.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) result: RunResult,
    /// GeoJSON features.
    pub(crate) features: Vec<Value>,
}

/// Progress and cancellation, shared by a run's worker and the handlers.
#[derive(Debug, Default)]
pub(crate) struct Control {
    cancel: AtomicBool,
    fraction_bits: AtomicU64,
    phase: AtomicU8,
    started: Mutex<Option<Instant>>,
}

impl Control {
    fn start(&self) {
        *lock(&self.started) = Some(Instant::now());
    }

    fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// Whether the run was cancelled.
    pub(crate) fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Records progress.
    pub(crate) fn set(&self, phase: Phase, fraction: f64) {
        self.phase.store(phase as u8, Ordering::Relaxed);
        self.fraction_bits
            .store(fraction.clamp(0.0, 1.0).to_bits(), Ordering::Relaxed);
    }

    /// Cancelled: stop; otherwise record progress.
    pub(crate) fn check(&self, phase: Phase, fraction: f64) -> Result<(), Stop> {
        if self.cancelled() {
            return Err(Stop::Cancelled);
        }
        self.set(phase, fraction);
        Ok(())
    }

    fn progress(&self, status: RunStatus) -> ProgressDto {
        let fraction = match status {
            RunStatus::Done => 1.0,
            _ => f64::from_bits(self.fraction_bits.load(Ordering::Relaxed)),
        };
        let phase = match status {
            RunStatus::Done => Phase::Compare,
            _ => Phase::from_u8(self.phase.load(Ordering::Relaxed)),
        };
        let eta_s = match (status, *lock(&self.started)) {
            (RunStatus::Running, Some(t)) if fraction > 0.0 => {
                Some(t.elapsed().as_secs_f64() * (1.0 - fraction) / fraction)
            }
            (RunStatus::Done, _) => Some(0.0),
            _ => None,
        };
        ProgressDto {
            fraction,
            phase,
            eta_s,
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs a simulation to `horizon` in [`SLICES`] slices, checking for
/// cancellation and reporting progress `lo..hi` in between.
pub(crate) fn drive<E: Engine>(
    engine: &mut E,
    sched: &mut Scheduler<E::Event>,
    horizon: SimTime,
    ctl: &Control,
    phase: Phase,
    (lo, hi): (f64, f64),
) -> Result<(), Stop> {
    let h = horizon.as_millis();
    for k in 1..=SLICES {
        ctl.check(phase, lo + (hi - lo) * (k - 1) as f64 / SLICES as f64)?;
        run_until(
            engine,
            sched,
            SimTime::from_millis(h / SLICES * k),
            &mut NoProgress,
        );
    }
    // the remainder of the integer division
    run_until(engine, sched, horizon, &mut NoProgress);
    ctl.check(phase, hi)
}

/// What a run was asked, after validation.
#[derive(Debug, Clone)]
pub(crate) struct RunSpec {
    pub(crate) name: String,
    pub(crate) engine: EngineKind,
    pub(crate) seed: u64,
    pub(crate) horizon_s: u64,
    pub(crate) variant: Value,
}

/// A run ready to execute.
#[derive(Debug)]
pub(crate) enum Job {
    Traffic(traffic::Job),
    Community(community::Job),
    Energy(energy::Job),
}

impl Job {
    fn run(self, ctl: &Control) -> Result<Outcome, Stop> {
        match self {
            Job::Traffic(j) => traffic::run(&j, ctl),
            Job::Community(j) => community::run(&j, ctl),
            Job::Energy(j) => energy::run(&j, ctl),
        }
    }
}

/// Validates a request against the snapshot and builds its job.
pub(crate) fn plan(
    spec: &RunSpec,
    snap: &TwinSnapshot,
    incidents: &[ops::Incident],
) -> Result<Job, ApiError> {
    Ok(match spec.engine {
        EngineKind::Traffic => Job::Traffic(traffic::plan(spec, snap)?),
        EngineKind::Community => Job::Community(community::plan(spec, snap, incidents)?),
        EngineKind::Energy => Job::Energy(energy::plan(spec, snap)?),
    })
}

/// Parses an engine's variant object, naming the bad field.
pub(crate) fn parse_variant<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, ApiError> {
    serde_json::from_value(v.clone()).map_err(|e| ApiError::Unprocessable(format!("variant: {e}")))
}

/// A 422 naming a field.
pub(crate) fn bad_field(field: &str, detail: impl std::fmt::Display) -> ApiError {
    ApiError::Unprocessable(format!("{field}: {detail}"))
}

/// Checks `x` is finite and in `lo..=hi`.
pub(crate) fn in_range(field: &str, x: f64, lo: f64, hi: f64) -> Result<f64, ApiError> {
    if x.is_finite() && (lo..=hi).contains(&x) {
        Ok(x)
    } else {
        Err(bad_field(field, format!("{x} is not in {lo}..={hi}")))
    }
}

/// GeoJSON of an entity's geometry.
pub(crate) fn geometry(g: &geo::Geometry<f64>) -> Value {
    serde_json::from_str(&twin::export::geometry(g)).unwrap_or(Value::Null)
}

/// A run held by the service.
#[derive(Debug)]
struct Run {
    spec: RunSpec,
    status: RunStatus,
    created_at: Timestamp,
    started_at: Option<Timestamp>,
    finished_at: Option<Timestamp>,
    wall_s: Option<f64>,
    twin_version: u64,
    error: Option<String>,
    outcome: Option<Arc<Outcome>>,
    ctl: Arc<Control>,
}

/// The id on the wire: `scn-000042`.
pub fn run_id(n: u64) -> String {
    format!("scn-{n:06}")
}

/// Parses `scn-000042` (or `42`).
pub fn parse_run_id(s: &str) -> Option<u64> {
    s.strip_prefix("scn-").unwrap_or(s).parse().ok()
}

impl Run {
    fn dto(&self, id: u64, with_result: bool) -> RunDto {
        RunDto {
            id: run_id(id),
            name: self.spec.name.clone(),
            engine: self.spec.engine,
            seed: self.spec.seed,
            horizon_s: self.spec.horizon_s,
            variant: self.spec.variant.clone(),
            status: self.status,
            progress: self.ctl.progress(self.status),
            created_at: iso(self.created_at),
            started_at: self.started_at.map(iso),
            finished_at: self.finished_at.map(iso),
            wall_s: self.wall_s,
            twin_version: self.twin_version,
            error: self.error.clone(),
            result: if with_result {
                self.outcome.as_ref().map(|o| o.result.clone())
            } else {
                None
            },
        }
    }
}

#[derive(Debug, Default)]
struct Runs {
    next: u64,
    list: BTreeMap<u64, Run>,
}

impl Runs {
    /// Drops the oldest finished runs beyond [`KEEP_FINISHED`].
    fn prune(&mut self) {
        let finished: Vec<u64> = self
            .list
            .iter()
            .filter(|(_, r)| !r.status.is_active())
            .map(|(&id, _)| id)
            .collect();
        let excess = finished.len().saturating_sub(KEEP_FINISHED);
        for id in &finished[..excess] {
            self.list.remove(id);
        }
    }
}

#[derive(Debug)]
struct Shared {
    runs: Mutex<Runs>,
    workers: Semaphore,
    paused: AtomicBool,
}

/// Scenario runs: submit, read, cancel. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ScenarioService {
    inner: Arc<Shared>,
}

impl Default for ScenarioService {
    fn default() -> Self {
        Self::new()
    }
}

impl ScenarioService {
    /// An empty service with [`WORKERS`] workers.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Shared {
                runs: Mutex::new(Runs::default()),
                workers: Semaphore::new(WORKERS),
                paused: AtomicBool::new(false),
            }),
        }
    }

    /// Queues a run; it executes on a blocking thread when a worker is free.
    /// Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// [`ApiError::QueueFull`] with [`MAX_ACTIVE`] runs queued or running.
    pub(crate) fn submit(
        &self,
        spec: RunSpec,
        twin_version: u64,
        job: Job,
    ) -> Result<RunDto, ApiError> {
        let ctl = Arc::new(Control::default());
        let (id, dto) = {
            let mut runs = lock(&self.inner.runs);
            let active = runs.list.values().filter(|r| r.status.is_active()).count();
            if active >= MAX_ACTIVE {
                return Err(ApiError::QueueFull(format!(
                    "{active} scenario runs are queued or running (at most {MAX_ACTIVE}); retry when one finishes"
                )));
            }
            runs.next += 1;
            let id = runs.next;
            let run = Run {
                spec,
                status: RunStatus::Queued,
                created_at: now(),
                started_at: None,
                finished_at: None,
                wall_s: None,
                twin_version,
                error: None,
                outcome: None,
                ctl: Arc::clone(&ctl),
            };
            let dto = run.dto(id, false);
            runs.list.insert(id, run);
            (id, dto)
        };
        let this = self.clone();
        tokio::spawn(async move { this.execute(id, job, ctl).await });
        Ok(dto)
    }

    async fn execute(self, id: u64, job: Job, ctl: Arc<Control>) {
        let Ok(_permit) = self.inner.workers.acquire().await else {
            return;
        };
        {
            let mut runs = lock(&self.inner.runs);
            match runs.list.get_mut(&id) {
                Some(r) if r.status == RunStatus::Queued => {
                    r.status = RunStatus::Running;
                    r.started_at = Some(now());
                }
                _ => return, // cancelled or removed while queued
            }
        }
        ctl.start();
        let started = Instant::now();
        let worker_ctl = Arc::clone(&ctl);
        let res = tokio::task::spawn_blocking(move || job.run(&worker_ctl)).await;
        let wall_s = started.elapsed().as_secs_f64();
        let mut runs = lock(&self.inner.runs);
        let Some(r) = runs.list.get_mut(&id) else {
            return;
        };
        if r.status == RunStatus::Running {
            r.finished_at = Some(now());
            match res {
                Ok(Ok(out)) => {
                    r.status = RunStatus::Done;
                    r.wall_s = Some(wall_s);
                    r.outcome = Some(Arc::new(out));
                }
                Ok(Err(Stop::Cancelled)) => r.status = RunStatus::Cancelled,
                Ok(Err(Stop::Failed(e))) => {
                    tracing::warn!(run = %run_id(id), error = %e, "Scenario run failed.");
                    r.status = RunStatus::Failed;
                    r.error = Some(e);
                }
                Err(e) => {
                    tracing::error!(run = %run_id(id), error = %e, "Scenario run panicked.");
                    r.status = RunStatus::Failed;
                    r.error = Some("the simulation stopped unexpectedly".into());
                }
            }
        }
        runs.prune();
    }

    /// Holds the workers once the running runs finish: queued runs wait
    /// until [`Self::resume`] (maintenance; tests that need a full queue).
    pub async fn pause(&self) {
        if self.inner.paused.swap(true, Ordering::SeqCst) {
            return;
        }
        #[allow(clippy::cast_possible_truncation)]
        if let Ok(p) = self.inner.workers.acquire_many(WORKERS as u32).await {
            p.forget();
        }
    }

    /// Releases the workers held by [`Self::pause`].
    pub fn resume(&self) {
        if self.inner.paused.swap(false, Ordering::SeqCst) {
            self.inner.workers.add_permits(WORKERS);
        }
    }

    /// Runs, newest first, without results.
    pub fn list(&self) -> RunList {
        let runs = lock(&self.inner.runs);
        RunList {
            runs: runs
                .list
                .iter()
                .rev()
                .map(|(&id, r)| r.dto(id, false))
                .collect(),
        }
    }

    /// One run with its result.
    pub fn get(&self, id: u64) -> Option<RunDto> {
        let runs = lock(&self.inner.runs);
        runs.list.get(&id).map(|r| r.dto(id, true))
    }

    /// The GeoJSON features of a finished run.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] for an unknown id, [`ApiError::Conflict`] for a
    /// run that is not done.
    pub fn map(&self, id: u64) -> Result<Vec<Value>, ApiError> {
        let runs = lock(&self.inner.runs);
        let r = runs
            .list
            .get(&id)
            .ok_or_else(|| ApiError::NotFound(format!("no scenario run {}", run_id(id))))?;
        match (&r.status, &r.outcome) {
            (RunStatus::Done, Some(o)) => Ok(o.features.clone()),
            (s, _) => Err(ApiError::Conflict(format!(
                "scenario run {} is {}; its map exists once it is done",
                run_id(id),
                serde_json::to_value(s)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            ))),
        }
    }

    /// Cancels a queued or running run (it stays listed as `cancelled`), or
    /// removes a finished one.
    ///
    /// # Errors
    /// [`ApiError::NotFound`] for an unknown id.
    pub fn delete(&self, id: u64) -> Result<(), ApiError> {
        let mut runs = lock(&self.inner.runs);
        let r = runs
            .list
            .get_mut(&id)
            .ok_or_else(|| ApiError::NotFound(format!("no scenario run {}", run_id(id))))?;
        if r.status.is_active() {
            r.ctl.cancel();
            r.status = RunStatus::Cancelled;
            r.finished_at = Some(now());
            runs.prune();
        } else {
            runs.list.remove(&id);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defs() -> Vec<KpiDef> {
        vec![
            KpiDef {
                id: "t",
                name: "Time",
                unit: "s",
                better: Better::Lower,
            },
            KpiDef {
                id: "r",
                name: "Rate",
                unit: "ratio",
                better: Better::Higher,
            },
            KpiDef {
                id: "z",
                name: "Zero",
                unit: "1",
                better: Better::Lower,
            },
        ]
    }

    fn map(xs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        xs.iter().map(|(k, v)| ((*k).to_string(), *v)).collect()
    }

    #[test]
    fn kpi_rows_judge_by_direction_and_threshold() {
        let b = map(&[("t", 100.0), ("r", 0.8), ("z", 0.0), ("extra", 1.0)]);
        let v = map(&[("t", 110.0), ("r", 0.801), ("z", 2.0), ("extra", 5.0)]);
        let rows = kpi_rows(&defs(), &b, &v);
        assert_eq!(rows.len(), 3, "only defined KPIs, in order");
        assert_eq!(rows[0].id, "t");
        assert_eq!(rows[0].verdict, Verdict::Worse);
        assert!((rows[0].delta_pct.unwrap() - 10.0).abs() < 1e-9);
        assert_eq!(
            rows[1].verdict,
            Verdict::Same,
            "0.125 % is below the threshold"
        );
        assert_eq!(rows[2].delta_pct, None);
        assert_eq!(rows[2].verdict, Verdict::Worse);
    }

    #[test]
    fn run_ids_round_trip() {
        assert_eq!(run_id(42), "scn-000042");
        assert_eq!(parse_run_id("scn-000042"), Some(42));
        assert_eq!(parse_run_id("42"), Some(42));
        assert_eq!(parse_run_id("scn-x"), None);
    }

    #[test]
    fn pruning_keeps_active_runs_and_the_newest_finished() {
        let mut runs = Runs::default();
        for id in 1..=(KEEP_FINISHED as u64 + 5) {
            runs.list.insert(
                id,
                Run {
                    spec: RunSpec {
                        name: "x".into(),
                        engine: EngineKind::Traffic,
                        seed: 1,
                        horizon_s: 60,
                        variant: Value::Null,
                    },
                    status: if id == 1 {
                        RunStatus::Queued
                    } else {
                        RunStatus::Done
                    },
                    created_at: Timestamp(0),
                    started_at: None,
                    finished_at: None,
                    wall_s: None,
                    twin_version: 0,
                    error: None,
                    outcome: None,
                    ctl: Arc::default(),
                },
            );
        }
        runs.prune();
        assert_eq!(runs.list.len(), KEEP_FINISHED + 1);
        assert!(runs.list.contains_key(&1), "the queued run stays");
        assert!(!runs.list.contains_key(&2), "the oldest finished goes");
        assert!(runs.list.contains_key(&(KEEP_FINISHED as u64 + 5)));
    }
}
