//! Metrics: named quantities with a canonical unit and a plausible range.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::{SensorKind, Unit};

/// Longest metric name accepted (bytes).
pub const MAX_METRIC_LEN: usize = 64;

/// Why a text is not a valid metric name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricError {
    /// The name is empty or longer than [`MAX_METRIC_LEN`].
    #[error("metric name must be 1-{MAX_METRIC_LEN} bytes, got {len}")]
    Length {
        /// Length in bytes.
        len: usize,
    },
    /// The name holds a character outside `[a-z0-9_]`.
    #[error("metric name {name:?} must be lower-case snake_case ([a-z0-9_])")]
    BadChar {
        /// The (possibly truncated) name.
        name: String,
    },
}

/// What the platform knows about a well-known metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricInfo {
    /// Metric name.
    pub name: &'static str,
    /// Canonical unit: values are stored in this unit.
    pub unit: Unit,
    /// Smallest plausible value (in `unit`); below it the value is out of range.
    pub min: f64,
    /// Largest plausible value (in `unit`).
    pub max: f64,
    /// The kind of sensor that usually reports it.
    pub kind: SensorKind,
    /// English description.
    pub description: &'static str,
}

/// The metrics the platform knows, with canonical units and plausible ranges.
pub const KNOWN_METRICS: &[MetricInfo] = &[
    MetricInfo {
        name: "flow",
        unit: Unit::VehPerHour,
        min: 0.0,
        max: 12_000.0,
        kind: SensorKind::TrafficDetector,
        description: "traffic flow across a detector",
    },
    MetricInfo {
        name: "count",
        unit: Unit::Vehicles,
        min: 0.0,
        max: 10_000.0,
        kind: SensorKind::TrafficDetector,
        description: "vehicles counted in the reporting interval",
    },
    MetricInfo {
        name: "speed",
        unit: Unit::KmPerHour,
        min: 0.0,
        max: 250.0,
        kind: SensorKind::TrafficDetector,
        description: "mean spot speed",
    },
    MetricInfo {
        name: "occupancy",
        unit: Unit::Percent,
        min: 0.0,
        max: 100.0,
        kind: SensorKind::TrafficDetector,
        description: "share of time the detector is occupied",
    },
    MetricInfo {
        name: "pm25",
        unit: Unit::MicrogramPerM3,
        min: 0.0,
        max: 2_000.0,
        kind: SensorKind::AirQuality,
        description: "PM2.5 mass concentration",
    },
    MetricInfo {
        name: "pm10",
        unit: Unit::MicrogramPerM3,
        min: 0.0,
        max: 5_000.0,
        kind: SensorKind::AirQuality,
        description: "PM10 mass concentration",
    },
    MetricInfo {
        name: "no2",
        unit: Unit::MicrogramPerM3,
        min: 0.0,
        max: 5_000.0,
        kind: SensorKind::AirQuality,
        description: "NO2 mass concentration",
    },
    MetricInfo {
        name: "o3",
        unit: Unit::MicrogramPerM3,
        min: 0.0,
        max: 5_000.0,
        kind: SensorKind::AirQuality,
        description: "O3 mass concentration",
    },
    MetricInfo {
        name: "aqi",
        unit: Unit::Dimensionless,
        min: 0.0,
        max: 999.0,
        kind: SensorKind::AirQuality,
        description: "air quality index (HJ 633 / US EPA scale)",
    },
    MetricInfo {
        name: "temperature",
        unit: Unit::Celsius,
        min: -60.0,
        max: 70.0,
        kind: SensorKind::AirQuality,
        description: "air temperature",
    },
    MetricInfo {
        name: "humidity",
        unit: Unit::Percent,
        min: 0.0,
        max: 100.0,
        kind: SensorKind::AirQuality,
        description: "relative humidity",
    },
    MetricInfo {
        name: "power",
        unit: Unit::Kilowatt,
        min: -100_000.0,
        max: 100_000.0,
        kind: SensorKind::EnergyMeter,
        description: "active power, positive = consumption",
    },
    MetricInfo {
        name: "energy",
        unit: Unit::KilowattHour,
        min: 0.0,
        max: 1.0e12,
        kind: SensorKind::EnergyMeter,
        description: "cumulative active energy register",
    },
    MetricInfo {
        name: "voltage",
        unit: Unit::Volt,
        min: 0.0,
        max: 1.0e6,
        kind: SensorKind::EnergyMeter,
        description: "RMS voltage",
    },
    MetricInfo {
        name: "current",
        unit: Unit::Ampere,
        min: 0.0,
        max: 1.0e5,
        kind: SensorKind::EnergyMeter,
        description: "RMS current",
    },
    MetricInfo {
        name: "pv_power",
        unit: Unit::Kilowatt,
        min: 0.0,
        max: 100_000.0,
        kind: SensorKind::PvInverter,
        description: "PV inverter AC output",
    },
    MetricInfo {
        name: "irradiance",
        unit: Unit::WattPerM2,
        min: 0.0,
        max: 1_500.0,
        kind: SensorKind::PvInverter,
        description: "plane-of-array irradiance",
    },
    MetricInfo {
        name: "water_level",
        unit: Unit::Metre,
        min: -50.0,
        max: 100.0,
        kind: SensorKind::WaterLevel,
        description: "water level above gauge datum",
    },
    MetricInfo {
        name: "water_flow",
        unit: Unit::CubicMetrePerSecond,
        min: 0.0,
        max: 100_000.0,
        kind: SensorKind::WaterLevel,
        description: "discharge",
    },
    MetricInfo {
        name: "rainfall",
        unit: Unit::Millimetre,
        min: 0.0,
        max: 500.0,
        kind: SensorKind::WaterLevel,
        description: "rainfall in the reporting interval",
    },
    MetricInfo {
        name: "battery",
        unit: Unit::Percent,
        min: 0.0,
        max: 100.0,
        kind: SensorKind::Other,
        description: "device battery charge",
    },
    MetricInfo {
        name: "rssi",
        unit: Unit::Dbm,
        min: -150.0,
        max: 30.0,
        kind: SensorKind::Other,
        description: "radio signal strength",
    },
];

