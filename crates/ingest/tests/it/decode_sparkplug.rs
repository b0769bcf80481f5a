use ingest::sparkplug::{Metric, MetricValue, Payload, datatype};
use ingest::{Decoded, Format, Reason, SparkplugState, Warning};
use prost::Message;

use crate::common::{NOW, ctx, o, obs, reasons};

pub fn metric(name: Option<&str>, alias: Option<u64>, dt: u32, v: MetricValue) -> Metric {
    Metric {
        name: name.map(String::from),
        alias,
        datatype: Some(dt),
        value: Some(v),
        ..Metric::default()
    }
}

pub fn payload(seq: Option<u64>, metrics: Vec<Metric>) -> Vec<u8> {
    Payload {
        timestamp: Some(NOW.0 as u64),
        metrics,
        seq,
        ..Payload::default()
    }
    .encode_to_vec()
}

fn dec(st: &mut SparkplugState, topic: &str, bytes: &[u8]) -> Decoded {
    ingest::decode(topic, bytes, NOW, &ctx(), st)
}

fn bd_seq(n: u64) -> Metric {
    metric(
        Some("bdSeq"),
        None,
        datatype::UINT64,
        MetricValue::LongValue(n),
    )
}

#[test]
fn node_birth_aliases_sequence_and_death_follow_the_spec() {
    let mut st = SparkplugState::default();
    let birth = payload(
        Some(0),
        vec![
            bd_seq(7),
            metric(
                Some("Node Control/Rebirth"),
                Some(2),
                datatype::BOOLEAN,
                MetricValue::BooleanValue(false),
            ),
            metric(
                Some("det-1/flow"),
                Some(1),
                datatype::DOUBLE,
                MetricValue::DoubleValue(600.0),
            ),
        ],
    );
    let d = dec(&mut st, "spBv1.0/city/NBIRTH/gw-a", &birth);
    assert_eq!(d.format, Format::Sparkplug);
    assert!(d.dead_letters.is_empty(), "{:?}", d.dead_letters);
    assert_eq!(obs(&d), vec![o("det-1", "flow", NOW.0, 600.0)]);
    assert!(d.status[0].online && d.status[0].reason == "NBIRTH" && d.status[0].sensor.is_none());
    assert_eq!(st.bd_seq("city", "gw-a"), Some(7));

    // data by alias only, with its own timestamp
    let mut m = Metric {
        alias: Some(1),
        value: Some(MetricValue::DoubleValue(720.0)),
        timestamp: Some(NOW.0 as u64 - 1000),
        ..Metric::default()
    };
    let d = dec(
        &mut st,
        "spBv1.0/city/NDATA/gw-a",
        &payload(Some(1), vec![m.clone()]),
    );
    assert_eq!(obs(&d), vec![o("det-1", "flow", NOW.0 - 1000, 720.0)]);
    assert!(d.warnings.is_empty());

    // a lost message shows as a sequence gap, but the data is kept
    m.timestamp = None;
    let d = dec(
        &mut st,
        "spBv1.0/city/NDATA/gw-a",
        &payload(Some(3), vec![m]),
    );
    assert_eq!(d.observations.len(), 1);
    assert_eq!(
        d.warnings,
        vec![Warning::SparkplugSeqGap {
            group: "city".into(),
            edge_node: "gw-a".into(),
            expected: 2,
            got: 3
        }]
    );

    // a will from an older session is stale; the current one takes the node offline
    let d = dec(
        &mut st,
        "spBv1.0/city/NDEATH/gw-a",
        &payload(None, vec![bd_seq(6)]),
    );
    assert_eq!(reasons(&d), vec![Reason::StaleDeath]);
    assert!(d.status.is_empty());
    let d = dec(
        &mut st,
        "spBv1.0/city/NDEATH/gw-a",
        &payload(None, vec![bd_seq(7)]),
    );
    assert!(!d.status[0].online && d.status[0].reason == "NDEATH");
}

