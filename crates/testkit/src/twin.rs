//! Twin fixtures (feature `twin`): the demo city file, small synthetic
//! cities and deterministic observation streams.

use std::path::PathBuf;

use domain::{Metric, Observation, SensorId, Timestamp};
use twin::City;
use twin::synthetic::{SyntheticSpec, generate};

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
