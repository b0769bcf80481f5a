//! Value models: what each kind of sensor reads at a given instant.
//!
//! Every reading is a pure function of the sensor, the metric, the instant and
//! a seed, so two runs with one seed publish the same values, and a reading
//! can be recomputed in a test. Times are UTC; diurnal shapes use the city's
//! local time through `utc_offset_h`.

use domain::{SensorKind, SensorSpec};

/// Hourly share of daily traffic (sums to 1): a two-peaked weekday profile of
/// urban arterials (morning peak 7-9, evening peak 16-18).
pub const TRAFFIC_PROFILE: [f64; 24] = [
    0.010, 0.006, 0.004, 0.004, 0.006, 0.015, 0.040, 0.070, 0.075, 0.060, 0.052, 0.053, 0.055,
    0.054, 0.055, 0.060, 0.072, 0.075, 0.065, 0.050, 0.040, 0.032, 0.025, 0.022,
];

/// Parameters shared by all models.
#[derive(Debug, Clone, Copy)]
pub struct ModelParams {
    /// Seed of the run.
    pub seed: u64,
    /// Local time offset of the city from UTC, hours.
    pub utc_offset_h: f64,
    /// Mean days between flood events at a water gauge.
    pub flood_every_days: f64,
}

impl Default for ModelParams {
    fn default() -> Self {
        Self {
            seed: 7,
            utc_offset_h: 2.0,
            flood_every_days: 0.5,
        }
    }
}

/// A stable pseudo-random number in [0, 1) from a key (SplitMix64).
pub fn unit_hash(mut x: u64) -> f64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    #[allow(clippy::cast_precision_loss)]
    let v = (x >> 11) as f64 / (1u64 << 53) as f64;
    v
}

/// FNV-1a of a text, to key hashes by sensor id.
pub fn text_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Smooth noise in [-1, 1] that changes over `period_ms` (linear interpolation
/// between hashed knots), so consecutive readings are correlated.
fn smooth_noise(key: u64, t_ms: i64, period_ms: i64) -> f64 {
    let k = t_ms.div_euclid(period_ms);
    #[allow(clippy::cast_precision_loss)]
    let f = t_ms.rem_euclid(period_ms) as f64 / period_ms as f64;
    #[allow(clippy::cast_sign_loss)]
    let (a, b) = (
        unit_hash(key ^ (k as u64)),
        unit_hash(key ^ ((k + 1) as u64)),
    );
    2.0 * (a + (b - a) * f) - 1.0
}

/// Local hour of day as a fraction (0..24).
#[allow(clippy::cast_precision_loss)]
pub fn local_hour(t_ms: i64, utc_offset_h: f64) -> f64 {
    ((t_ms as f64 / 3_600_000.0) + utc_offset_h).rem_euclid(24.0)
}

fn profile_at(hour: f64) -> f64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let h = hour.floor() as usize % 24;
    let f = hour - hour.floor();
    TRAFFIC_PROFILE[h] * (1.0 - f) + TRAFFIC_PROFILE[(h + 1) % 24] * f
}

