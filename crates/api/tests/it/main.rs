//! Integration tests of the API: every route through `router(state).oneshot`
//! on a small synthetic city and a SQLite store in a temporary folder; the
//! WebSocket and webhook cases over real sockets on port 0; MQTT delivery
//! against the broker at `MQTT_URL` (skipped with a message when unset).
//!
//! ```text
//! MQTT_URL=mqtt://127.0.0.1:1883 cargo test -p api --test it
//! ```

#![allow(clippy::unwrap_used, clippy::too_many_lines)]

mod admin;
mod city;
mod energy;
mod http;
mod indicators;
mod ngsi;
mod openapi;
mod ops;
mod scenarios;
mod streams;
mod support;
