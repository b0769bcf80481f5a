//! Model parameters. One calibrated set for every network and case.

use serde::{Deserialize, Serialize};

use crate::Error;

/// The model's parameters. The defaults are the values used for every case in
/// the tests and benchmarks (see `docs/specs/traffic-scenario.md`). All but one
/// come from the benchmark's vehicle type (SUMO's default passenger car:
/// length 5 m + min gap 2.5 m, acceleration 2.6 m/s², speed factor N(1, 0.1)).
/// `tau_s` is the one calibrated value: 1.3 s, fitted once on the Hangzhou real
/// case against SUMO micro (SUMO's driver imperfection makes queues discharge
/// slower than its 1 s reaction time suggests; 1.3 s gives 1,820 veh/h per
/// straight lane at 40 km/h, close to the ~1,800 veh/h usually measured for
/// SUMO's default car).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Reaction-time part of the saturation headway, s: a queued lane discharges
    /// one vehicle every `tau_s + jam_spacing_m / v` seconds, `v` being the
    /// movement's crossing speed.
    pub tau_s: f64,
    /// Space one stopped vehicle takes (length + gap), m; sets storage.
    pub jam_spacing_m: f64,
    /// Acceleration, m/s²: a movement starts discharging `v / (2 a)` seconds
    /// after its green begins (start-up lost time).
    pub accel_mps2: f64,
    /// Standard deviation of the per-vehicle speed factor (mean 1, clipped to
    /// ±2 sd). Desired speed = factor × speed limit.
    pub speed_factor_sd: f64,
    /// A queue head blocked by a full downstream link for this long is
    /// teleported along its route (gridlock safety, SUMO's `time-to-teleport`).
    pub stuck_time_s: f64,
    /// Limit each movement's queue to its own lanes' storage. Off by default:
    /// a link's storage is shared by all its lanes, so a vehicle whose turn lane
    /// is full still enters and queues in another lane (as SUMO's vehicles do
    /// before their late lane change). Measured against the SUMO reference,
    /// the lane-group limit over-predicted the effect of demand growth
    /// (+93.5 s average travel time against SUMO's +69.3 s; shared: +62.4 s).
    pub lane_group_storage: bool,
    /// Width of the per-link statistics bins, s.
    pub bin_s: u32,
    /// Smoothing weight of a new observation in a link's travel-time estimate
    /// used for routing (exponential moving average).
    pub travel_time_smoothing: f64,
    /// Keep one record per vehicle in the report (large for big runs).
    pub record_vehicles: bool,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            tau_s: 1.3,
            jam_spacing_m: 7.5,
            accel_mps2: 2.6,
            speed_factor_sd: 0.1,
            stuck_time_s: 300.0,
            lane_group_storage: false,
            bin_s: 300,
            travel_time_smoothing: 0.2,
            record_vehicles: true,
        }
    }
}

impl Params {
    /// Checks every value is in range.
    ///
    /// # Errors
    /// [`Error::BadParam`] naming the first bad value.
    pub fn validate(&self) -> Result<(), Error> {
        let checks: [(&'static str, f64, bool); 7] = [
            ("tau_s", self.tau_s, self.tau_s >= 0.0),
            (
                "jam_spacing_m",
                self.jam_spacing_m,
                self.jam_spacing_m > 0.0,
            ),
            ("accel_mps2", self.accel_mps2, self.accel_mps2 > 0.0),
            (
                "speed_factor_sd",
                self.speed_factor_sd,
                (0.0..0.45).contains(&self.speed_factor_sd),
            ),
            ("stuck_time_s", self.stuck_time_s, self.stuck_time_s > 0.0),
            ("bin_s", f64::from(self.bin_s), self.bin_s > 0),
            (
                "travel_time_smoothing",
                self.travel_time_smoothing,
                self.travel_time_smoothing > 0.0 && self.travel_time_smoothing <= 1.0,
            ),
        ];
        for (name, value, ok) in checks {
            if !ok || !value.is_finite() {
                return Err(Error::BadParam { name, value });
            }
        }
        Ok(())
    }
}
