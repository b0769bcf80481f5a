#![no_main]
//! Fuzzes the native JSON decoder with arbitrary payloads.

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let mut st = ingest::SparkplugState::default();
    let d = ingest::decode("citybrain/v1/gw-a/obs", data, common::NOW, common::ctx(), &mut st);
    common::check(&d);
});
