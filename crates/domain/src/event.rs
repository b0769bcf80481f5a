//! Event reports: citizen calls, app reports, IoT alarms and patrol findings.

use serde::{Deserialize, Serialize};

use crate::{LatLon, SensorId, Timestamp};

/// How an event reached the city.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventChannel {
    /// A citizen hotline call (12345).
    CitizenCall,
    /// A citizen app or web report.
    App,
    /// An alarm raised by an IoT device.
    IotAlarm,
    /// Found by a grid worker on patrol.
    Patrol,
}

impl EventChannel {
    /// Whether the city found it itself (IoT or patrol) rather than a citizen.
    pub const fn is_proactive(self) -> bool {
        matches!(self, EventChannel::IotAlarm | EventChannel::Patrol)
    }
}

/// Priority of an event or incident; `P1` is the most urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Priority {
    /// Life or safety at risk.
    P1,
    /// Urgent.
    P2,
    /// Normal.
    P3,
    /// Low.
    P4,
}

/// A non-numeric report that may open an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventReport {
    /// The reporter's own id for the report (used for idempotency).
    pub id: String,
    /// The reporting device or app channel.
    pub reporter: SensorId,
    /// How it arrived.
    pub channel: EventChannel,
    /// Category (`pothole`, `flooding`, `noise`, `streetlight`, ...).
    pub category: String,
    /// Priority as reported.
    pub priority: Priority,
    /// When it happened.
    pub ts: Timestamp,
    /// Where, if known.
    pub location: Option<LatLon>,
    /// Free text, bounded by the decoder.
    pub text: String,
}
