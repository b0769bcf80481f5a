//! Inputs of scoring: live metrics (from the twin and the engines), static
//! inputs (annual statistics) and scenario outputs, each with a data quality.
//!
//! [`LiveInputs`] is plain data the server fills; [`LIVE_METRICS`] lists the
//! metric ids profiles may bind to and who provides them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A live metric that profiles may bind to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LiveMetric {
    /// Metric id.
    pub id: &'static str,
    /// Unit of the value.
    pub unit: &'static str,
    /// Whether the value is a ratio (numerator/denominator carried).
    pub ratio: bool,
    /// Who computes it.
    pub provider: &'static str,
    /// What it measures.
    pub description: &'static str,
}

/// The live metrics profiles may bind to. Documented in `docs/specs/indicators.md`.
pub const LIVE_METRICS: &[LiveMetric] = &[
    LiveMetric {
        id: "sensor_coverage",
        unit: "ratio",
        ratio: true,
        provider: "twin",
        description: "share of the area's H3 cells with at least one reporting sensor",
    },
    LiveMetric {
        id: "sensor_online_share",
        unit: "ratio",
        ratio: true,
        provider: "twin / registry",
        description: "registered sensors that reported within their expected interval / registered sensors",
    },
    LiveMetric {
        id: "incident_on_time_closure",
        unit: "ratio",
        ratio: true,
        provider: "operations centre, community engine",
        description: "incidents closed by their due time / incidents with a due time (按期办结率)",
    },
    LiveMetric {
        id: "incident_response_time_min",
        unit: "min",
        ratio: false,
        provider: "operations centre, community engine",
        description: "median time from report to first response",
    },
    LiveMetric {
        id: "eco_alarm_on_time_closure",
        unit: "ratio",
        ratio: true,
        provider: "operations centre",
        description: "environmental alarms (pollution, noise, water) handled within deadline / handled",
    },
    LiveMetric {
        id: "typical_scenarios_live",
        unit: "count",
        ratio: false,
        provider: "platform",
        description: "typical application scenarios (典型应用场景) live on the platform",
    },
    LiveMetric {
        id: "traffic_travel_time_index",
        unit: "index",
        ratio: false,
        provider: "traffic engine / twin",
        description: "travel time index: actual / free-flow travel time (1 = free flow)",
    },
    LiveMetric {
        id: "good_air_days_share",
        unit: "ratio",
        ratio: true,
        provider: "twin (air-quality sensors)",
        description: "days with daily AQI <= 100 / days observed",
    },
    LiveMetric {
        id: "pm25_mean",
        unit: "µg/m³",
        ratio: false,
        provider: "twin (air-quality sensors)",
        description: "mean PM2.5 concentration",
    },
    LiveMetric {
        id: "aqi_mean",
        unit: "index",
        ratio: false,
        provider: "twin (air-quality sensors)",
        description: "mean air quality index",
    },
    LiveMetric {
        id: "renewable_share",
        unit: "ratio",
        ratio: true,
        provider: "energy engine",
        description: "renewable energy / energy consumed (local PV share of consumption where only PV is metered)",
    },
    LiveMetric {
        id: "co2_intensity",
        unit: "kgCO2/kWh",
        ratio: false,
        provider: "energy engine",
        description: "CO2 emitted per kWh consumed",
    },
    LiveMetric {
        id: "realtime_service_share",
        unit: "ratio",
        ratio: true,
        provider: "api (service catalogue)",
        description: "public services publishing real-time information / public services",
    },
    LiveMetric {
        id: "smart_meter_share",
        unit: "ratio",
        ratio: true,
        provider: "twin (meters)",
        description: "buildings with a reporting smart energy meter / buildings",
    },
    LiveMetric {
        id: "ev_chargers_per_ev",
        unit: "ratio",
        ratio: true,
        provider: "energy engine",
        description: "public EV charging points / registered electric vehicles",
    },
    LiveMetric {
        id: "air_stations_count",
        unit: "count",
        ratio: false,
        provider: "twin (registry)",
        description: "real-time air-quality monitoring stations reporting",
    },
    LiveMetric {
        id: "inquiry_response_days",
        unit: "d",
        ratio: false,
        provider: "operations centre",
        description: "mean response time to non-emergency inquiries",
    },
    LiveMetric {
        id: "traffic_info_coverage",
        unit: "ratio",
        ratio: true,
        provider: "traffic engine / twin",
        description: "road length with real-time traffic information / road length",
    },
    LiveMetric {
        id: "transit_realtime_share",
        unit: "ratio",
        ratio: true,
        provider: "twin (transit feeds)",
        description: "public transport lines with public real-time arrival information / lines",
    },
    LiveMetric {
        id: "smart_signal_share",
        unit: "ratio",
        ratio: true,
        provider: "traffic engine / twin",
        description: "signalised intersections remotely managed / signalised intersections",
    },
    LiveMetric {
        id: "camera_area_coverage",
        unit: "ratio",
        ratio: true,
        provider: "twin",
        description: "share of the area's H3 cells covered by public-safety cameras",
    },
    LiveMetric {
        id: "water_quality_realtime_share",
        unit: "ratio",
        ratio: true,
        provider: "twin (water sensors)",
        description: "drinking water volume tracked by real-time quality stations / volume supplied",
    },
];

