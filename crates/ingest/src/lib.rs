//! MQTT ingest: topics and payloads from field gateways become validated
//! [`domain::Observation`]s, event reports, gateway status changes and dead
//! letters, delivered to the writer with an acknowledgement handle that is
//! used only after the writer has committed them.
//!
//! The wire contract is `docs/specs/mqtt.md`.
//!
//! # Pieces
//! - [`decode()`]: pure and synchronous; topic + payload + receive time +
//!   [`DecodeContext`] → [`Decoded`]. Fuzzed and benchmarked on its own.
//! - `MqttConfig` → `MqttIngest`: the rumqttc (MQTT 5) client with a
//!   persistent session, manual acknowledgements, capped jittered reconnect
//!   backoff and re-subscription on every ConnAck.
//! - `broker::EmbeddedBroker`: rumqttd in-process for the single-binary run.
//!
//! The client, broker, config and telemetry sit behind the default `mqtt`
//! feature; without it the crate is only the pure decoders (no tokio).
//!
//! # Terminology
//! - **Gateway**: the MQTT publisher that owns a set of sensors; its id is the
//!   `{gateway}` topic level (the Sparkplug edge node, or the gateway a FIWARE
//!   apikey maps to).
//! - **Format**: the payload scheme a topic implies: `native`, `senml`,
//!   `event`, `status`, `fiware`, `sparkplug`.
//! - **Record**: one element of a batch (a native observation, a SenML record,
//!   a FIWARE attribute, a Sparkplug metric, an event report).
//! - **Dead letter**: a rejected message or record, kept with a reason code
//!   ([`Reason`]) and its bytes; it is stored and acknowledged like good data.
//! - **Manual ack**: the PUBACK for a QoS 1 message is sent only when
//!   `AckHandle::ack` is called, after the durable commit.
//! - **Birth / death**: Sparkplug `NBIRTH`/`NDEATH` (or the native status topic
//!   and its last will) mark a gateway online / offline.
//! - **bdSeq / seq**: Sparkplug's birth-death sequence (pairs a death with its
//!   birth) and per-message sequence number (0-255, detects lost messages).
//! - **Alias**: a number a Sparkplug birth assigns to a metric name so data
//!   messages can omit the name.

#[cfg(feature = "mqtt")]
pub mod broker;
#[cfg(feature = "mqtt")]
mod client;
#[cfg(feature = "mqtt")]
mod config;
mod context;
mod decode;
#[cfg(feature = "mqtt")]
mod error;
#[cfg(feature = "mqtt")]
pub mod telemetry;

#[cfg(feature = "mqtt")]
pub use client::{AckHandle, AckOutcome, Delivery, MqttIngest};
#[cfg(feature = "mqtt")]
pub use config::{MqttConfig, Secret, default_topics};
pub use context::{DecodeContext, Limits, UnknownSensorPolicy};
pub use decode::{Decoded, Format, Reason, SparkplugState, Warning, decode, parse_rfc3339};
#[cfg(feature = "mqtt")]
pub use error::{ConfigError, Error};

/// Sparkplug B message definitions, for publishers and tests.
pub mod sparkplug {
    pub use crate::decode::sparkplug::{Metric, MetricValue, Payload, datatype};
}

/// The FIWARE attribute → metric mapping (see `docs/specs/mqtt.md` §7).
pub use decode::FIWARE_ATTRIBUTES;