#[test]
fn seq_wraps_from_255_to_0_without_a_gap() {
    let mut st = SparkplugState::default();
    dec(
        &mut st,
        "spBv1.0/g/NBIRTH/gw-a",
        &payload(Some(0), vec![bd_seq(1)]),
    );
    let mut gaps = 0;
    for i in 1..=300u64 {
        let d = dec(
            &mut st,
            "spBv1.0/g/NDATA/gw-a",
            &payload(Some(i % 256), vec![]),
        );
        gaps += d.warnings.len();
    }
    assert_eq!(gaps, 0);
}

#[test]
fn device_births_data_and_deaths_use_device_aliases_and_ownership() {
    let mut st = SparkplugState::default();
    dec(
        &mut st,
        "spBv1.0/city/NBIRTH/gw-a",
        &payload(Some(0), vec![bd_seq(1)]),
    );
    let d = dec(
        &mut st,
        "spBv1.0/city/DBIRTH/gw-a/aq-1",
        &payload(
            Some(1),
            vec![metric(
                Some("Sensors/pm25"),
                Some(10),
                datatype::FLOAT,
                MetricValue::FloatValue(12.5),
            )],
        ),
    );
    assert_eq!(obs(&d), vec![o("aq-1", "pm25", NOW.0, 12.5)]);
    assert_eq!(
        d.status[0].sensor.as_ref().map(|s| s.as_str()),
        Some("aq-1")
    );
    let d = dec(
        &mut st,
        "spBv1.0/city/DDATA/gw-a/aq-1",
        &payload(
            Some(2),
            vec![Metric {
                alias: Some(10),
                value: Some(MetricValue::FloatValue(13.0)),
                ..Metric::default()
            }],
        ),
    );
    assert_eq!(obs(&d), vec![o("aq-1", "pm25", NOW.0, 13.0)]);
    // a node alias is not a device alias
    let d = dec(
        &mut st,
        "spBv1.0/city/DDATA/gw-a/det-1",
        &payload(
            Some(3),
            vec![Metric {
                alias: Some(10),
                value: Some(MetricValue::FloatValue(1.0)),
                ..Metric::default()
            }],
        ),
    );
    assert_eq!(reasons(&d), vec![Reason::UnknownAlias]);
    let d = dec(
        &mut st,
        "spBv1.0/city/DDATA/gw-a/m-1",
        &payload(Some(4), vec![]),
    );
    assert_eq!(reasons(&d), vec![Reason::NotOwner]);
    let d = dec(
        &mut st,
        "spBv1.0/city/DDEATH/gw-a/aq-1",
        &payload(Some(5), vec![]),
    );
    assert!(!d.status[0].online && d.status[0].reason == "DDEATH");
}

#[test]
fn signed_integers_decode_from_either_extension() {
    let mut st = SparkplugState::default();
    let d = dec(
        &mut st,
        "spBv1.0/g/DDATA/gw-a/aq-1",
        &payload(
            Some(0),
            vec![
                metric(
                    Some("temperature"),
                    None,
                    datatype::INT8,
                    MetricValue::IntValue(-5i32 as u32),
                ),
                metric(
                    Some("temperature"),
                    None,
                    datatype::INT16,
                    MetricValue::IntValue(0xFFFB),
                ),
                metric(
                    Some("pm25"),
                    None,
                    datatype::UINT32,
                    MetricValue::IntValue(40),
                ),
                metric(
                    Some("pm10"),
                    None,
                    datatype::INT64,
                    MetricValue::LongValue(77),
                ),
            ],
        ),
    );
    let got: Vec<f64> = d.observations.iter().map(|o| o.value).collect();
    assert_eq!(got, vec![-5.0, -5.0, 40.0, 77.0]);
}

