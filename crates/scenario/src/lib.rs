//! The engine kernel shared by the traffic, community and energy engines.
//!
//! Pure and deterministic: no I/O, no clock. Given parameters and a seed, a
//! run gives byte-identical outcomes on every machine.
//!
//! # Terminology
//! - **Engine**: a simulation model that reacts to its own events in simulated
//!   time ([`Engine`]).
//! - **Scheduler**: the future-event list, ordered by `(time, seq)` so equal
//!   times pop in insertion order ([`Scheduler`]).
//! - **Baseline / variant**: two runs of one engine, without and with a
//!   planner's edits; [`compare`] gives their KPI deltas.
//! - **Progress**: how far a long run has got, reported through [`Progress`]
//!   so the CLI can draw a bar and the API can show a status.

mod compare;
mod engine;
mod progress;
mod rng;
mod scheduler;

pub use compare::{KpiDelta, compare};
pub use engine::{Engine, run_until};
pub use progress::{NoProgress, Progress};
pub use rng::{fork, seeded};
pub use scheduler::Scheduler;

pub use domain::SimTime;
/// The one random number generator engines use (portable across platforms and versions).
pub use rand_chacha::ChaCha8Rng;
