//! Twin configuration: resolutions, windows, health and quality thresholds.

use std::collections::BTreeMap;

use domain::Metric;
use h3o::Resolution;
use serde::{Deserialize, Serialize};

/// How the twin places, aggregates and judges observations.
#[derive(Debug, Clone, PartialEq)]
pub struct TwinConfig {
    /// Resolution at which observations (the sensor's location) and entities
    /// are placed. Default 10.
    pub base_resolution: Resolution,
    /// Resolutions at which per-cell aggregates are kept; each must be no
    /// finer than the base. Default 7, 8, 9, 10.
    pub rollup_resolutions: Vec<Resolution>,
    /// Width of the tumbling aggregation windows, ms. Default 60 s.
    pub window_ms: i64,
    /// A sensor with no data for this long is stale (checked on `Tick`), ms.
    /// Default 15 min.
    pub stale_after_ms: i64,
    /// Identical consecutive readings that make a flatline. Default 10.
    pub flatline_readings: u32,
    /// A jump larger than this many times the running mean absolute change
    /// is a spike. Default 8.
    pub spike_factor: f64,
    /// Readings needed before spikes are judged. Default 10.
    pub spike_warmup: u32,
    /// Expected value range per metric; a reading outside it raises the
    /// out-of-range flag (the ingest path already rejects values outside the
    /// metric's plausible range). Default: [`default_expected_ranges`].
    pub expected_ranges: BTreeMap<Metric, (f64, f64)>,
    /// Event reports kept in the snapshot's recent list. Default 1,000.
    pub recent_events: usize,
}

impl Default for TwinConfig {
    fn default() -> Self {
        Self {
            base_resolution: Resolution::Ten,
            rollup_resolutions: vec![
                Resolution::Seven,
                Resolution::Eight,
                Resolution::Nine,
                Resolution::Ten,
            ],
            window_ms: 60_000,
            stale_after_ms: 15 * 60_000,
            flatline_readings: 10,
            spike_factor: 8.0,
            spike_warmup: 10,
            expected_ranges: default_expected_ranges(),
            recent_events: 1000,
        }
    }
}

/// Why a configuration is unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// No roll-up resolution.
    #[error("at least one roll-up resolution is needed")]
    NoRollups,
    /// A roll-up resolution is finer than the base.
    #[error("roll-up resolution {rollup} is finer than the base resolution {base}")]
    RollupFinerThanBase {
        /// The offending resolution.
        rollup: u8,
        /// The base resolution.
        base: u8,
    },
    /// A duration is not positive.
    #[error("{field} must be positive, got {value}")]
    NotPositive {
        /// The field.
        field: &'static str,
        /// The value.
        value: i64,
    },
    /// A threshold is out of its range.
    #[error("{field} is out of range: {value}")]
    BadThreshold {
        /// The field.
        field: &'static str,
        /// The value.
        value: f64,
    },
    /// Not an H3 resolution (0-15).
    #[error("{0} is not an H3 resolution (0-15)")]
    BadResolution(u8),
    /// Not a metric name.
    #[error("{0:?} is not a metric name ([a-z0-9_], 1-64 bytes)")]
    BadMetric(String),
    /// An expected range is empty or not finite.
    #[error("expected range of {metric} is invalid: {min}..{max}")]
    BadRange {
        /// The metric.
        metric: Metric,
        /// Range start.
        min: f64,
        /// Range end.
        max: f64,
    },
}