/// The readings of one sensor at one instant: `(metric, value)` in canonical units.
pub fn readings(spec: &SensorSpec, t_ms: i64, p: &ModelParams) -> Vec<(&'static str, f64)> {
    let key = text_hash(spec.id.as_str()) ^ p.seed.rotate_left(17);
    let hour = local_hour(t_ms, p.utc_offset_h);
    match spec.kind {
        SensorKind::TrafficDetector => {
            // capacity of the approach 900-1,800 veh/h; demand follows the daily profile
            let capacity = 900.0 + 900.0 * unit_hash(key);
            let vc = (profile_at(hour) / 0.075) * (0.75 + 0.2 * smooth_noise(key, t_ms, 600_000));
            let flow = (capacity * vc.clamp(0.0, 1.05)).max(0.0);
            // speed falls with volume/capacity (BPR shape), free flow 40-50 km/h
            let free = 40.0 + 10.0 * unit_hash(key ^ 1);
            let speed = free / (1.0 + 0.15 * vc.powi(4) * 4.0);
            let occupancy = (100.0 * flow / capacity * 0.25 * (free / speed)).clamp(0.0, 100.0);
            let count = flow / 120.0; // 30 s interval
            vec![
                ("flow", flow.round()),
                ("speed", round1(speed)),
                ("occupancy", round1(occupancy)),
                ("count", count.round()),
            ]
        }
        SensorKind::AirQuality => {
            // PM2.5 background 8-15 µg/m³ with rush-hour peaks and slow weather swings
            let base = 8.0 + 7.0 * unit_hash(key);
            let traffic = 25.0 * profile_at(hour) / 0.075;
            let weather = 1.0 + 0.6 * smooth_noise(key >> 3, t_ms, 6 * 3_600_000);
            let pm25 = ((base + traffic * 0.4) * weather + 2.0 * smooth_noise(key, t_ms, 300_000))
                .max(0.5);
            let pm10 = pm25 * (1.4 + 0.3 * unit_hash(key ^ 2));
            let no2 = 10.0 + 40.0 * profile_at(hour) / 0.075 * weather;
            let temp = 4.0 + 5.0 * ((hour - 9.0) / 24.0 * std::f64::consts::TAU).sin();
            vec![
                ("pm25", round1(pm25)),
                ("pm10", round1(pm10)),
                ("no2", round1(no2)),
                ("aqi", aqi_from_pm25(pm25).round()),
                ("temperature", round1(temp)),
                (
                    "humidity",
                    round1(70.0 + 15.0 * smooth_noise(key ^ 5, t_ms, 3_600_000)),
                ),
            ]
        }
        SensorKind::EnergyMeter => {
            // residential/commercial mix: 2-40 kW peak, morning and evening peaks
            let peak = 2.0 + 38.0 * unit_hash(key);
            let shape = 0.35 + 0.65 * (profile_at(hour) / 0.075).min(1.0);
            let kw = peak * shape * (1.0 + 0.1 * smooth_noise(key, t_ms, 900_000));
            vec![
                ("power", round3(kw)),
                (
                    "voltage",
                    round1(230.0 + 4.0 * smooth_noise(key ^ 9, t_ms, 900_000)),
                ),
            ]
        }
        SensorKind::PvInverter => {
            // clear-sky bell between 6 and 20 local, 3-30 kWp, passing clouds
            let kwp = 3.0 + 27.0 * unit_hash(key);
            let sun = ((hour - 6.0) / 14.0 * std::f64::consts::PI).sin().max(0.0);
            let cloud = 0.75 + 0.25 * smooth_noise(key, t_ms, 1_800_000);
            let irr = 900.0 * sun.powf(1.3) * cloud;
            vec![
                ("pv_power", round3(kwp * irr / 1000.0 * 0.85)),
                ("irradiance", round1(irr)),
            ]
        }
        SensorKind::WaterLevel => {
            // tide-like swing ±0.3 m around 1.2 m, plus flood events rising to 2.6-3.2 m
            let base = 1.2 + 0.3 * ((t_ms as f64 / 44_712_000.0) * std::f64::consts::TAU).sin();
            let flood = flood_level(key, t_ms, p.flood_every_days);
            vec![
                ("water_level", round3(base + flood)),
                ("rainfall", round1((flood * 8.0).max(0.0))),
            ]
        }
        SensorKind::EventReporter | SensorKind::Other => Vec::new(),
    }
}

/// The China HJ 633-2012 individual AQI of PM2.5 (24 h breakpoints, applied to the
/// current value for display).
pub fn aqi_from_pm25(c: f64) -> f64 {
    const BP: [(f64, f64, f64, f64); 7] = [
        (0.0, 35.0, 0.0, 50.0),
        (35.0, 75.0, 50.0, 100.0),
        (75.0, 115.0, 100.0, 150.0),
        (115.0, 150.0, 150.0, 200.0),
        (150.0, 250.0, 200.0, 300.0),
        (250.0, 350.0, 300.0, 400.0),
        (350.0, 500.0, 400.0, 500.0),
    ];
    for (cl, ch, il, ih) in BP {
        if c <= ch {
            return il + (ih - il) / (ch - cl) * (c.max(cl) - cl);
        }
    }
    500.0
}

