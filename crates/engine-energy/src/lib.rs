//! Energy engine: a feeder twin with AC power flow, rooftop PV, EV charging
//! and batteries. Pure and deterministic: no I/O, no clock.
//!
//! # Terminology
//! - **Feeder**: a distribution network (buses, lines, transformers) supplied
//!   from one or more **external grids** (slack buses with a fixed voltage).
//! - **pu** (per unit): a quantity divided by its base (bus nominal voltage,
//!   the system base power `sn_mva`).
//! - **Power flow**: the steady-state voltages that balance every bus's
//!   injections, solved by Newton-Raphson ([`run_pf`], [`Solver`]).
//! - **Loading**: current over the thermal limit of a line or transformer, %.

// Numeric kernels index several parallel arrays with one loop counter.
#![allow(clippy::needless_range_loop)]

mod battery;
mod complex;
mod csv;
mod error;
mod ev;
mod model;
mod network;
mod powerflow;
pub mod pv;
mod sparse;
mod timeseries;

pub use battery::{Battery, BatteryRun, Controller, optimal_threshold, simulate};
pub use complex::C64;
pub use csv::Table;
pub use error::{NetError, PfError};
pub use ev::{ChargingStrategy, EvFleet, EvSchedule, EvSession, schedule, synthetic_sessions};
pub use network::{
    Bus, ExtGrid, Line, Load, Network, Sgen, Storage, Switch, SwitchKind, Tap, TapChanger, Trafo,
};
pub use powerflow::{
    BusResult, ExtGridResult, IslandPolicy, LineResult, PfOptions, PfResult, Solver, TrafoResult,
    run_pf,
};
pub use timeseries::{ElementSeries, ProfileSet, STEP_HOURS, StepState, run_series};
