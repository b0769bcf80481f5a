//! Shared fixtures: a small registry, a fixed receive time, decode helpers.

use std::collections::BTreeMap;

use domain::{
    GatewayId, GatewaySpec, LatLon, Metric, Registry, SensorId, SensorKind, SensorSpec, Timestamp,
};
use ingest::{DecodeContext, Decoded, Reason, SparkplugState};

/// 2026-01-01T00:00:00Z: the receive time of every decode test.
pub const NOW: Timestamp = Timestamp(1_767_225_600_000);

pub fn sensor(id: &str, gw: &str, kind: SensorKind, metrics: &[&str]) -> SensorSpec {
    SensorSpec {
        id: SensorId::new(id).unwrap(),
        kind,
        gateway: GatewayId::new(gw).unwrap(),
        location: LatLon {
            lat: 60.17,
            lon: 24.94,
        },
        observes: None,
        metrics: metrics.iter().map(|m| Metric::new(m).unwrap()).collect(),
    }
}

/// Gateways `gw-a`, `gw-b`; `det-1` (gw-a, traffic, lists its metrics),
/// `aq-1` (gw-a, air quality, no metric list), `m-1` (gw-b, meter),
/// `app-1` (gw-a, event reporter). FIWARE apikey `key-a` → gw-a.
pub fn registry() -> Registry {
    Registry::new(
        ["gw-a", "gw-b"].map(|g| GatewaySpec {
            id: GatewayId::new(g).unwrap(),
            name: g.into(),
        }),
        [
            sensor(
                "det-1",
                "gw-a",
                SensorKind::TrafficDetector,
                &["flow", "speed", "count", "occupancy"],
            ),
            sensor("aq-1", "gw-a", SensorKind::AirQuality, &[]),
            sensor("m-1", "gw-b", SensorKind::EnergyMeter, &["power"]),
            sensor("app-1", "gw-a", SensorKind::EventReporter, &[]),
        ],
    )
}

pub fn ctx() -> DecodeContext {
    let mut c = DecodeContext::new(registry());
    c.fiware_apikeys = BTreeMap::from([("key-a".to_owned(), GatewayId::new("gw-a").unwrap())]);
    c
}

pub fn run(topic: &str, payload: &[u8]) -> Decoded {
    ingest::decode(topic, payload, NOW, &ctx(), &mut SparkplugState::default())
}

/// The reason codes of the dead letters, in order.
pub fn reasons(d: &Decoded) -> Vec<Reason> {
    d.dead_letters
        .iter()
        .map(|dl| Reason::of(dl).unwrap_or_else(|| panic!("no reason code in {:?}", dl.reason)))
        .collect()
}

/// `(sensor, metric, ts, value)` of each observation.
pub fn obs(d: &Decoded) -> Vec<(String, String, i64, f64)> {
    d.observations
        .iter()
        .map(|o| (o.sensor.to_string(), o.metric.to_string(), o.ts.0, o.value))
        .collect()
}

pub fn o(sensor: &str, metric: &str, ts: i64, value: f64) -> (String, String, i64, f64) {
    (sensor.into(), metric.into(), ts, value)
}
