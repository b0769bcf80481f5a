//! What decoding needs besides the message: the registry, the FIWARE apikey
//! map, limits and the unknown-sensor policy.

use std::collections::BTreeMap;

use domain::{GatewayId, LatLon, Registry, TimeWindow};

/// Bounds that protect the ingest path from oversized or hostile messages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Largest payload accepted, bytes.
    pub max_payload_bytes: usize,
    /// Deepest JSON nesting accepted (a top-level object or array is depth 1).
    pub max_json_depth: usize,
    /// Most records (observations, SenML records, events, Sparkplug metrics) in one message.
    pub max_records: usize,
    /// Longest event text kept, bytes; longer text is cut on a character boundary.
    pub max_text_bytes: usize,
    /// How far a timestamp may be from the receive time.
    pub window: TimeWindow,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_payload_bytes: 256 * 1024,
            max_json_depth: 8,
            max_records: 10_000,
            max_text_bytes: 2_000,
            window: TimeWindow::default(),
        }
    }
}

/// What to do with an observation from a sensor the registry does not know.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum UnknownSensorPolicy {
    /// Dead-letter it as `unknown_sensor`.
    #[default]
    Reject,
    /// Accept it when its gateway is registered, and return a new
    /// [`domain::SensorSpec`] in [`crate::Decoded::provisioned`].
    AutoProvision {
        /// Where new sensors are placed until an operator moves them
        /// (the wire formats carry no position).
        location: LatLon,
    },
}

/// Everything [`crate::decode`] reads besides the message itself. The server
/// rebuilds it when the registry changes and swaps it in atomically.
#[derive(Debug, Clone, Default)]
pub struct DecodeContext {
    /// Gateways and sensors: who may publish what.
    pub registry: Registry,
    /// FIWARE IoT Agent apikey → the gateway it stands for.
    pub fiware_apikeys: BTreeMap<String, GatewayId>,
    /// Size, depth, count and time limits.
    pub limits: Limits,
    /// Reject or auto-provision unknown sensors.
    pub unknown_sensors: UnknownSensorPolicy,
}

impl DecodeContext {
    /// A context with default limits and the `Reject` policy.
    pub fn new(registry: Registry) -> Self {
        Self {
            registry,
            ..Self::default()
        }
    }
}