/// Whether `id` is a known live metric.
pub fn is_live_metric(id: &str) -> bool {
    LIVE_METRICS.iter().any(|m| m.id == id)
}

/// One input value with its data quality.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InputValue {
    /// The raw value (for a ratio: numerator / denominator).
    pub value: f64,
    /// Data quality in [0, 1] (1 = complete, fresh, validated); lowers confidence.
    #[serde(default = "one")]
    pub quality: f64,
    /// Numerator and denominator of a ratio, so areas aggregate by summing counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<(f64, f64)>,
    /// Weight when areas are averaged (population, sample count); 1 by default.
    #[serde(default = "one")]
    pub weight: f64,
}

fn one() -> f64 {
    1.0
}

impl InputValue {
    /// A plain value of full quality.
    pub fn new(value: f64) -> Self {
        Self {
            value,
            quality: 1.0,
            ratio: None,
            weight: 1.0,
        }
    }

    /// A ratio from its counts (value = numerator / denominator; NaN when the denominator is 0).
    pub fn from_counts(numerator: f64, denominator: f64) -> Self {
        Self {
            value: numerator / denominator,
            quality: 1.0,
            ratio: Some((numerator, denominator)),
            weight: 1.0,
        }
    }

    /// The same value with this quality (clamped to [0, 1]).
    pub fn with_quality(mut self, quality: f64) -> Self {
        self.quality = if quality.is_nan() {
            0.0
        } else {
            quality.clamp(0.0, 1.0)
        };
        self
    }

    /// The same value with this averaging weight.
    pub fn with_weight(mut self, weight: f64) -> Self {
        self.weight = weight;
        self
    }
}

/// Aggregates values of one key over areas: ratios sum numerators and
/// denominators; other values take the weight-averaged mean; quality is
/// weight-averaged; weights add up.
pub fn aggregate_values(values: &[InputValue]) -> Option<InputValue> {
    if values.is_empty() {
        return None;
    }
    let wsum: f64 = values.iter().map(|v| v.weight).sum();
    let quality = if wsum > 0.0 {
        values.iter().map(|v| v.quality * v.weight).sum::<f64>() / wsum
    } else {
        values.iter().map(|v| v.quality).sum::<f64>() / values.len() as f64
    };
    if values.iter().all(|v| v.ratio.is_some()) {
        let (num, den) = values
            .iter()
            .filter_map(|v| v.ratio)
            .fold((0.0, 0.0), |(a, b), (n, d)| (a + n, b + d));
        return Some(InputValue {
            value: num / den,
            quality,
            ratio: Some((num, den)),
            weight: wsum,
        });
    }
    let value = if wsum > 0.0 {
        values.iter().map(|v| v.value * v.weight).sum::<f64>() / wsum
    } else {
        values.iter().map(|v| v.value).sum::<f64>() / values.len() as f64
    };
    Some(InputValue {
        value,
        quality,
        ratio: None,
        weight: wsum,
    })
}

/// Live metric values of one area (city, district or H3 cell): metric id -> value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LiveInputs(pub BTreeMap<String, InputValue>);

impl LiveInputs {
    /// No values.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a value.
    pub fn set(&mut self, metric: impl Into<String>, value: InputValue) -> &mut Self {
        self.0.insert(metric.into(), value);
        self
    }

    /// The value of a metric.
    pub fn get(&self, metric: &str) -> Option<&InputValue> {
        self.0.get(metric)
    }
}

/// Everything known about one area: static inputs by indicator id, live
/// inputs by metric id, scenario outputs by `engine.kpi`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntityInputs {
    /// Static inputs (annual statistics), keyed by indicator or deduction id.
    #[serde(default)]
    pub statics: BTreeMap<String, InputValue>,
    /// Live metrics, keyed by metric id.
    #[serde(default)]
    pub live: LiveInputs,
    /// Scenario outputs, keyed by `engine.kpi`.
    #[serde(default)]
    pub scenario: BTreeMap<String, InputValue>,
}

impl EntityInputs {
    /// Aggregates areas into their parent (cells into a district, districts into
    /// a city) key by key with [`aggregate_values`].
    pub fn aggregate<'a>(children: impl IntoIterator<Item = &'a EntityInputs>) -> EntityInputs {
        let mut statics: BTreeMap<String, Vec<InputValue>> = BTreeMap::new();
        let mut live: BTreeMap<String, Vec<InputValue>> = BTreeMap::new();
        let mut scenario: BTreeMap<String, Vec<InputValue>> = BTreeMap::new();
        for c in children {
            for (k, v) in &c.statics {
                statics.entry(k.clone()).or_default().push(*v);
            }
            for (k, v) in &c.live.0 {
                live.entry(k.clone()).or_default().push(*v);
            }
            for (k, v) in &c.scenario {
                scenario.entry(k.clone()).or_default().push(*v);
            }
        }
        let fold = |m: BTreeMap<String, Vec<InputValue>>| {
            m.into_iter()
                .filter_map(|(k, vs)| aggregate_values(&vs).map(|v| (k, v)))
                .collect::<BTreeMap<_, _>>()
        };
        EntityInputs {
            statics: fold(statics),
            live: LiveInputs(fold(live)),
            scenario: fold(scenario),
        }
    }
}
