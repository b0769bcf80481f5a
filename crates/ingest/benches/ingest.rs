//! Decode throughput per format, in observations per second, next to the
//! bare parse of the same bytes as the peer: `serde_json::from_slice::<Value>`
//! for the JSON formats and `prost` `Payload::decode` for Sparkplug B.
//!
//! `cargo bench -p ingest --bench ingest` (results in docs/benchmarks/ingest.md).

#![allow(clippy::unwrap_used, clippy::expect_used)] // bench setup

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use domain::{
    GatewayId, GatewaySpec, LatLon, Registry, SensorId, SensorKind, SensorSpec, Timestamp,
};
use ingest::sparkplug::{Metric, MetricValue, Payload, datatype};
use ingest::{DecodeContext, SparkplugState};
use prost::Message;

const NOW: Timestamp = Timestamp(1_767_225_600_000);
const SENSORS: usize = 1_000;
const BATCH: usize = 100;

fn ctx() -> DecodeContext {
    let gw = GatewayId::new("gw-a").unwrap();
    let registry = Registry::new(
        [GatewaySpec {
            id: gw.clone(),
            name: "gw-a".into(),
        }],
        (0..SENSORS).map(|i| SensorSpec {
            id: SensorId::new(format!("aq-{i:04}")).unwrap(),
            kind: SensorKind::AirQuality,
            gateway: gw.clone(),
            location: LatLon {
                lat: 60.17,
                lon: 24.94,
            },
            observes: None,
            metrics: vec![],
        }),
    );
    let mut c = DecodeContext::new(registry);
    c.fiware_apikeys = BTreeMap::from([("key-a".to_owned(), gw)]);
    c
}

/// A native batch of `BATCH` observations from distinct sensors.
fn native() -> Vec<u8> {
    let recs: Vec<String> = (0..BATCH)
        .map(|i| {
            format!(
                r#"{{"sensor":"aq-{:04}","metric":"pm25","value":{}.25,"unit":"ug/m3","ts":{}}}"#,
                i * 7 % SENSORS,
                i % 300,
                NOW.0 - i as i64
            )
        })
        .collect();
    format!(r#"{{"ts":{},"obs":[{}]}}"#, NOW.0, recs.join(",")).into_bytes()
}

/// A SenML pack of `BATCH` records over 10 sensors.
fn senml() -> Vec<u8> {
    let mut recs = Vec::new();
    for s in 0..10 {
        for k in 0..BATCH / 10 {
            let base = if k == 0 {
                format!(r#""bn":"aq-{s:04}/","bt":{},"bu":"ug/m3","#, NOW.0 / 1000)
            } else {
                String::new()
            };
            recs.push(format!(r#"{{{base}"n":"pm10","v":{}.5,"t":-{k}}}"#, k * 3));
        }
    }
    format!("[{}]", recs.join(",")).into_bytes()
}

/// A FIWARE measure of 8 attributes.
fn fiware() -> Vec<u8> {
    br#"{"pm25":12.5,"pm10":"20.1","no2":31,"o3":44.5,"airQualityIndex":57,"t":3.25,"h":81,"relativeHumidity":0.81,"TimeInstant":"2025-12-31T23:59:59.500Z"}"#.to_vec()
}

/// Sparkplug: a device birth with `BATCH` aliased metrics, then data by alias.
fn sparkplug() -> (Vec<u8>, Vec<u8>) {
    let names = ["pm25", "pm10", "no2", "o3", "aqi"];
    let birth = Payload {
        timestamp: Some(NOW.0 as u64),
        seq: Some(1),
        metrics: (0..BATCH as u64)
            .map(|a| Metric {
                name: Some(format!("Sensors/{}", names[a as usize % names.len()])),
                alias: Some(a),
                datatype: Some(datatype::DOUBLE),
                value: Some(MetricValue::DoubleValue(1.0)),
                ..Metric::default()
            })
            .collect(),
        ..Payload::default()
    };
    let data = Payload {
        timestamp: Some(NOW.0 as u64),
        seq: Some(2),
        metrics: (0..BATCH as u64)
            .map(|a| Metric {
                alias: Some(a),
                timestamp: Some(NOW.0 as u64 - a),
                value: Some(MetricValue::DoubleValue(a as f64)),
                ..Metric::default()
            })
            .collect(),
        ..Payload::default()
    };
    (birth.encode_to_vec(), data.encode_to_vec())
}

fn bench(c: &mut Criterion) {
    let cx = ctx();
    let json_cases = [
        ("native", "citybrain/v1/gw-a/obs", native()),
        ("senml", "citybrain/v1/gw-a/senml", senml()),
        ("fiware", "/json/key-a/aq-0001/attrs", fiware()),
    ];
    for (name, topic, bytes) in &json_cases {
        let mut st = SparkplugState::default();
        let n = ingest::decode(topic, bytes, NOW, &cx, &mut st);
        assert!(n.dead_letters.is_empty(), "{name}: {:?}", n.dead_letters);
        let mut g = c.benchmark_group(format!("decode/{name}"));
        g.throughput(Throughput::Elements(n.observations.len() as u64));
        g.bench_function("ingest::decode", |b| {
            b.iter(|| ingest::decode(black_box(topic), black_box(bytes), NOW, &cx, &mut st))
        });
        g.bench_function("serde_json::Value (peer)", |b| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(bytes)).unwrap())
        });
        g.finish();
    }

    let (birth, data) = sparkplug();
    let mut st = SparkplugState::default();
    let topic_birth = "spBv1.0/city/DBIRTH/gw-a/aq-0003";
    let topic_data = "spBv1.0/city/DDATA/gw-a/aq-0003";
    ingest::decode(topic_birth, &birth, NOW, &cx, &mut st);
    let n = ingest::decode(topic_data, &data, NOW, &cx, &mut st);
    assert!(n.dead_letters.is_empty(), "{:?}", n.dead_letters);
    let mut g = c.benchmark_group("decode/sparkplug");
    g.throughput(Throughput::Elements(n.observations.len() as u64));
    g.bench_function("ingest::decode", |b| {
        b.iter(|| ingest::decode(black_box(topic_data), black_box(&data), NOW, &cx, &mut st))
    });
    g.bench_function("prost Payload::decode (peer)", |b| {
        b.iter(|| Payload::decode(black_box(&data[..])).unwrap())
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
