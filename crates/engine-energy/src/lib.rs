//! Energy engine: a feeder twin with AC power flow, rooftop PV, EV charging
//! and batteries, checked against pandapower and pvlib. Pure and
//! deterministic: no I/O, no clock; callers pass text and structs in.
//!
//! - [`Network`]: pandapower's element tables and column names, read from CSV
//!   text ([`Network::from_csv_tables`]) and written back ([`Network::to_csv_tables`]).
//! - [`run_pf`] / [`Solver`]: Newton-Raphson AC power flow on a sparse
//!   2×2-block Jacobian (minimum-degree ordering, block LU), to 1e-10 MVA.
//! - [`run_series`]: one power flow per 15-minute step with per-element values
//!   ([`ElementSeries`]); [`KpiAccumulator`] turns steps into [`Kpis`].
//! - [`pv`]: the PV chain (NREL SPA, transposition, Faiman, PVWatts).
//! - [`simulate`] (batteries) and [`schedule`] (EV sessions).
//! - [`run_study`]: baseline and what-if variants with KPI deltas.
//! - [`LiveFeeder`]: the latest meter and PV readings to a live feeder state
//!   with violations and low-carbon indicators.
//! - [`feeder_networks`]: a radial LV network per twin feeder (MV/LV
//!   substation at the head, cables along the buildings' spanning tree).
//! - [`EMISSION_FACTORS`]: the dated, versioned grid emission-factor table.
//!
//! # Terminology
//! - **Feeder**: a distribution network (buses, lines, transformers) supplied
//!   from one or more **external grids** (slack buses with a fixed voltage).
//! - **pu** (per unit): a quantity divided by its base (bus nominal voltage,
//!   the system base power `sn_mva`).
//! - **Power flow**: the steady-state voltages that balance every bus's
//!   injections, solved by Newton-Raphson ([`run_pf`], [`Solver`]).
//! - **Loading**: current over the thermal limit of a line or transformer, %.
//! - **Island**: buses no external grid can reach; de-energised or an error
//!   ([`IslandPolicy`]).
//! - **Vector group shift**: the phase shift of a transformer (`shift_degree`,
//!   e.g. 150° for Dyn5): the low side lags the high side by that angle.
//! - **Tap**: a transformer winding step that changes its ratio (or angle).
//! - **ZIP load**: a load with constant-impedance, constant-current and
//!   constant-power shares.
//! - **Step**: 15 minutes, the smart-meter clock ([`STEP_HOURS`]).
//! - **POA**: plane-of-array irradiance, on the tilted module surface.
//! - **Peak shaving**: a battery keeps the feeder import at or below a threshold.
//! - **Self-consumption / self-sufficiency**: shares of PV used locally and of
//!   load not imported.
//! - **Emission factor**: kg CO₂ per kWh of grid electricity consumed.

// Numeric kernels index several parallel arrays with one loop counter.
#![allow(clippy::needless_range_loop)]

mod battery;
mod complex;
mod csv;
mod emission;
mod engine;
mod error;
mod ev;
mod export;
mod from_twin;
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
pub use engine::{FeederEngine, FeederEvent, FeederOutcome, STEP_MS};
pub use error::{NetError, PfError};
pub use ev::{ChargingStrategy, EvFleet, EvSchedule, EvSession, schedule, synthetic_sessions};
pub use from_twin::{
    DESIGN_KW_PER_M2, DESIGN_UTILISATION, LV_KV, MIN_DESIGN_KW, MIN_LINE_M, TwinFeeder,
    building_design_kw, feeder_networks, is_feeder_input,
};
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
