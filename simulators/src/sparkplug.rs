//! Sparkplug B payloads, encoded by hand from the protobuf wire format (an
//! encoder independent of the ingest decoder, so each checks the other).
//!
//! Field numbers follow `sparkplug_b.proto` (Eclipse Sparkplug 3.0): Payload
//! {timestamp = 1, metrics = 2, seq = 3}; Metric {name = 1, alias = 2,
//! timestamp = 3, datatype = 4, boolean_value = 14, long_value = 11,
//! double_value = 13}.

use crate::encode::{Message, Reading};

/// Sparkplug group id of the simulated edge nodes.
pub const GROUP: &str = "citybrain";

const DT_INT64: u64 = 4;
const DT_DOUBLE: u64 = 10;
const DT_BOOLEAN: u64 = 11;

/// Metrics a simulated device reports, in alias order.
pub const METRIC_ORDER: [&str; 16] = [
    "flow",
    "speed",
    "occupancy",
    "count",
    "pm25",
    "pm10",
    "no2",
    "aqi",
    "temperature",
    "humidity",
    "power",
    "voltage",
    "pv_power",
    "irradiance",
    "water_level",
    "rainfall",
];

/// The alias of `metric` on device number `dev` of an edge node (unique per node).
pub fn alias(dev: usize, metric: &str) -> Option<u64> {
    let m = METRIC_ORDER.iter().position(|x| *x == metric)?;
    Some((dev as u64) * 32 + m as u64 + 1)
}

fn varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

fn key(buf: &mut Vec<u8>, field: u64, wire: u64) {
    varint(buf, (field << 3) | wire);
}

fn bytes_field(buf: &mut Vec<u8>, field: u64, b: &[u8]) {
    key(buf, field, 2);
    varint(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

fn varint_field(buf: &mut Vec<u8>, field: u64, v: u64) {
    key(buf, field, 0);
    varint(buf, v);
}

enum Value {
    Long(u64),
    Double(f64),
    Bool(bool),
}

struct MetricOut<'a> {
    name: Option<&'a str>,
    alias: Option<u64>,
    timestamp: Option<u64>,
    datatype: Option<u64>,
    value: Value,
}

fn metric(m: &MetricOut<'_>) -> Vec<u8> {
    let mut b = Vec::with_capacity(32);
    if let Some(n) = m.name {
        bytes_field(&mut b, 1, n.as_bytes());
    }
    if let Some(a) = m.alias {
        varint_field(&mut b, 2, a);
    }
    if let Some(t) = m.timestamp {
        varint_field(&mut b, 3, t);
    }
    if let Some(d) = m.datatype {
        varint_field(&mut b, 4, d);
    }
    match m.value {
        Value::Long(v) => varint_field(&mut b, 11, v),
        Value::Double(v) => {
            key(&mut b, 13, 1);
            b.extend_from_slice(&v.to_le_bytes());
        }
        Value::Bool(v) => varint_field(&mut b, 14, u64::from(v)),
    }
    b
}

fn payload(timestamp: Option<u64>, seq: Option<u64>, metrics: &[MetricOut<'_>]) -> Vec<u8> {
    let mut b = Vec::with_capacity(64 * metrics.len() + 16);
    if let Some(t) = timestamp {
        varint_field(&mut b, 1, t);
    }
    for m in metrics {
        bytes_field(&mut b, 2, &metric(m));
    }
    if let Some(s) = seq {
        varint_field(&mut b, 3, s);
    }
    b
}

fn ms(t: i64) -> u64 {
    u64::try_from(t).unwrap_or(0)
}

/// `NBIRTH` with `seq = 0`, the `bdSeq` and a rebirth control.
pub fn nbirth(node: &str, bd_seq: u64, now: i64) -> Message {
    let metrics = [
        MetricOut {
            name: Some("bdSeq"),
            alias: None,
            timestamp: Some(ms(now)),
            datatype: Some(DT_INT64),
            value: Value::Long(bd_seq),
        },
        MetricOut {
            name: Some("Node Control/Rebirth"),
            alias: None,
            timestamp: Some(ms(now)),
            datatype: Some(DT_BOOLEAN),
            value: Value::Bool(false),
        },
    ];
    Message {
        topic: format!("spBv1.0/{GROUP}/NBIRTH/{node}"),
        payload: payload(Some(ms(now)), Some(0), &metrics),
    }
}

/// `NDEATH` carrying `bdSeq` (used as the MQTT last will).
pub fn ndeath(node: &str, bd_seq: u64) -> Message {
    let metrics = [MetricOut {
        name: Some("bdSeq"),
        alias: None,
        timestamp: None,
        datatype: Some(DT_INT64),
        value: Value::Long(bd_seq),
    }];
    Message {
        topic: format!("spBv1.0/{GROUP}/NDEATH/{node}"),
        payload: payload(None, None, &metrics),
    }
}

/// `DBIRTH` for device number `dev`: every metric with its name, alias and current value.
pub fn dbirth(
    node: &str,
    device: &str,
    dev: usize,
    seq: u8,
    now: i64,
    readings: &[Reading],
) -> Message {
    let metrics: Vec<MetricOut<'_>> = readings
        .iter()
        .map(|r| MetricOut {
            name: Some(r.metric),
            alias: alias(dev, r.metric),
            timestamp: Some(ms(r.ts)),
            datatype: Some(DT_DOUBLE),
            value: Value::Double(r.value),
        })
        .collect();
    Message {
        topic: format!("spBv1.0/{GROUP}/DBIRTH/{node}/{device}"),
        payload: payload(Some(ms(now)), Some(u64::from(seq)), &metrics),
    }
}

/// `DDATA` for device number `dev`: metrics by alias only (names were in the birth);
/// metrics without an alias are sent by name.
pub fn ddata(
    node: &str,
    device: &str,
    dev: usize,
    seq: u8,
    now: i64,
    readings: &[Reading],
) -> Message {
    let metrics: Vec<MetricOut<'_>> = readings
        .iter()
        .map(|r| {
            let a = alias(dev, r.metric);
            MetricOut {
                name: if a.is_some() { None } else { Some(r.metric) },
                alias: a,
                timestamp: Some(ms(r.ts)),
                datatype: Some(DT_DOUBLE),
                value: Value::Double(r.value),
            }
        })
        .collect();
    Message {
        topic: format!("spBv1.0/{GROUP}/DDATA/{node}/{device}"),
        payload: payload(Some(ms(now)), Some(u64::from(seq)), &metrics),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_the_protobuf_encoding() {
        let mut b = Vec::new();
        varint(&mut b, 300);
        assert_eq!(b, [0xac, 0x02]);
        let mut b = Vec::new();
        varint(&mut b, 1);
        assert_eq!(b, [1]);
    }

    #[test]
    fn ndeath_is_a_bdseq_metric() {
        let m = ndeath("gw", 5);
        assert_eq!(m.topic, "spBv1.0/citybrain/NDEATH/gw");
        // Payload.metrics (field 2, len) { name "bdSeq", datatype 4, long_value 5 }
        assert_eq!(
            m.payload,
            [
                0x12, 11, 0x0a, 5, b'b', b'd', b'S', b'e', b'q', 0x20, 4, 0x58, 5
            ]
        );
    }

    #[test]
    fn aliases_are_unique_per_node() {
        let mut seen = std::collections::BTreeSet::new();
        for dev in 0..50 {
            for m in METRIC_ORDER {
                assert!(seen.insert(alias(dev, m).unwrap()));
            }
        }
    }
}