/// Extra water level from a flood event: events start at hashed times roughly
/// every `every_days`, rise for 40 min, hold 30 min and recede over 60 min.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
pub fn flood_level(key: u64, t_ms: i64, every_days: f64) -> f64 {
    if every_days <= 0.0 {
        return 0.0;
    }
    let period = (every_days * 86_400_000.0) as i64;
    let k = t_ms.div_euclid(period);
    #[allow(clippy::cast_sign_loss)]
    let start = k * period + (unit_hash(key ^ (k as u64) ^ 0xF1) * (period as f64 * 0.8)) as i64;
    let dt = (t_ms - start) as f64 / 60_000.0;
    #[allow(clippy::cast_sign_loss)]
    let height = 1.4 + 0.6 * unit_hash(key ^ (k as u64) ^ 0xF2);
    if dt < 0.0 {
        0.0
    } else if dt < 40.0 {
        height * dt / 40.0
    } else if dt < 70.0 {
        height
    } else if dt < 130.0 {
        height * (130.0 - dt) / 60.0
    } else {
        0.0
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{GatewayId, LatLon, Metric, SensorId, Timestamp};

    fn spec(kind: SensorKind) -> SensorSpec {
        SensorSpec {
            id: SensorId::new("s-1").unwrap(),
            kind,
            gateway: GatewayId::new("gw").unwrap(),
            location: LatLon {
                lat: 60.17,
                lon: 24.94,
            },
            observes: None,
            metrics: vec![],
        }
    }

    #[test]
    fn traffic_profile_sums_to_one() {
        let s: f64 = TRAFFIC_PROFILE.iter().sum();
        assert!((s - 1.0).abs() < 1e-9, "{s}");
    }

    #[test]
    fn every_reading_passes_domain_validation_for_a_day() {
        let p = ModelParams::default();
        for kind in SensorKind::ALL {
            for step in 0..(24 * 12) {
                let t = 1_767_225_600_000 + step * 300_000;
                for (m, v) in readings(&spec(kind), t, &p) {
                    let o = domain::Observation::validated(
                        SensorId::new("s-1").unwrap(),
                        Metric::new(m).unwrap(),
                        Timestamp(t),
                        v,
                        None,
                        Timestamp(t),
                        domain::TimeWindow::default(),
                    );
                    assert!(o.is_ok(), "{kind:?} {m}={v}: {o:?}");
                }
            }
        }
    }

    #[test]
    fn readings_are_deterministic_and_depend_on_the_seed() {
        let p = ModelParams::default();
        let t = 1_767_250_000_000;
        let a = readings(&spec(SensorKind::AirQuality), t, &p);
        assert_eq!(a, readings(&spec(SensorKind::AirQuality), t, &p));
        let q = ModelParams { seed: 8, ..p };
        assert_ne!(a, readings(&spec(SensorKind::AirQuality), t, &q));
    }

    #[test]
    fn aqi_matches_the_breakpoints() {
        assert_eq!(aqi_from_pm25(35.0), 50.0);
        assert_eq!(aqi_from_pm25(75.0), 100.0);
        assert_eq!(aqi_from_pm25(55.0), 75.0);
        assert_eq!(aqi_from_pm25(900.0), 500.0);
    }

    #[test]
    fn floods_happen_and_recede() {
        let every = 0.5;
        let key = 42;
        let levels: Vec<f64> = (0..(3 * 24 * 60))
            .map(|m| flood_level(key, m * 60_000, every))
            .collect();
        let max = levels.iter().copied().fold(0.0, f64::max);
        assert!(max >= 1.4, "{max}");
        let dry = levels.iter().filter(|l| **l == 0.0).count();
        assert!(dry > levels.len() / 2);
    }
}