/// A metric name (`pm25`, `flow`). Well-known names carry [`MetricInfo`];
/// other snake_case names are accepted as custom metrics without a range.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Metric(Arc<str>);

impl Metric {
    /// Builds a metric name, checking its grammar (`[a-z0-9_]{1,64}`).
    pub fn new(s: impl AsRef<str>) -> Result<Self, MetricError> {
        let s = s.as_ref();
        if s.is_empty() || s.len() > MAX_METRIC_LEN {
            return Err(MetricError::Length { len: s.len() });
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(MetricError::BadChar {
                name: s.chars().take(64).collect(),
            });
        }
        Ok(Self(Arc::from(s)))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Facts about a well-known metric; `None` for a custom one.
    pub fn info(&self) -> Option<&'static MetricInfo> {
        KNOWN_METRICS.iter().find(|m| m.name == &*self.0)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Metric({:?})", &*self.0)
    }
}

impl TryFrom<String> for Metric {
    type Error = MetricError;
    fn try_from(s: String) -> Result<Self, MetricError> {
        Metric::new(s)
    }
}

impl From<Metric> for String {
    fn from(m: Metric) -> String {
        m.0.to_string()
    }
}

impl std::borrow::Borrow<str> for Metric {
    fn borrow(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_metrics_have_ranges_and_unique_names() {
        let mut names: Vec<_> = KNOWN_METRICS.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KNOWN_METRICS.len());
        for m in KNOWN_METRICS {
            assert!(m.min < m.max, "{}", m.name);
            assert!(Metric::new(m.name).unwrap().info().is_some());
        }
    }

    #[test]
    fn custom_metrics_are_valid_but_unknown() {
        let m = Metric::new("noise_db").unwrap();
        assert!(m.info().is_none());
        assert!(Metric::new("PM25").is_err());
        assert!(Metric::new("").is_err());
    }
}
