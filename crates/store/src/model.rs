//! The values the store takes and returns.

use std::fmt;

use domain::{
    DeadLetter, EntityId, EntityKind, EventReport, GatewayId, GatewaySpec, Observation, SensorId,
    SensorKind, SensorSpec, StatusChange, Timestamp,
};

/// Everything one writer cycle hands to the store. [`Store::insert_batch`]
/// writes it in one transaction, so the MQTT messages it came from can be
/// acknowledged as soon as the call returns `Ok`.
///
/// Every observation's sensor must be registered, either already in the store
/// or in `provisioned_sensors` of the same batch; otherwise the whole batch
/// fails (a foreign-key violation, not retryable) and nothing is written.
///
/// [`Store::insert_batch`]: crate::Store::insert_batch
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    /// Validated observations. Redelivered ones (same sensor, metric and
    /// timestamp) are skipped, also within the batch (the first one wins).
    pub observations: Vec<Observation>,
    /// Rejected messages, stored as they are (dead letters are at-least-once).
    pub dead_letters: Vec<DeadLetter>,
    /// Event reports; idempotent on `(reporter, id)`.
    pub events: Vec<EventReport>,
    /// Gateway and device status changes, applied in order.
    pub status: Vec<StatusChange>,
    /// Sensors the ingest path auto-provisioned; inserted before the
    /// observations. A sensor already registered is left as it is.
    pub provisioned_sensors: Vec<SensorSpec>,
}

impl Batch {
    /// Whether the batch holds nothing.
    pub fn is_empty(&self) -> bool {
        self.observations.is_empty()
            && self.dead_letters.is_empty()
            && self.events.is_empty()
            && self.status.is_empty()
            && self.provisioned_sensors.is_empty()
    }
}

/// What [`Store::insert_batch`](crate::Store::insert_batch) wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchStats {
    /// Observations stored for the first time.
    pub observations_new: u64,
    /// Observations skipped because their natural key was already stored (or
    /// repeated in the batch).
    pub observations_duplicate: u64,
    /// Events stored for the first time.
    pub events_new: u64,
    /// Events skipped as already stored.
    pub events_duplicate: u64,
    /// Dead letters stored.
    pub dead_letters: u64,
    /// Status changes that updated a gateway or sensor.
    pub status_applied: u64,
    /// Status changes that updated nothing: unknown gateway or sensor, a
    /// device not owned by the gateway, or older than the stored status.
    pub status_ignored: u64,
    /// Auto-provisioned sensors that were new.
    pub sensors_provisioned: u64,
}

/// A gateway to register, with its MQTT password in clear (hashed with argon2id
/// before it is stored).
#[derive(Clone, PartialEq)]
pub struct GatewayRecord {
    /// Id and name.
    pub spec: GatewaySpec,
    /// The new password; `None` keeps the stored hash (or none).
    pub password: Option<String>,
}

impl fmt::Debug for GatewayRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayRecord")
            .field("spec", &self.spec)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A twin entity as persisted, so a server can reload its city. The table is
/// generic: kind-specific fields (lanes, capacity, population) live in `attrs`.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityRecord {
    /// Entity id.
    pub id: EntityId,
    /// Entity kind.
    pub kind: EntityKind,
    /// Display name (may be empty).
    pub name: String,
    /// A GeoJSON geometry object, as text (WGS-84).
    pub geometry: String,
    /// The H3 cell the entity is placed on (at the twin's base resolution).
    pub cell: Option<u64>,
    /// The community (district) it belongs to, if any.
    pub community: Option<EntityId>,
    /// Kind-specific attributes, a JSON object.
    pub attrs: serde_json::Value,
}

/// A dead letter as stored, with its row id (newest has the largest id).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDeadLetter {
    /// Row id.
    pub id: i64,
    /// The letter.
    pub letter: DeadLetter,
}

/// A sensor's status row: registry facts joined with what was last heard.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorStatus {
    /// The sensor.
    pub sensor: SensorId,
    /// Its kind.
    pub kind: SensorKind,
    /// Its gateway.
    pub gateway: GatewayId,
    /// Online (birth) or offline (death); `None` before any status change.
    pub online: Option<bool>,
    /// When the last status change happened.
    pub status_ts: Option<Timestamp>,
    /// Why (`NBIRTH`, `last will`, ...).
    pub status_reason: Option<String>,
    /// Timestamp of the latest stored observation.
    pub last_seen: Option<Timestamp>,
    /// Observations stored for this sensor since registration (not reduced by
    /// retention: a monotonic counter).
    pub observations_total: u64,
}

/// Bucket width of a roll-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resolution {
    /// One-minute buckets.
    Minute,
    /// One-hour buckets.
    Hour,
}

impl Resolution {
    /// Both resolutions.
    pub const ALL: [Resolution; 2] = [Resolution::Minute, Resolution::Hour];

    /// Bucket width in milliseconds.
    pub const fn width_ms(self) -> i64 {
        match self {
            Resolution::Minute => 60_000,
            Resolution::Hour => 3_600_000,
        }
    }
}

/// What a roll-up query aggregates over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RollupTarget {
    /// One sensor.
    Sensor(SensorId),
    /// Every sensor located in an H3 cell (at any resolution, 0-15).
    Cell(u64),
}

/// Aggregates of one metric over one time bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rollup {
    /// Start of the bucket.
    pub bucket: Timestamp,
    /// Number of observations.
    pub count: u64,
    /// Sum of the values.
    pub sum: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Timestamp of the latest observation in the bucket.
    pub last_ts: Timestamp,
    /// Value of the latest observation in the bucket.
    pub last: f64,
}

impl Rollup {
    /// Mean value (`sum / count`).
    #[allow(clippy::cast_precision_loss)]
    pub fn mean(&self) -> f64 {
        self.sum / self.count as f64
    }
}

/// What [`Store::apply_retention`](crate::Store::apply_retention) deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionStats {
    /// Raw observations.
    pub observations: u64,
    /// Minute roll-up rows.
    pub minute_rollups: u64,
    /// Hour roll-up rows.
    pub hour_rollups: u64,
    /// Dead letters.
    pub dead_letters: u64,
}
