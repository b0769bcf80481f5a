//! NGSI-LD (ETSI GS CIM 009) core subset under `/ngsi-ld/v1`, so FIWARE tools
//! and Smart Data Models clients can read the city and write their own
//! entities.
//!
//! - Entities: the twin's entities (read-only, with live attributes from the
//!   sensors) and entities created by clients (stored; full CRUD).
//! - Queries: `type`, `id`, `idPattern`, `attrs`, `q`, geo-queries on
//!   `location`, `limit`/`offset`/`count`, `options=keyValues`, GeoJSON.
//! - Temporal: the history of sensors with `timerel`, `lastN` and
//!   aggregation.
//! - Subscriptions with HTTP and MQTT notifications.
//!
//! Every error is an RFC 7807 problem with an NGSI-LD error type.

pub mod entities;
mod geoquery;
pub mod model;
mod notify;
mod query;
mod repr;
pub mod subscriptions;
pub mod temporal;

pub use geoquery::{GeoQuery, GeoQueryError, GeoRel};
pub use notify::NgsiNotifier;
pub use query::{Query, QueryError, parse as parse_query};
