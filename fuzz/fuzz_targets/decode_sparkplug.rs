#![no_main]
//! Fuzzes the Sparkplug B decoder with state: after a valid NBIRTH that
//! defines aliases, the input is split on the byte 0xFE into messages; the
//! first byte of each picks the message type (NBIRTH, NDATA, NDEATH, DBIRTH,
//! DDATA, DDEATH).

use ingest::sparkplug::{Metric, MetricValue, Payload, datatype};
use libfuzzer_sys::fuzz_target;
use prost::Message;

mod common;

const TOPICS: [&str; 6] = [
    "spBv1.0/g/NBIRTH/gw-a",
    "spBv1.0/g/NDATA/gw-a",
    "spBv1.0/g/NDEATH/gw-a",
    "spBv1.0/g/DBIRTH/gw-a/aq-1",
    "spBv1.0/g/DDATA/gw-a/aq-1",
    "spBv1.0/g/DDEATH/gw-a/aq-1",
];

fuzz_target!(|data: &[u8]| {
    let mut st = ingest::SparkplugState::default();
    let birth = Payload {
        timestamp: Some(common::NOW.0 as u64),
        seq: Some(0),
        metrics: vec![
            Metric {
                name: Some("bdSeq".into()),
                datatype: Some(datatype::UINT64),
                value: Some(MetricValue::LongValue(1)),
                ..Metric::default()
            },
            Metric {
                name: Some("det-1/flow".into()),
                alias: Some(1),
                datatype: Some(datatype::DOUBLE),
                value: Some(MetricValue::DoubleValue(10.0)),
                ..Metric::default()
            },
        ],
        ..Payload::default()
    };
    let d = ingest::decode(TOPICS[0], &birth.encode_to_vec(), common::NOW, common::ctx(), &mut st);
    assert_eq!(d.observations.len(), 1);
    for msg in data.split(|b| *b == 0xFE) {
        let Some((&sel, payload)) = msg.split_first() else { continue };
        let topic = TOPICS[usize::from(sel) % TOPICS.len()];
        let d = ingest::decode(topic, payload, common::NOW, common::ctx(), &mut st);
        common::check(&d);
    }
});
