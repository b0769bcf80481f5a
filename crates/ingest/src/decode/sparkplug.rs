//! Sparkplug B: protobuf payloads, births with alias tables, sequence numbers
//! and bdSeq-matched deaths.
//!
//! The message definitions are the subset of Eclipse Tahu's
//! `sparkplug_b.proto` that carries scalar metrics, written by hand for
//! `prost` (no build script). Unknown fields (metadata, properties, data sets,
//! templates) are skipped by the protobuf decoder.

use std::collections::BTreeMap;

use prost::Message as _;

use super::{Msg, Reading, Reason, UnitIn, Warning};
use domain::{SensorId, SensorKind, StatusChange, Timestamp};

/// A Sparkplug B payload (`org.eclipse.tahu.protobuf.Payload`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Payload {
    /// Milliseconds since the epoch when the message was created.
    #[prost(uint64, optional, tag = "1")]
    pub timestamp: Option<u64>,
    /// The metrics.
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<Metric>,
    /// Sequence number 0-255 (absent in `NDEATH`).
    #[prost(uint64, optional, tag = "3")]
    pub seq: Option<u64>,
    /// Optional payload UUID.
    #[prost(string, optional, tag = "4")]
    pub uuid: Option<String>,
    /// Optional opaque body.
    #[prost(bytes = "vec", optional, tag = "5")]
    pub body: Option<Vec<u8>>,
}

/// One Sparkplug metric (scalar values only).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Metric {
    /// Metric name (may be omitted in data messages when `alias` is set).
    #[prost(string, optional, tag = "1")]
    pub name: Option<String>,
    /// Alias defined in a birth message.
    #[prost(uint64, optional, tag = "2")]
    pub alias: Option<u64>,
    /// Milliseconds since the epoch when the value was measured.
    #[prost(uint64, optional, tag = "3")]
    pub timestamp: Option<u64>,
    /// Data type ([`datatype`] constants).
    #[prost(uint32, optional, tag = "4")]
    pub datatype: Option<u32>,
    /// Whether the value is historical.
    #[prost(bool, optional, tag = "5")]
    pub is_historical: Option<bool>,
    /// Whether the value is transient.
    #[prost(bool, optional, tag = "6")]
    pub is_transient: Option<bool>,
    /// Whether the value is null.
    #[prost(bool, optional, tag = "7")]
    pub is_null: Option<bool>,
    /// The value.
    #[prost(oneof = "MetricValue", tags = "10, 11, 12, 13, 14, 15, 16")]
    pub value: Option<MetricValue>,
}

/// The `value` oneof of a [`Metric`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum MetricValue {
    /// Int8/16/32 (two's complement) and UInt8/16/32.
    #[prost(uint32, tag = "10")]
    IntValue(u32),
    /// Int64 (two's complement), UInt64, DateTime.
    #[prost(uint64, tag = "11")]
    LongValue(u64),
    /// Float.
    #[prost(float, tag = "12")]
    FloatValue(f32),
    /// Double.
    #[prost(double, tag = "13")]
    DoubleValue(f64),
    /// Boolean.
    #[prost(bool, tag = "14")]
    BooleanValue(bool),
    /// String, Text, UUID.
    #[prost(string, tag = "15")]
    StringValue(String),
    /// Bytes, File.
    #[prost(bytes = "vec", tag = "16")]
    BytesValue(Vec<u8>),
}

/// Sparkplug B data type codes (Sparkplug 3.0, §6.4.16).
pub mod datatype {
    #![allow(missing_docs)]
    pub const INT8: u32 = 1;
    pub const INT16: u32 = 2;
    pub const INT32: u32 = 3;
    pub const INT64: u32 = 4;
    pub const UINT8: u32 = 5;
    pub const UINT16: u32 = 6;
    pub const UINT32: u32 = 7;
    pub const UINT64: u32 = 8;
    pub const FLOAT: u32 = 9;
    pub const DOUBLE: u32 = 10;
    pub const BOOLEAN: u32 = 11;
    pub const STRING: u32 = 12;
}

/// A birth's alias entry: name and data type.
type Aliases = BTreeMap<u64, (String, Option<u32>)>;

/// What ingest remembers about one edge node between messages.
#[derive(Debug, Clone, Default)]
struct Node {
    /// bdSeq of the last NBIRTH.
    bd_seq: Option<u64>,
    /// seq of the last message.
    last_seq: Option<u8>,
    /// Node-level aliases from NBIRTH.
    aliases: Aliases,
    /// Device-level aliases from each DBIRTH.
    devices: BTreeMap<String, Aliases>,
}

/// Per-edge-node Sparkplug state: alias tables from births and the last
/// sequence number, keyed by `(group, edge_node)`. One per ingest connection.
#[derive(Debug, Clone, Default)]
pub struct SparkplugState {
    nodes: BTreeMap<(String, String), Node>,
}

