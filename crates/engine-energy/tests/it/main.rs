//! Integration tests of the energy engine against the pandapower, SimBench
//! and pvlib references in the shared data folder (skipped when absent).

#![allow(clippy::unwrap_used)] // test helpers panic on broken fixtures
#![allow(clippy::disallowed_methods)] // tests read the reference files
mod battery;
mod common;
mod live;
mod powerflow;
mod pv;
mod study;
mod synth;
mod timeseries;
