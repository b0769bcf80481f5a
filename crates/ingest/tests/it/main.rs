#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
//! Integration tests of the ingest adapter: decoders per format, a hostile
//! corpus, and round trips through the embedded broker and Mosquitto.

mod broker;
mod common;
mod decode_events;
mod decode_fiware;
mod decode_native;
mod decode_senml;
mod decode_sparkplug;
mod hostile;
mod load;
mod mosquitto;
mod mqtt;
mod scenarios;
