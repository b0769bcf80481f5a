//! CityBrain's SQL adapter: the durable home of observations, the registry of
//! gateways and sensors, the twin's entities, dead letters and sensor status,
//! on an embedded SQLite file (the default) or a PostgreSQL server, behind one
//! [`Store`] with the same behaviour on both.
//!
//! The writer hands [`Store::insert_batch`] one [`Batch`] per cycle. The batch
//! is written in one transaction; when the call returns `Ok` it is durable and
//! the MQTT messages it came from can be acknowledged. Redelivered observations
//! are recognised by their natural key and stored once, and roll-ups are
//! computed only from the rows actually inserted, so a redelivery changes
//! nothing. When the database is unreachable the error is
//! [retryable](Error::is_retryable): the writer stops acknowledging and the
//! broker keeps the messages.
//!
//! # Terminology
//! - **Batch**: what one writer cycle stores atomically: observations, dead
//!   letters, event reports, status changes and auto-provisioned sensors.
//! - **Natural key**: `(sensor, metric, timestamp)`, the primary key of
//!   `observations`. Two observations are the same observation exactly when
//!   their natural keys are equal. [`domain::ObsKey`], a 63-bit hash of it, is
//!   not a key here: two different observations can share a hash.
//! - **Duplicate**: an observation whose natural key is already stored (a
//!   redelivery), or repeated earlier in the same batch.
//! - **Running total**: the raw observations stored now, kept per sensor by
//!   the batch and retention transactions themselves; what
//!   [`Store::count_observations`] sums.
//! - **Roll-up**: count, sum, min, max and last value of one sensor's metric
//!   over a minute or an hour bucket; per-cell roll-ups merge the sensors
//!   located in an H3 cell.
//! - **Bucket**: the interval `[start, start + width)`, with `start` a multiple
//!   of the width in ms since the epoch (UTC).
//! - **Retention horizon**: how long a table keeps rows, in days.
//! - **Dead letter**: a rejected message kept with its reason.
//! - **Last seen**: timestamp of a sensor's latest stored observation.
//!
//! # Backends
//! SQLite runs in WAL mode with `synchronous = NORMAL`, writers take the lock
//! up front (`BEGIN IMMEDIATE`), and multi-row inserts stay within 32,766
//! bound values. PostgreSQL receives observations and roll-ups as one array per
//! column (`UNNEST`). Migrations are embedded in the binary
//! (`migrations/{sqlite,postgres}/`) and run by [`DbConfig::build`].

mod cell;
mod config;
mod credentials;
mod error;
mod migrate;
mod model;
mod ops;
mod postgres;
mod rollup;
mod row;
mod sql;
mod sqlite;
mod store;
mod telemetry;

pub use config::{DEFAULT_SQLITE_FILE, DbConfig, RetentionConfig};
pub use error::Error;
pub use model::{
    Batch, BatchStats, EntityRecord, GatewayRecord, Resolution, RetentionStats, Rollup,
    RollupTarget, SensorStatus, StoredDeadLetter,
};
pub use ops::{
    AlarmRecord, AuditRecord, IncidentFilter, IncidentRecord, IndicatorInputRecord,
    IndicatorSample, NgsiEntityRecord, RuleRecord, SubscriptionRecord, TokenRow,
};
pub use store::{Backend, Store};
