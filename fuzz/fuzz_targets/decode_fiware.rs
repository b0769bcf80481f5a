#![no_main]
//! Fuzzes the FIWARE IoT Agent JSON decoder: the first byte picks the
//! multi-attribute topic or a single-attribute topic, the rest is the payload.

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, payload)) = data.split_first() else { return };
    let topic = match sel % 3 {
        0 => "/json/key-a/aq-1/attrs",
        1 => "/json/key-a/aq-1/attrs/pm25",
        _ => "/json/key-a/det-1/attrs",
    };
    let mut st = ingest::SparkplugState::default();
    let d = ingest::decode(topic, payload, common::NOW, common::ctx(), &mut st);
    common::check(&d);
});
