//! The community engine: grassroots event handling (一网统管), staffing,
//! 15-minute-life-circle accessibility and epidemic scenarios.
//!
//! Pure and deterministic: no I/O, no clock. Simulated time is integer
//! milliseconds ([`scenario::SimTime`]); every random draw comes from a
//! ChaCha8 generator forked from the run's seed ([`scenario::seeded`],
//! [`scenario::fork`]), so a spec and a seed give a byte-identical report.
//! [`run_once`] and [`simulate`] run a city's independent parts on several
//! threads; the report does not depend on how many.
//!
//! # Terminology
//! - **Event / incident / job**: a citizen call, app report, IoT alarm or
//!   patrol finding that must be handled. Its lifecycle is REPORTED →
//!   DISPATCHED (triage delay) → IN_PROGRESS (a worker starts) → RESOLVED
//!   (handling time) → CLOSED (verification delay).
//! - **SLA due**: REPORTED plus the type's SLA; a case is *on time* when it is
//!   CLOSED by then. **办结率** (closure rate) is closed / reported;
//!   **按期办结率** (on-time closure rate) is closed-on-time / cases with a due time.
//! - **Response time**: REPORTED → IN_PROGRESS. **Resolution time**: REPORTED → RESOLVED.
//! - **Backlog**: cases open at an instant; **overdue**: open and past due.
//! - **Proactive share**: cases found by the city itself (IoT alarm, patrol).
//! - **Team / station**: `c(t)` workers on a weekly **shift calendar**, handling
//!   the types they own; non-preemptive priority (P1 first), FIFO within a class.
//! - **Part**: streams, teams and communities that share no queue, community
//!   or random stream with the rest of the city, so they can run apart.
//! - **Hour-of-week profile**: arrival rates per hour of the week (Monday
//!   00:00 = hour 0), learned from history or given as a shape.
//! - **Erlang C**: the probability of waiting in an M/M/c queue; **Cobham's
//!   formula**: mean waits per class under non-preemptive priority.
//! - **Batch means**: a run split into consecutive batches whose means give a
//!   confidence interval.
//! - **15-minute life circle (15分钟生活圈)**: a building is *served* for a
//!   category when a point of interest of that category is within a walking
//!   distance (1,200 m ≈ 15 min at 80 m/min) on the walking graph.
//! - **SEIR**: susceptible, exposed, infectious, removed compartments per
//!   community, coupled by a mobility (mixing) matrix.

mod access;
mod calendar;
mod erlang;
mod from_twin;
mod kpi;
mod mmc;
mod model;
mod replay;
mod seir;
mod sources;
mod spec;
mod staffing;
mod station;
mod table;

pub use access::{
    AccessError, AccessReport, Building, CategoryAccess, Poi, ShareRow, WalkGraph, access_report,
    nearest_distances, parse_buildings, parse_pois,
};
pub use calendar::{
    DAY, HOUR, Shift, ShiftCalendar, WEEK_HOURS, WeekProfile, hour_of_week, parse_local_ms,
};
pub use erlang::{ErlangC, QueueError, ServiceTarget, TargetMeasure, cobham_waits, staff_for};
pub use from_twin::{TwinWalk, walk_from_city};
pub use kpi::{
    DayKpis, GovernanceInputs, Incident, IncidentRecord, KpiOptions, KpiReport, Kpis, Names,
    TimeStats, aggregate, aggregate_iter, flat, intern, kpis_of_records,
};
pub use mmc::{ClassEstimates, Estimate, HOUR_MS, MmcExperiment, MmcReport, simulate_mmc};
pub use model::{
    CityModel, ModelEvent, RunReport, SimulationReport, TeamUse, VariantReport, run_once,
    run_once_threads, simulate, simulate_threads,
};
pub use replay::{Discipline, JobTiming, ReplayError, TraceJob, replay};
pub use seir::{Control, SeirError, SeirParams, SeirResult, final_size, simulate_seir};
pub use sources::{
    boston_channel, learn_arrivals, parse_boston311, parse_trace_hours, parse_trace_ms,
};
pub use spec::{
    ArrivalSpec, CitySpec, DurationDist, KindSpec, PolicyChange, ReplaySpec, SpecError,
    StaffChange, Surge, TeamSpec, Variant,
};
pub use staffing::{StaffingReport, recommend_staff};
pub use table::TableError;
