//! The run report: KPIs, per-link 5-minute bins, per-vehicle records.
//!
//! Field names are a contract (`docs/specs/traffic-report.md`); renaming one is
//! a breaking change of the report schema.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The report schema identifier written into every report.
pub const REPORT_SCHEMA: &str = "citybrain.traffic.report/1";

/// Network KPIs of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Kpis {
    /// Trips whose scheduled departure fell within the horizon and that could
    /// be routed.
    pub loaded_vehicles: u64,
    /// Loaded vehicles that reached the end of their route by the horizon.
    pub completed_trips: u64,
    /// Loaded vehicles that did not complete: `en_route_vehicles +
    /// waiting_to_enter + removed_vehicles`.
    pub unserved_vehicles: u64,
    /// Vehicles inside the network at the horizon (on a link or teleporting).
    pub en_route_vehicles: u64,
    /// Vehicles still waiting at their origin for space to enter at the horizon.
    pub waiting_to_enter: u64,
    /// Vehicles taken out because a closure left no path to their destination.
    pub removed_vehicles: u64,
    /// Trips not loaded because no path existed at departure (origin or
    /// destination closed, or disconnected).
    pub unroutable_trips: u64,
    /// Mean over loaded vehicles of (arrival, or the horizon) minus scheduled
    /// departure, s (the traffic-signal-control community's definition).
    pub avg_travel_time_s: f64,
    /// Mean travel time of completed trips, s.
    pub avg_travel_time_completed_s: f64,
    /// Mean over loaded vehicles of travel time minus the free-flow time of the
    /// distance driven at the vehicle's desired speed, s.
    pub mean_delay_s: f64,
    /// Vehicle-kilometres travelled inside the network.
    pub vkt_km: f64,
    /// Vehicle-hours spent inside the network (waiting to enter excluded).
    pub vht_h: f64,
    /// `vkt_km / vht_h`, km/h.
    pub mean_speed_kmh: f64,
    /// Network travel time index: `vht_h` over the free-flow hours of the same
    /// distance (1 = free flow).
    pub travel_time_index: f64,
    /// CO2 emitted, kg (speed-dependent factor, see [`crate::co2_g_per_km`]).
    pub co2_kg: f64,
    /// Queue heads moved past a gridlock (see `Params::stuck_time_s`).
    pub teleports: u64,
    /// Wall-clock seconds of the run, filled in by the caller that measured it
    /// (the engine has no clock); absent when nobody measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall_s: Option<f64>,
}

impl Kpis {
    /// The KPIs as a name -> value map (for [`scenario::compare`]); `wall_s` is
    /// left out (it is not a property of the scenario).
    pub fn to_map(&self) -> BTreeMap<String, f64> {
        #[allow(clippy::cast_precision_loss)]
        let c = |x: u64| x as f64;
        BTreeMap::from([
            ("loaded_vehicles".to_string(), c(self.loaded_vehicles)),
            ("completed_trips".to_string(), c(self.completed_trips)),
            ("unserved_vehicles".to_string(), c(self.unserved_vehicles)),
            ("en_route_vehicles".to_string(), c(self.en_route_vehicles)),
            ("waiting_to_enter".to_string(), c(self.waiting_to_enter)),
            ("removed_vehicles".to_string(), c(self.removed_vehicles)),
            ("unroutable_trips".to_string(), c(self.unroutable_trips)),
            ("avg_travel_time_s".to_string(), self.avg_travel_time_s),
            (
                "avg_travel_time_completed_s".to_string(),
                self.avg_travel_time_completed_s,
            ),
            ("mean_delay_s".to_string(), self.mean_delay_s),
            ("vkt_km".to_string(), self.vkt_km),
            ("vht_h".to_string(), self.vht_h),
            ("mean_speed_kmh".to_string(), self.mean_speed_kmh),
            ("travel_time_index".to_string(), self.travel_time_index),
            ("co2_kg".to_string(), self.co2_kg),
            ("teleports".to_string(), c(self.teleports)),
        ])
    }
}

/// One link's statistics in one time bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkBin {
    /// Bin start, s.
    pub start_s: u32,
    /// Vehicles that entered the link (including departures onto it).
    pub entered: u32,
    /// Space-mean speed of vehicles that left the link in this bin, km/h
    /// (`None` when none left).
    pub mean_speed_kmh: Option<f64>,
    /// Largest number of vehicles queued at the stop line (arrived at the end of
    /// the link and not yet discharged) seen in the bin.
    pub max_queue: u32,
}

/// Per-link statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkReport {
    /// Link id.
    pub id: String,
    /// Vehicles that entered over the whole run.
    pub entered: u64,
    /// Bins of `Params::bin_s` seconds from 0 to the horizon.
    pub bins: Vec<LinkBin>,
}

/// One vehicle's trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VehicleReport {
    /// Vehicle id.
    pub id: String,
    /// Scheduled departure, s.
    pub depart_s: f64,
    /// When it entered the network, s (`None`: still waiting at the horizon).
    pub entered_s: Option<f64>,
    /// Arrival, s (`None`: not completed by the horizon).
    pub arrival_s: Option<f64>,
    /// Link ids of its path (after any re-routing).
    pub route: Vec<String>,
    /// (arrival or horizon) - depart, s.
    pub travel_time_s: f64,
    /// Travel time minus free-flow time of the distance driven, s.
    pub delay_s: f64,
    /// Distance driven, m.
    pub distance_m: f64,
}

/// The full report of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`REPORT_SCHEMA`].
    pub schema: String,
    /// The scenario's name, if any.
    pub scenario: Option<String>,
    /// Master seed.
    pub seed: u64,
    /// Simulated horizon, s.
    pub horizon_s: u32,
    /// Network KPIs.
    pub kpis: Kpis,
    /// Per-link statistics, in network order.
    pub links: Vec<LinkReport>,
    /// Per-vehicle records in departure order (empty when
    /// `Params::record_vehicles` is false).
    pub vehicles: Vec<VehicleReport>,
}

/// Baseline, variant and their KPI deltas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The run without edits.
    pub baseline: Report,
    /// The run with the scenario's edits.
    pub variant: Report,
    /// `variant - baseline` for every KPI, in name order.
    pub deltas: Vec<scenario::KpiDelta>,
}
