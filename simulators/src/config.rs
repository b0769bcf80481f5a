//! Simulator configuration (`[simulators]` in the server config).

use serde::{Deserialize, Serialize};

/// A payload format of the MQTT contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Native JSON batches.
    Native,
    /// SenML JSON packs.
    Senml,
    /// FIWARE IoT Agent JSON.
    Fiware,
    /// Sparkplug B protobuf.
    Sparkplug,
}

/// How the simulated gateways behave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    /// Run the gateway simulators (inside `citybrain demo`).
    pub enabled: bool,
    /// Seed of the value models, the malformed-message choice and the disconnects.
    pub seed: u64,
    /// Extra load: total observations per second across all gateways on top of the
    /// realistic reporting intervals (0 = intervals only). Used by load tests.
    pub rate_obs_per_s: f64,
    /// Most observations in one message.
    pub batch_max: usize,
    /// Share of messages (0-1) that are deliberately malformed, to exercise the dead-letter path.
    pub malformed_share: f64,
    /// Payload formats, assigned to gateways round-robin in gateway-id order.
    pub formats: Vec<Format>,
    /// Mean seconds between abrupt disconnects of one gateway (its last will fires); 0 = never.
    pub disconnect_every_secs: u64,
    /// Seconds a gateway stays away after an abrupt disconnect.
    pub offline_secs: u64,
    /// Reporting interval of traffic detectors, seconds.
    pub detector_interval_secs: u64,
    /// Reporting interval of air-quality stations, seconds.
    pub air_interval_secs: u64,
    /// Reporting interval of smart meters, seconds (the field standard is 900).
    pub meter_interval_secs: u64,
    /// Reporting interval of PV inverters, seconds.
    pub pv_interval_secs: u64,
    /// Reporting interval of water-level gauges, seconds.
    pub water_interval_secs: u64,
    /// Event reports per hour per event reporter.
    pub events_per_hour: f64,
    /// Local time offset of the city from UTC, hours (shapes the daily profiles).
    pub utc_offset_h: f64,
    /// Mean days between flood events at one water gauge.
    pub flood_every_days: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            seed: 7,
            rate_obs_per_s: 0.0,
            batch_max: 500,
            malformed_share: 0.01,
            formats: vec![
                Format::Native,
                Format::Senml,
                Format::Fiware,
                Format::Sparkplug,
            ],
            disconnect_every_secs: 600,
            offline_secs: 20,
            detector_interval_secs: 30,
            air_interval_secs: 60,
            meter_interval_secs: 900,
            pv_interval_secs: 300,
            water_interval_secs: 60,
            events_per_hour: 2.0,
            utc_offset_h: 2.0,
            flood_every_days: 0.5,
        }
    }
}

impl SimConfig {
    /// The reporting interval of a sensor kind, ms (`None` for kinds that do not report values).
    pub fn interval_ms(&self, kind: domain::SensorKind) -> Option<u64> {
        use domain::SensorKind as K;
        let s = match kind {
            K::TrafficDetector => self.detector_interval_secs,
            K::AirQuality => self.air_interval_secs,
            K::EnergyMeter => self.meter_interval_secs,
            K::PvInverter => self.pv_interval_secs,
            K::WaterLevel => self.water_interval_secs,
            K::EventReporter | K::Other => return None,
        };
        Some(s.max(1) * 1000)
    }
}

/// The FIWARE apikey of a simulated gateway (`apikey-{gateway}`); the demo
/// server registers the same mapping.
pub fn fiware_apikey(gateway: &str) -> String {
    format!("apikey-{gateway}")
}