impl SparkplugState {
    /// Number of edge nodes seen.
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The bdSeq of the edge node's current birth, if one was seen.
    pub fn bd_seq(&self, group: &str, edge_node: &str) -> Option<u64> {
        self.nodes
            .get(&(group.to_owned(), edge_node.to_owned()))
            .and_then(|n| n.bd_seq)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    NBirth,
    NData,
    NDeath,
    DBirth,
    DData,
    DDeath,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "NBIRTH" => Kind::NBirth,
            "NDATA" => Kind::NData,
            "NDEATH" => Kind::NDeath,
            "DBIRTH" => Kind::DBirth,
            "DDATA" => Kind::DData,
            "DDEATH" => Kind::DDeath,
            _ => return None,
        })
    }

    fn is_device(self) -> bool {
        matches!(self, Kind::DBirth | Kind::DData | Kind::DDeath)
    }
}

const CONTROL_PREFIXES: [&str; 4] = [
    "Node Control/",
    "Device Control/",
    "Node Info/",
    "Properties/",
];

pub(crate) fn decode(m: &mut Msg<'_>, state: &mut SparkplugState) {
    let levels: Vec<&str> = m.topic.split('/').collect();
    let kind = levels.get(2).and_then(|k| Kind::parse(k));
    let Some(kind) = kind.filter(|k| levels.len() == if k.is_device() { 5 } else { 4 }) else {
        m.reject(
            Reason::UnknownTopic,
            "expected spBv1.0/{group}/{N|D}{BIRTH|DATA|DEATH}/{edge_node}[/{device}]",
        );
        return;
    };
    let (group, edge) = (levels[1], levels[3]);
    if domain::GatewayId::new(group).is_err() {
        m.reject(
            Reason::UnknownTopic,
            "group id breaks the identifier grammar",
        );
        return;
    }
    let device = match levels.get(4) {
        Some(d) => match SensorId::new(d) {
            Ok(d) => Some(d),
            Err(e) => return m.reject(Reason::UnknownTopic, format_args!("device level: {e}")),
        },
        None => None,
    };
    if !m.set_gateway(edge) {
        return;
    }
    let payload = match Payload::decode(m.payload) {
        Ok(p) => p,
        Err(e) => return m.reject(Reason::MalformedProtobuf, e),
    };
    if !m.check_count(payload.metrics.len()) {
        return;
    }
    let seq = match (kind, payload.seq) {
        (Kind::NDeath, _) => None,
        (_, Some(s)) if s <= 255 => u8::try_from(s).ok(),
        (_, s) => {
            return m.reject(
                Reason::SparkplugSeq,
                format_args!("seq must be 0-255, got {s:?}"),
            );
        }
    };
    if let Some(d) = &device
        && let Err((r, detail)) = m.authorize(d, None, SensorKind::Other)
    {
        return m.reject(r, detail);
    }
    let key = (group.to_owned(), edge.to_owned());
    if kind == Kind::NDeath {
        return node_death(m, state, key, &payload);
    }
    let node = state.nodes.entry(key).or_default();
    if kind == Kind::NBirth {
        *node = Node::default();
        node.bd_seq = payload
            .metrics
            .iter()
            .find(|x| x.name.as_deref() == Some("bdSeq"))
            .and_then(|x| integer(x.value.as_ref()));
    }
    if let Some(s) = seq {
        let expected = match (kind, node.last_seq) {
            (Kind::NBirth, _) => Some(0),
            (_, Some(last)) => Some(last.wrapping_add(1)),
            (_, None) => None,
        };
        if let Some(expected) = expected.filter(|e| *e != s) {
            m.warn(Warning::SparkplugSeqGap {
                group: group.to_owned(),
                edge_node: edge.to_owned(),
                expected,
                got: s,
            });
        }
        node.last_seq = Some(s);
    }
    let gateway = m.gateway.clone();
    let now_ts = match payload.timestamp.map(i64::try_from) {
        Some(Ok(ms)) => Timestamp(ms),
        Some(Err(_)) => {
            return m.reject(Reason::BadTimestamp, "payload timestamp is out of range");
        }
        None => m.received,
    };
    let status = |online: bool, why: &str| {
        gateway.clone().map(|g| StatusChange {
            gateway: g,
            sensor: device.clone(),
            online,
            ts: now_ts,
            reason: why.into(),
        })
    };
    let aliases = match (kind, &device) {
        (Kind::NBirth | Kind::NData, _) => &mut node.aliases,
        (_, Some(d)) => node.devices.entry(d.as_str().to_owned()).or_default(),
        (_, None) => return,
    };
    match kind {
        Kind::NBirth | Kind::DBirth => {
            aliases.clear();
            for x in &payload.metrics {
                if let (Some(name), Some(alias)) = (&x.name, x.alias) {
                    aliases.insert(alias, (name.clone(), x.datatype));
                }
            }
            if let Some(s) = status(
                true,
                if kind == Kind::NBirth {
                    "NBIRTH"
                } else {
                    "DBIRTH"
                },
            ) {
                m.push_status(s);
            }
        }
        Kind::DDeath => {
            if let Some(s) = status(false, "DDEATH") {
                m.push_status(s);
            }
            return;
        }
        _ => {}
    }
    let aliases: &Aliases = aliases;
    for x in &payload.metrics {
        metric(m, x, aliases, device.as_ref(), now_ts);
    }
}

