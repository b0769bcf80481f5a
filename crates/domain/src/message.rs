//! What the ingest path hands on besides observations: dead letters and
//! gateway status changes.

use serde::{Deserialize, Serialize};

use crate::{GatewayId, SensorId, Timestamp};

/// Most bytes of a rejected payload kept in a dead letter.
pub const DEAD_LETTER_MAX_BYTES: usize = 4096;

/// A rejected message (or part of one), kept with the reason so nothing is
/// lost silently.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// The MQTT topic it arrived on.
    pub topic: String,
    /// The payload format the topic implied (`native`, `senml`, `fiware`, `sparkplug`, `unknown`).
    pub format: String,
    /// The raw bytes, truncated to [`DEAD_LETTER_MAX_BYTES`].
    pub payload: Vec<u8>,
    /// Whether `payload` was truncated.
    pub truncated: bool,
    /// Why it was rejected, in words an operator understands.
    pub reason: String,
    /// When it was received.
    pub received: Timestamp,
}

impl DeadLetter {
    /// Builds a dead letter, truncating the payload.
    pub fn new(
        topic: &str,
        format: &str,
        payload: &[u8],
        reason: impl Into<String>,
        received: Timestamp,
    ) -> Self {
        let truncated = payload.len() > DEAD_LETTER_MAX_BYTES;
        Self {
            topic: topic.chars().take(512).collect(),
            format: format.to_owned(),
            payload: payload[..payload.len().min(DEAD_LETTER_MAX_BYTES)].to_vec(),
            truncated,
            reason: reason.into(),
            received,
        }
    }
}

/// A gateway or device came online or went offline (birth, death, last will).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The gateway.
    pub gateway: GatewayId,
    /// The device, when the change is about one device behind the gateway
    /// (Sparkplug DBIRTH/DDEATH); `None` means the whole gateway.
    pub sensor: Option<SensorId>,
    /// Online (birth) or offline (death, last will).
    pub online: bool,
    /// When.
    pub ts: Timestamp,
    /// Why (`NBIRTH`, `NDEATH`, `last will`, `status message`).
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_letters_bound_the_payload() {
        let big = vec![b'x'; DEAD_LETTER_MAX_BYTES + 10];
        let d = DeadLetter::new("t", "native", &big, "too big", Timestamp(0));
        assert_eq!(d.payload.len(), DEAD_LETTER_MAX_BYTES);
        assert!(d.truncated);
        let small = DeadLetter::new("t", "native", b"{}", "bad", Timestamp(0));
        assert!(!small.truncated);
    }
}
