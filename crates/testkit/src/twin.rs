//! Twin fixtures (feature `twin`): the demo city file, small synthetic
//! cities and deterministic observation streams.

use std::path::PathBuf;

use domain::{Metric, Observation, SensorId, Timestamp};
use twin::synthetic::{SyntheticSpec, generate};
use twin::{City, Twin, TwinConfig};

/// A builder of synthetic test cities:
/// `CityBuilder::grid(4, 4).seed(7).meters(1.0).build()`.
#[derive(Debug, Clone)]
pub struct CityBuilder {
    spec: SyntheticSpec,
}

impl CityBuilder {
    /// A grid of `x × y` intersections (at least 2 × 2), otherwise like
    /// [`SyntheticSpec::small`].
    pub fn grid(x: u32, y: u32) -> Self {
        let mut spec = SyntheticSpec::small(0);
        spec.grid_x = x;
        spec.grid_y = y;
        Self { spec }
    }

    /// The seed of every random choice.
    pub fn seed(mut self, seed: u64) -> Self {
        self.spec.seed = seed;
        self
    }

    /// Distance between intersections, metres.
    pub fn block_m(mut self, m: f64) -> Self {
        self.spec.block_m = m;
        self
    }

    /// Buildings per block.
    pub fn buildings_per_block(mut self, n: u32) -> Self {
        self.spec.buildings_per_block = n;
        self
    }

    /// Share of buildings with a smart meter.
    pub fn meters(mut self, share: f64) -> Self {
        self.spec.sensors.meter_share = share;
        self
    }

    /// Share of buildings with a PV inverter.
    pub fn pv(mut self, share: f64) -> Self {
        self.spec.sensors.pv_share = share;
        self
    }

    /// Every n-th intersection signalised (0: none).
    pub fn signal_every(mut self, n: u32) -> Self {
        self.spec.signal_every = n;
        self
    }

    /// The spec as built so far.
    pub fn spec(&self) -> &SyntheticSpec {
        &self.spec
    }

    /// The city.
    pub fn build(self) -> City {
        generate(&self.spec)
    }

    /// A live twin of the city with the default configuration.
    pub fn twin(self) -> Twin {
        Twin::new(self.build(), TwinConfig::default()).expect("synthetic cities are consistent")
    }
}

/// The repository's copy of the demo city extract.
pub fn helsinki_pbf_path() -> PathBuf {
    crate::workspace_root()
        .join("deploy")
        .join("cities")
        .join("helsinki")
        .join("Helsinki.osm.pbf")
}

/// The bytes of the Helsinki extract: the repository copy, else the shared
/// reference data; `None` (with a SKIPPED message) when neither exists.
pub fn helsinki_pbf() -> Option<Vec<u8>> {
    let repo = helsinki_pbf_path();
    let path = if repo.exists() {
        repo
    } else {
        crate::shared_data("city/helsinki/Helsinki.osm.pbf")?
    };
    Some(std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display())))
}

/// A 4 × 4 synthetic city with every sensor kind (a few hundred entities).
pub fn small_city(seed: u64) -> City {
    generate(&SyntheticSpec::small(seed))
}

/// A synthetic city with about `n` smart meters (and the usual detectors,
/// stations and reporters), for throughput tests.
pub fn city_with_meters(n: usize, seed: u64) -> City {
    let mut spec = SyntheticSpec::small(seed);
    // 20 buildings per block, 100 m blocks, as many blocks as needed
    spec.buildings_per_block = 20;
    spec.block_m = 100.0;
    let blocks = n.div_ceil(20).max(1);
    let side = (blocks as f64).sqrt().ceil() as u32 + 1;
    spec.grid_x = side.max(2);
    spec.grid_y = side.max(2);
    spec.signal_every = 4;
    spec.community_blocks = 10;
    spec.sensors.meter_share = (n as f64 / spec.buildings() as f64).min(1.0);
    spec.sensors.pv_share = 0.0;
    spec.sensors_per_gateway = 500;
    generate(&spec)
}

/// An observation.
pub fn obs(sensor: &str, metric: &str, ts_ms: i64, value: f64) -> Observation {
    Observation {
        sensor: SensorId::new(sensor).expect("valid sensor id"),
        metric: Metric::new(metric).expect("valid metric name"),
        ts: Timestamp(ts_ms),
        value,
    }
}

/// Every (sensor, metric) pair of a city, in registry order.
pub fn sensor_metrics(city: &City) -> Vec<(SensorId, Metric)> {
    city.registry
        .sensors()
        .flat_map(|s| s.metrics.iter().map(move |m| (s.id.clone(), m.clone())))
        .collect()
}

/// `n` observations cycling through the city's (sensor, metric) pairs,
/// `step_ms` apart from `start_ms`, with values inside each metric's
/// expected range drawn from a seeded xorshift generator (same seed, same
/// stream).
pub fn observation_stream(
    city: &City,
    seed: u64,
    start_ms: i64,
    step_ms: i64,
    n: usize,
) -> Vec<Observation> {
    let pairs = sensor_metrics(city);
    assert!(!pairs.is_empty(), "the city has no sensor metrics");
    let ranges = twin::default_expected_ranges();
    let mut x = seed | 1;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            let (sensor, metric) = &pairs[i % pairs.len()];
            let (lo, hi) = ranges.get(metric).copied().unwrap_or((0.0, 100.0));
            let hi = if metric.as_str() == "power" { 50.0 } else { hi };
            Observation {
                sensor: sensor.clone(),
                metric: metric.clone(),
                ts: Timestamp(start_ms + step_ms * i as i64),
                value: lo + u * (hi - lo) * 0.5,
            }
        })
        .collect()
}