impl TwinConfig {
    /// Checks the configuration and returns it with the roll-up resolutions
    /// sorted coarse to fine and de-duplicated.
    pub fn validated(mut self) -> Result<Self, ConfigError> {
        self.rollup_resolutions.sort_unstable();
        self.rollup_resolutions.dedup();
        if self.rollup_resolutions.is_empty() {
            return Err(ConfigError::NoRollups);
        }
        if let Some(&r) = self
            .rollup_resolutions
            .iter()
            .find(|&&r| r > self.base_resolution)
        {
            return Err(ConfigError::RollupFinerThanBase {
                rollup: u8::from(r),
                base: u8::from(self.base_resolution),
            });
        }
        for (field, value) in [
            ("window_ms", self.window_ms),
            ("stale_after_ms", self.stale_after_ms),
        ] {
            if value <= 0 {
                return Err(ConfigError::NotPositive { field, value });
            }
        }
        if self.flatline_readings < 2 {
            return Err(ConfigError::BadThreshold {
                field: "flatline_readings",
                value: f64::from(self.flatline_readings),
            });
        }
        if !(self.spike_factor.is_finite() && self.spike_factor > 1.0) {
            return Err(ConfigError::BadThreshold {
                field: "spike_factor",
                value: self.spike_factor,
            });
        }
        for (m, &(min, max)) in &self.expected_ranges {
            if !(min.is_finite() && max.is_finite() && min < max) {
                return Err(ConfigError::BadRange {
                    metric: m.clone(),
                    min,
                    max,
                });
            }
        }
        Ok(self)
    }
}

/// The twin's section of the server configuration (`[twin]` in
/// `config.toml`), in plain units. [`TwinSettings::build`] validates it into
/// a [`TwinConfig`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TwinSettings {
    /// H3 resolution at which observations and entities are placed (0-15).
    pub base_resolution: u8,
    /// H3 resolutions at which per-cell aggregates are kept; none finer than
    /// the base.
    pub rollup_resolutions: Vec<u8>,
    /// Width of the tumbling aggregation windows, seconds.
    pub window_secs: u64,
    /// A sensor with no data for this long is stale, seconds.
    pub stale_after_secs: u64,
    /// Identical consecutive readings that make a flatline.
    pub flatline_readings: u32,
    /// A jump larger than this many times the running mean absolute change
    /// is a spike.
    pub spike_factor: f64,
    /// Readings needed before spikes are judged.
    pub spike_warmup: u32,
    /// Event reports kept in snapshots.
    pub recent_events: usize,
    /// Expected ranges per metric (`pm25 = [0.0, 300.0]`), replacing the
    /// defaults for the metrics named.
    pub expected_ranges: BTreeMap<String, [f64; 2]>,
}

impl Default for TwinSettings {
    fn default() -> Self {
        let d = TwinConfig::default();
        Self {
            base_resolution: u8::from(d.base_resolution),
            rollup_resolutions: d.rollup_resolutions.iter().map(|&r| u8::from(r)).collect(),
            window_secs: 60,
            stale_after_secs: 900,
            flatline_readings: d.flatline_readings,
            spike_factor: d.spike_factor,
            spike_warmup: d.spike_warmup,
            recent_events: d.recent_events,
            expected_ranges: BTreeMap::new(),
        }
    }
}

impl TwinSettings {
    /// Validates the settings into a configuration.
    pub fn build(&self) -> Result<TwinConfig, ConfigError> {
        let res = |r: u8| Resolution::try_from(r).map_err(|_| ConfigError::BadResolution(r));
        let secs = |field: &'static str, s: u64| {
            i64::try_from(s)
                .ok()
                .and_then(|s| s.checked_mul(1000))
                .ok_or(ConfigError::NotPositive {
                    field,
                    value: i64::MAX,
                })
        };
        let mut expected_ranges = default_expected_ranges();
        for (name, [min, max]) in &self.expected_ranges {
            let m = Metric::new(name).map_err(|_| ConfigError::BadMetric(name.clone()))?;
            expected_ranges.insert(m, (*min, *max));
        }
        TwinConfig {
            base_resolution: res(self.base_resolution)?,
            rollup_resolutions: self
                .rollup_resolutions
                .iter()
                .map(|&r| res(r))
                .collect::<Result<_, _>>()?,
            window_ms: secs("window_secs", self.window_secs)?,
            stale_after_ms: secs("stale_after_secs", self.stale_after_secs)?,
            flatline_readings: self.flatline_readings,
            spike_factor: self.spike_factor,
            spike_warmup: self.spike_warmup,
            expected_ranges,
            recent_events: self.recent_events,
        }
        .validated()
    }
}