#[test]
fn bad_sparkplug_messages_and_metrics_are_dead_lettered() {
    let mut st = SparkplugState::default();
    let one = |st: &mut SparkplugState, t: &str, b: &[u8]| reasons(&dec(st, t, b));
    assert_eq!(
        one(&mut st, "spBv1.0/g/NDATA/gw-a", b"\xff\xff\xff"),
        vec![Reason::MalformedProtobuf]
    );
    assert_eq!(
        one(&mut st, "spBv1.0/g/NDATA/gw-a", &payload(None, vec![])),
        vec![Reason::SparkplugSeq]
    );
    assert_eq!(
        one(&mut st, "spBv1.0/g/NDATA/gw-a", &payload(Some(256), vec![])),
        vec![Reason::SparkplugSeq]
    );
    assert_eq!(
        one(&mut st, "spBv1.0/g/NDATA/gw-z", &payload(Some(0), vec![])),
        vec![Reason::UnknownGateway]
    );
    assert_eq!(
        one(
            &mut st,
            "spBv1.0/g/NDATA/gw-a/aq-1",
            &payload(Some(0), vec![])
        ),
        vec![Reason::UnknownTopic]
    );
    assert_eq!(
        one(&mut st, "spBv1.0/g/DDATA/gw-a", &payload(Some(0), vec![])),
        vec![Reason::UnknownTopic]
    );
    assert_eq!(
        one(&mut st, "spBv1.0/g/STATE/gw-a", &payload(Some(0), vec![])),
        vec![Reason::UnknownTopic]
    );
    let d = dec(
        &mut st,
        "spBv1.0/g/DDATA/gw-a/aq-1",
        &payload(
            Some(1),
            vec![
                Metric {
                    alias: Some(99),
                    value: Some(MetricValue::DoubleValue(1.0)),
                    ..Metric::default()
                },
                metric(
                    Some("pm25"),
                    None,
                    datatype::STRING,
                    MetricValue::StringValue("x".into()),
                ),
                metric(
                    Some("pm25"),
                    None,
                    datatype::FLOAT,
                    MetricValue::IntValue(3),
                ),
                Metric {
                    name: Some("pm25".into()),
                    is_null: Some(true),
                    ..Metric::default()
                },
                metric(
                    Some("pm25"),
                    None,
                    datatype::DOUBLE,
                    MetricValue::DoubleValue(f64::NAN),
                ),
                metric(
                    Some("pm25"),
                    None,
                    datatype::DOUBLE,
                    MetricValue::DoubleValue(1e9),
                ),
                Metric {
                    name: Some("pm25".into()),
                    timestamp: Some(u64::MAX),
                    value: Some(MetricValue::DoubleValue(1.0)),
                    ..Metric::default()
                },
                metric(
                    Some("pm25"),
                    None,
                    datatype::DOUBLE,
                    MetricValue::DoubleValue(5.0),
                ),
            ],
        ),
    );
    assert_eq!(obs(&d), vec![o("aq-1", "pm25", NOW.0, 5.0)]);
    assert_eq!(
        reasons(&d),
        vec![
            Reason::UnknownAlias,
            Reason::UnsupportedValue,
            Reason::WrongType,
            Reason::UnsupportedValue,
            Reason::NonFinite,
            Reason::OutOfRange,
            Reason::BadTimestamp,
        ]
    );
    // the per-metric dead letter holds that metric's protobuf
    let back = Metric::decode(&d.dead_letters[0].payload[..]).unwrap();
    assert_eq!(back.alias, Some(99));
    // node-level metric names must be {sensor}/{metric}
    let d = dec(
        &mut st,
        "spBv1.0/g/NBIRTH/gw-a",
        &payload(
            Some(0),
            vec![metric(
                Some("flow"),
                None,
                datatype::DOUBLE,
                MetricValue::DoubleValue(1.0),
            )],
        ),
    );
    assert_eq!(reasons(&d), vec![Reason::InvalidMetric]);
}