fn node_death(m: &mut Msg<'_>, state: &mut SparkplugState, key: (String, String), p: &Payload) {
    let bd = p
        .metrics
        .iter()
        .find(|x| x.name.as_deref() == Some("bdSeq"))
        .and_then(|x| integer(x.value.as_ref()));
    let node = state.nodes.entry(key).or_default();
    if let (Some(current), Some(got)) = (node.bd_seq, bd)
        && current != got
    {
        return m.reject(
            Reason::StaleDeath,
            format_args!("NDEATH bdSeq {got} does not match the current birth's bdSeq {current}"),
        );
    }
    node.last_seq = None;
    let ts = p
        .timestamp
        .and_then(|t| i64::try_from(t).ok())
        .map_or(m.received, Timestamp);
    if let Some(g) = m.gateway.clone() {
        m.push_status(StatusChange {
            gateway: g,
            sensor: None,
            online: false,
            ts,
            reason: "NDEATH".into(),
        });
    }
}

fn metric(
    m: &mut Msg<'_>,
    x: &Metric,
    aliases: &Aliases,
    device: Option<&SensorId>,
    payload_ts: Timestamp,
) {
    let raw = || x.encode_to_vec();
    let (name, table_type) = match (&x.name, x.alias) {
        (Some(n), _) => (
            n.as_str(),
            x.alias.and_then(|a| aliases.get(&a)).and_then(|e| e.1),
        ),
        (None, Some(a)) => match aliases.get(&a) {
            Some((n, t)) => (n.as_str(), *t),
            None => {
                return m.reject_record(
                    Reason::UnknownAlias,
                    format_args!("alias {a} was not defined by a birth"),
                    &raw(),
                );
            }
        },
        (None, None) => {
            return m.reject_record(
                Reason::MissingField,
                "metric has neither name nor alias",
                &raw(),
            );
        }
    };
    if name == "bdSeq" || CONTROL_PREFIXES.iter().any(|p| name.starts_with(p)) {
        return;
    }
    let (sensor, metric_name) = match device {
        Some(d) => (d.as_str(), name.rsplit('/').next().unwrap_or(name)),
        None => match name.split_once('/') {
            Some(pair) => pair,
            None => {
                return m.reject_record(
                    Reason::InvalidMetric,
                    format_args!(
                        "node metric {:?} must be named {{sensor}}/{{metric}}",
                        short(name)
                    ),
                    &raw(),
                );
            }
        },
    };
    if x.is_null == Some(true) {
        return m.reject_record(Reason::UnsupportedValue, "metric value is null", &raw());
    }
    let value = match number(x.datatype.or(table_type), x.value.as_ref()) {
        Ok(v) => v,
        Err((r, d)) => return m.reject_record(r, d, &raw()),
    };
    let ts = match x.timestamp.map(i64::try_from) {
        None => payload_ts,
        Some(Ok(ms)) => Timestamp(ms),
        Some(Err(_)) => {
            return m.reject_record(
                Reason::BadTimestamp,
                "metric timestamp is out of range",
                &raw(),
            );
        }
    };
    m.observe(
        Reading {
            sensor,
            metric: metric_name,
            value,
            unit: UnitIn::None,
        },
        ts,
        raw,
    );
}

/// The numeric value of a metric, honouring the declared data type.
fn number(dt: Option<u32>, v: Option<&MetricValue>) -> Result<f64, (Reason, String)> {
    use MetricValue as V;
    use datatype as t;
    let Some(v) = v else {
        return Err((Reason::MissingField, "metric has no value".into()));
    };
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    let x = match (dt, v) {
        (Some(t::INT8), V::IntValue(i)) => f64::from(*i as u8 as i8),
        (Some(t::INT16), V::IntValue(i)) => f64::from(*i as u16 as i16),
        (Some(t::INT32), V::IntValue(i)) => f64::from(*i as i32),
        (Some(t::UINT8 | t::UINT16 | t::UINT32) | None, V::IntValue(i)) => f64::from(*i),
        #[allow(clippy::cast_precision_loss)]
        (Some(t::INT64), V::LongValue(l)) => *l as i64 as f64,
        #[allow(clippy::cast_precision_loss)]
        (Some(t::UINT64) | None, V::LongValue(l)) => *l as f64,
        (Some(t::FLOAT) | None, V::FloatValue(f)) => f64::from(*f),
        (Some(t::DOUBLE) | None, V::DoubleValue(d)) => *d,
        (Some(t::BOOLEAN..) | None, _) => {
            return Err((
                Reason::UnsupportedValue,
                format!("only numeric metrics are stored, got data type {dt:?}"),
            ));
        }
        (Some(d), _) => {
            return Err((
                Reason::WrongType,
                format!("value does not match data type {d}"),
            ));
        }
    };
    Ok(x)
}

fn integer(v: Option<&MetricValue>) -> Option<u64> {
    match v? {
        MetricValue::LongValue(l) => Some(*l),
        MetricValue::IntValue(i) => Some(u64::from(*i)),
        _ => None,
    }
}

fn short(s: &str) -> String {
    s.chars().take(64).collect()
}
