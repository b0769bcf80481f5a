//! A signal-aware mesoscopic traffic engine.
//!
//! Pure and deterministic: inputs arrive as `&str` (SUMO, CityFlow, scenario
//! JSON) or as a [`NetworkBuilder`]; a run with the same inputs and seed gives an
//! identical [`Report`]. There is no clock: wall time (`wall_s`) is measured by
//! the caller.
//!
//! The model is in the family of SUMO's mesoscopic model and MATSim's QSim:
//! each link holds one FIFO queue per turning movement (its *lane group*);
//! a vehicle entering a link joins the queue of the movement its route takes
//! next and may leave after its free-flow traversal time; a queue discharges
//! at its saturation flow while its signal is green (after a start-up lost
//! time), and only into a link with free storage (spill-back). A queue head
//! blocked by a full link for `stuck_time_s` is teleported along its route
//! (gridlock safety). Routes for origin-destination trips and re-routing
//! around closures are shortest paths on current travel times.
//!
//! # Terminology
//! - **Link**: a directed road between two nodes, with length, lanes, speed
//!   limit, mid-block capacity and *storage* (lanes × length / jam spacing:
//!   how many stopped vehicles fit).
//! - **Movement**: a permitted turn from one link into the next; its *lane
//!   group* is the upstream lanes that serve it.
//! - **Saturation flow**: the rate a queued lane group discharges during green;
//!   here `lanes / (tau + jam_spacing / v_cross)`.
//! - **Spill-back**: a full downstream link stops the upstream queue even on
//!   green.
//! - **Phase / cycle / split / offset**: a fixed-time plan is a cycle of phases,
//!   each with a duration (its split) and a set of green movements; the offset
//!   shifts the cycle's start.
//! - **Loaded vehicle**: a trip whose departure fell within the horizon and
//!   that could be routed. **Unserved**: loaded but not arrived by the horizon.
//! - **Travel time** (TSC definition): arrival, or the horizon, minus the
//!   scheduled departure, so waiting to enter counts. **Delay**: travel time
//!   minus the free-flow time of the distance driven.
//! - **VKT / VHT**: vehicle-kilometres and vehicle-hours travelled.
//! - **Travel time index (TTI)**: time spent over free-flow time (1 = free flow).
//! - **TPI** (交通运行指数): the 0-10 traffic performance index, see [`live`].
//! - **Scenario**: a planner's edits to a baseline ([`Scenario`]).

mod demand;
mod edits;
mod emission;
mod error;
pub mod live;
mod network;
mod params;
mod report;
mod run;
mod sim;
mod twin_net;

pub use demand::{Demand, Route, Trip, route_from_ids};
pub use edits::{
    AddedLanes, CapacityChange, Closure, DemandChange, LaneClosure, Scenario, SignalChange, Window,
};
pub use emission::co2_g_per_km;
pub use error::Error;
pub use network::sumo_parts::{parse_sumo_net, parse_sumo_routes};
pub use network::{
    Link, LinkIdx, LinkSpec, MoveIdx, Movement, Network, NetworkBuilder, Node, NodeIdx, Phase,
    SignalPlan, SignalSpec, parse_cityflow, parse_sumo,
};
pub use params::Params;
pub use report::{Comparison, Kpis, LinkBin, LinkReport, REPORT_SCHEMA, Report, VehicleReport};
pub use run::{compare, simulate, simulation};
pub use sim::{Event, Simulation};
pub use twin_net::{
    TWIN_SIGNAL_CYCLE_S, demand_scale_from_counts, generated_demand, network_from_twin,
};

#[cfg(test)]
mod tests;
