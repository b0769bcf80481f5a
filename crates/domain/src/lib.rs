//! CityBrain's vocabulary: the types every other crate speaks.
//!
//! This crate is pure: no I/O, no clock, no async. It defines identifiers,
//! units, time, the metrics a sensor can report, observations and event
//! reports, so that adapters (MQTT, SQL, HTTP) and engines agree on meaning.
//!
//! # Terminology
//! - **Sensor**: a device that reports one or more *metrics* about one entity
//!   (a loop detector on a road approach, an air-quality station, a meter).
//! - **Gateway**: the device or service that publishes on behalf of sensors;
//!   it owns a set of sensors and has MQTT credentials.
//! - **Metric**: a named quantity with one canonical unit and a plausible range
//!   (`pm25` in µg/m³, `flow` in veh/h, `power` in kW).
//! - **Observation**: one numeric value of one metric from one sensor at one
//!   instant. Its *idempotency key* makes redelivered observations harmless.
//! - **Event report**: a non-numeric report (citizen call, app report, IoT
//!   alarm, patrol finding) that may open an incident.
//! - **Timestamp**: wall-clock milliseconds since the Unix epoch, as carried by
//!   data. **SimTime**: milliseconds since the start of a simulation run.

mod entity;
mod event;
mod ids;
mod message;
mod metric;
mod observation;
mod registry;
mod time;
mod unit;

pub use entity::{EntityKind, LatLon, SensorKind, SensorSpec};
pub use event::{EventChannel, EventReport, Priority};
pub use ids::{EntityId, GatewayId, IdError, SensorId};
pub use message::{DEAD_LETTER_MAX_BYTES, DeadLetter, StatusChange};
pub use metric::{KNOWN_METRICS, Metric, MetricError, MetricInfo};
pub use observation::{ObsKey, Observation, ObservationError, QualityFlags, TimeWindow};
pub use registry::{GatewaySpec, Registry, RegistryError};
pub use time::{SimTime, Timestamp};
pub use unit::{Unit, UnitError};