/// Typical ranges of the well-known metrics in a city: readings outside are
/// possible but worth a look (PM2.5 above 500 µg/m³, a flow above 3,600
/// veh/h on one detector, air below -45 °C or above 50 °C, ...).
pub fn default_expected_ranges() -> BTreeMap<Metric, (f64, f64)> {
    [
        ("flow", 0.0, 3600.0),
        ("count", 0.0, 1000.0),
        ("speed", 0.0, 150.0),
        ("occupancy", 0.0, 100.0),
        ("pm25", 0.0, 500.0),
        ("pm10", 0.0, 600.0),
        ("no2", 0.0, 400.0),
        ("o3", 0.0, 400.0),
        ("aqi", 0.0, 500.0),
        ("temperature", -45.0, 50.0),
        ("humidity", 0.0, 100.0),
        ("voltage", 0.0, 50_000.0),
        ("pv_power", 0.0, 10_000.0),
        ("irradiance", 0.0, 1_400.0),
        ("water_level", -5.0, 10.0),
        ("rainfall", 0.0, 100.0),
        ("battery", 0.0, 100.0),
    ]
    .into_iter()
    .map(|(m, min, max)| {
        (
            Metric::new(m).expect("well-known metric names are valid"),
            (min, max),
        )
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_sorted() {
        let c = TwinConfig::default().validated().unwrap();
        assert_eq!(c.rollup_resolutions.first(), Some(&Resolution::Seven));
        for m in c.expected_ranges.keys() {
            assert!(m.info().is_some(), "{m} is well known");
        }
    }

    #[test]
    fn settings_default_to_the_default_config_and_validate() {
        assert_eq!(
            TwinSettings::default().build(),
            TwinConfig::default().validated()
        );
        let s: TwinSettings = serde_json::from_str(
            r#"{"window_secs": 300, "rollup_resolutions": [8, 9], "expected_ranges": {"pm25": [0, 150]}}"#,
        )
        .unwrap();
        let c = s.build().unwrap();
        assert_eq!(c.window_ms, 300_000);
        assert_eq!(
            c.rollup_resolutions,
            vec![Resolution::Eight, Resolution::Nine]
        );
        assert_eq!(
            c.expected_ranges[&Metric::new("pm25").unwrap()],
            (0.0, 150.0)
        );
        assert_eq!(
            c.expected_ranges[&Metric::new("pm10").unwrap()],
            (0.0, 600.0)
        );
        assert!(serde_json::from_str::<TwinSettings>(r#"{"windw_secs": 1}"#).is_err());
        let bad = TwinSettings {
            base_resolution: 16,
            ..TwinSettings::default()
        };
        assert_eq!(bad.build(), Err(ConfigError::BadResolution(16)));
        let bad = TwinSettings {
            window_secs: 0,
            ..TwinSettings::default()
        };
        assert!(matches!(
            bad.build(),
            Err(ConfigError::NotPositive {
                field: "window_ms",
                ..
            })
        ));
    }

    #[test]
    fn bad_configs_name_the_offending_value() {
        let c = TwinConfig {
            rollup_resolutions: vec![Resolution::Eleven],
            ..TwinConfig::default()
        };
        assert_eq!(
            c.validated(),
            Err(ConfigError::RollupFinerThanBase {
                rollup: 11,
                base: 10
            })
        );
        let c = TwinConfig {
            window_ms: 0,
            ..TwinConfig::default()
        };
        assert_eq!(
            c.validated(),
            Err(ConfigError::NotPositive {
                field: "window_ms",
                value: 0
            })
        );
        let c = TwinConfig {
            rollup_resolutions: vec![],
            ..TwinConfig::default()
        };
        assert_eq!(c.validated(), Err(ConfigError::NoRollups));
    }
}
