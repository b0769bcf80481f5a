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
mod emission;
mod error;
mod ev;
mod export;
mod kpi;
mod live;
mod model;
mod network;
mod powerflow;
pub mod pv;
mod sparse;
mod study;
mod synthetic;
mod timeseries;

pub use battery::{Battery, BatteryRun, Controller, optimal_threshold, simulate};
pub use complex::C64;
pub use csv::Table;
pub use emission::{EMISSION_FACTORS, EMISSION_TABLE_VERSION, EmissionFactor, emission_factor};
pub use error::{NetError, PfError};
pub use ev::{ChargingStrategy, EvFleet, EvSchedule, EvSession, schedule, synthetic_sessions};
pub use kpi::{KpiAccumulator, Kpis, Limits};
pub use live::{
    LiveError, LiveFeeder, LiveReadings, LiveState, LowCarbon, Severity, Violation, ViolationKind,
};
pub use network::{
    Bus, ExtGrid, Line, Load, Network, Sgen, Storage, Switch, SwitchKind, Tap, TapChanger, Trafo,
};
pub use powerflow::{
    BusResult, ExtGridResult, IslandPolicy, LineResult, PfOptions, PfResult, Solver, TrafoResult,
    run_pf,
};
pub use study::{
    AddBattery, AddEv, AddPv, BatteryScope, RunReport, StudyError, StudyInputs, StudyReport,
    StudySpec, VariantReport, WhatIf, default_load_shape, default_pv_shape, run_study,
};
pub use synthetic::{SyntheticSpec, synthetic_feeder};
pub use timeseries::{ElementSeries, ProfileSet, STEP_HOURS, StepState, run_series};
