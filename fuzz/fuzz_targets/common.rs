//! The decode context shared by the fuzz targets.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use domain::{
    GatewayId, GatewaySpec, LatLon, Metric, Registry, SensorId, SensorKind, SensorSpec, Timestamp,
};
use ingest::{DecodeContext, Decoded, Reason};

/// 2026-01-01T00:00:00Z.
pub const NOW: Timestamp = Timestamp(1_767_225_600_000);

pub fn ctx() -> &'static DecodeContext {
    static CTX: OnceLock<DecodeContext> = OnceLock::new();
    CTX.get_or_init(|| {
        let gw = GatewayId::new("gw-a").expect("valid id");
        let sensor = |id: &str, kind, metrics: &[&str]| SensorSpec {
            id: SensorId::new(id).expect("valid id"),
            kind,
            gateway: gw.clone(),
            location: LatLon { lat: 60.17, lon: 24.94 },
            observes: None,
            metrics: metrics.iter().map(|m| Metric::new(m).expect("valid metric")).collect(),
        };
        let registry = Registry::new(
            [GatewaySpec { id: gw.clone(), name: "gw-a".into() }],
            [
                sensor("aq-1", SensorKind::AirQuality, &[]),
                sensor("det-1", SensorKind::TrafficDetector, &["flow", "speed"]),
            ],
        );
        let mut c = DecodeContext::new(registry);
        c.fiware_apikeys = BTreeMap::from([("key-a".to_owned(), gw)]);
        c
    })
}

/// Invariants that hold for every input: every dead letter has a reason code
/// and a bounded payload; every observation is finite.
pub fn check(d: &Decoded) {
    for dl in &d.dead_letters {
        assert!(Reason::of(dl).is_some(), "dead letter without a reason code: {}", dl.reason);
        assert!(dl.payload.len() <= domain::DEAD_LETTER_MAX_BYTES);
    }
    for o in &d.observations {
        assert!(o.value.is_finite());
    }
}
