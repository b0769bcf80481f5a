//! Persistence of the operations centre and the HTTP API: alarm rules, alarms,
//! incidents, API tokens, the audit log, NGSI-LD entities and subscriptions
//! created through the API, static indicator inputs and the indicator history.
//!
//! The API owns the schema of these records: each is stored as a JSON document
//! (`doc`), next to copies of the fields that queries filter or sort on (an
//! incident's state, community, H3 cell, creation and due times). The store
//! validates only what its columns need. Both backends run the same SQL
//! (`ops/sql.rs`); documents are text columns on both.
//!
//! Multi-record writes ([`Store::save_ops`], [`Store::upsert_ngsi_entities`],
//! [`Store::upsert_indicator_inputs`]) are one transaction each.

mod sql;

use domain::Timestamp;
use serde_json::Value;

use crate::store::Db;
use crate::{Error, Store};

/// An alarm rule as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRecord {
    /// Rule id.
    pub id: u64,
    /// Whether the rule is enabled.
    pub enabled: bool,
    /// When it was last written.
    pub updated_at: Timestamp,
    /// The rule (JSON object).
    pub doc: Value,
}

/// An alarm as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmRecord {
    /// Alarm id.
    pub id: u64,
    /// The rule that raised it.
    pub rule_id: u64,
    /// `open`, `acknowledged` or `cleared`.
    pub state: String,
    /// When it was raised.
    pub opened_at: Timestamp,
    /// When it cleared.
    pub cleared_at: Option<Timestamp>,
    /// The incident it opened, if any.
    pub incident_id: Option<u64>,
    /// The alarm (JSON object).
    pub doc: Value,
}

/// An incident as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentRecord {
    /// Incident id.
    pub id: u64,
    /// Lifecycle state (`REPORTED`, ..., `CLOSED`).
    pub state: String,
    /// Community (district) entity id.
    pub community: Option<String>,
    /// H3 cell (resolution 9) of the location.
    pub cell: Option<u64>,
    /// When it was reported.
    pub created_at: Timestamp,
    /// When it is due.
    pub sla_due: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// The incident with its audit trail (JSON object).
    pub doc: Value,
}

/// Which incidents to list. Empty or `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentFilter {
    /// Any of these states.
    pub states: Vec<String>,
    /// In this community.
    pub community: Option<String>,
    /// Created at or after.
    pub created_from: Option<Timestamp>,
    /// Created before.
    pub created_to: Option<Timestamp>,
    /// Only incidents that are not RESOLVED or CLOSED.
    pub open_only: bool,
    /// At most this many (0 = no limit).
    pub limit: u32,
    /// Skip this many.
    pub offset: u64,
}

/// An API token record (the token itself is never stored, only its hash).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    /// Token id (the public part of the token).
    pub id: String,
    /// Holder's name.
    pub name: String,
    /// Role name.
    pub role: String,
    /// Scope (JSON object).
    pub scope: Value,
    /// argon2id PHC string of the token.
    pub hash: String,
    /// Revoked tokens never authenticate.
    pub revoked: bool,
    /// When it was issued.
    pub created_at: Timestamp,
}

/// One line of the audit log: a write request and its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Row id (ignored on insert; the newest row has the largest id).
    pub id: i64,
    /// When.
    pub at: Timestamp,
    /// Who (token name and id, or `anonymous`).
    pub principal: String,
    /// HTTP method.
    pub method: String,
    /// Request path (without the query string).
    pub path: String,
    /// Response status.
    pub status: u16,
    /// What was written, when known (an incident id, an entity id).
    pub entity: Option<String>,
    /// The request id, for correlation with the server log.
    pub request_id: Option<String>,
}

/// An NGSI-LD entity created through the API.
#[derive(Debug, Clone, PartialEq)]
pub struct NgsiEntityRecord {
    /// Entity id (a URI).
    pub id: String,
    /// Entity type.
    pub entity_type: String,
    /// GeoJSON geometry of its `location`, as text.
    pub location: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub modified_at: Timestamp,
    /// The entity in normalized form (JSON object).
    pub doc: Value,
}

/// An NGSI-LD subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionRecord {
    /// Subscription id (a URI).
    pub id: String,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub modified_at: Timestamp,
    /// The subscription (JSON object).
    pub doc: Value,
}

/// A static indicator input: one annual figure.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorInputRecord {
    /// Indicator (or deduction) id of a profile.
    pub indicator: String,
    /// Year the figure describes.
    pub year: i32,
    /// The value.
    pub value: f64,
    /// Numerator of a ratio.
    pub numerator: Option<f64>,
    /// Denominator of a ratio.
    pub denominator: Option<f64>,
    /// Data quality, 0-1.
    pub quality: f64,
    /// When it was entered.
    pub updated_at: Timestamp,
    /// Who entered it.
    pub updated_by: String,
}

/// One sample of the live indicator scores.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorSample {
    /// When it was taken.
    pub at: Timestamp,
    /// The composite index, if defined.
    pub composite: Option<f64>,
    /// Further scores (pillar rates), a JSON object.
    pub doc: Value,
}

/// Runs `$body` with `$pool` bound to the backend's pool and `$be` to the
/// backend's module of `ops/sql.rs`.
macro_rules! on_ops_db {
    ($self:ident, |$pool:ident, $be:ident| $body:expr) => {
        match $self.db() {
            Db::Sqlite($pool) => {
                use sql::sqlite as $be;
                $body
            }
            Db::Postgres($pool) => {
                use sql::postgres as $be;
                $body
            }
        }
    };
}

pub(crate) fn id_col(id: u64, what: &'static str) -> Result<i64, Error> {
    i64::try_from(id).map_err(|_| Error::corrupt(what, id.to_string()))
}

/// An H3 cell as a signed column value (H3 indexes keep the top bit clear).
#[allow(clippy::cast_possible_wrap)]
pub(crate) fn cell_col(c: u64) -> i64 {
    c as i64
}

#[allow(clippy::cast_sign_loss)]
pub(crate) fn cell_from_col(c: i64) -> u64 {
    c as u64
}

pub(crate) fn json_text(v: &Value) -> String {
    crate::row::clean(&v.to_string()).into_owned()
}

pub(crate) fn parse_doc(what: &'static str, text: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|_| Error::corrupt(what, text))
}

impl Store {
    // ----- alarm rules -----

    /// Every alarm rule, in id order.
    pub async fn alarm_rules(&self) -> Result<Vec<RuleRecord>, Error> {
        on_ops_db!(self, |p, be| be::alarm_rules(p).await)
    }

    /// Inserts or replaces an alarm rule.
    pub async fn upsert_alarm_rule(&self, rule: &RuleRecord) -> Result<(), Error> {
        on_ops_db!(self, |p, be| be::upsert_alarm_rule(p, rule).await)
    }

    /// Deletes an alarm rule; `false` when there was none.
    pub async fn delete_alarm_rule(&self, id: u64) -> Result<bool, Error> {
        let id = id_col(id, "rule id")?;
        on_ops_db!(self, |p, be| be::delete_alarm_rule(p, id).await)
    }

    // ----- alarms and incidents -----

    /// Writes alarms and incidents (insert or replace by id) in one
    /// transaction, so an alarm and the incident it opened land together.
    pub async fn save_ops(
        &self,
        alarms: &[AlarmRecord],
        incidents: &[IncidentRecord],
    ) -> Result<(), Error> {
        if alarms.is_empty() && incidents.is_empty() {
            return Ok(());
        }
        on_ops_db!(self, |p, be| be::save_ops(p, alarms, incidents).await)
    }

    /// Alarms, newest first; `state` filters (`open`, `acknowledged`,
    /// `cleared`, or `active` for open and acknowledged).
    pub async fn alarms(
        &self,
        state: Option<&str>,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<AlarmRecord>, Error> {
        on_ops_db!(self, |p, be| be::alarms(p, state, limit, offset).await)
    }

    /// One alarm.
    pub async fn alarm(&self, id: u64) -> Result<Option<AlarmRecord>, Error> {
        let id = id_col(id, "alarm id")?;
        on_ops_db!(self, |p, be| be::alarm(p, id).await)
    }

    /// The largest alarm id stored (0 when none).
    pub async fn max_alarm_id(&self) -> Result<u64, Error> {
        on_ops_db!(self, |p, be| be::max_id(p, "alarms").await)
    }

    /// One incident.
    pub async fn incident(&self, id: u64) -> Result<Option<IncidentRecord>, Error> {
        let id = id_col(id, "incident id")?;
        on_ops_db!(self, |p, be| be::incident(p, id).await)
    }

    /// Incidents matching `filter`, newest first (by creation time, then id).
    pub async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<IncidentRecord>, Error> {
        on_ops_db!(self, |p, be| be::incidents(p, filter, false).await).map(|(rows, _)| rows)
    }

    /// Number of incidents matching `filter` (limit and offset ignored).
    pub async fn incident_count(&self, filter: &IncidentFilter) -> Result<u64, Error> {
        on_ops_db!(self, |p, be| be::incidents(p, filter, true).await).map(|(_, n)| n)
    }

    /// The largest incident id stored (0 when none).
    pub async fn max_incident_id(&self) -> Result<u64, Error> {
        on_ops_db!(self, |p, be| be::max_id(p, "incidents").await)
    }

    // ----- API tokens -----

    /// Every token record, in id order.
    pub async fn api_tokens(&self) -> Result<Vec<TokenRow>, Error> {
        on_ops_db!(self, |p, be| be::api_tokens(p).await)
    }

    /// Inserts or replaces token records (one transaction).
    pub async fn upsert_api_tokens(&self, tokens: &[TokenRow]) -> Result<(), Error> {
        if tokens.is_empty() {
            return Ok(());
        }
        on_ops_db!(self, |p, be| be::upsert_api_tokens(p, tokens).await)
    }

    /// Marks a token revoked; `false` when there is no such token.
    pub async fn revoke_api_token(&self, id: &str) -> Result<bool, Error> {
        on_ops_db!(self, |p, be| be::revoke_api_token(p, id).await)
    }

    // ----- audit log -----

    /// Appends an audit line; returns its row id.
    pub async fn append_audit(&self, rec: &AuditRecord) -> Result<i64, Error> {
        on_ops_db!(self, |p, be| be::append_audit(p, rec).await)
    }

    /// Audit lines, newest first.
    pub async fn audit_log(&self, limit: u32, offset: u64) -> Result<Vec<AuditRecord>, Error> {
        on_ops_db!(self, |p, be| be::audit_log(p, limit, offset).await)
    }

    // ----- NGSI-LD entities and subscriptions -----

    /// One API-created NGSI-LD entity.
    pub async fn ngsi_entity(&self, id: &str) -> Result<Option<NgsiEntityRecord>, Error> {
        on_ops_db!(self, |p, be| be::ngsi_entity(p, id).await)
    }

    /// API-created entities of the given types (all types when empty), in id
    /// order.
    pub async fn ngsi_entities(&self, types: &[String]) -> Result<Vec<NgsiEntityRecord>, Error> {
        on_ops_db!(self, |p, be| be::ngsi_entities(p, types).await)
    }

    /// Inserts an entity unless one with its id exists; `false` when it did.
    pub async fn insert_ngsi_entity(&self, rec: &NgsiEntityRecord) -> Result<bool, Error> {
        on_ops_db!(self, |p, be| be::insert_ngsi_entity(p, rec).await)
    }

    /// Inserts or replaces entities (one transaction). The creation time of
    /// an existing entity is kept.
    pub async fn upsert_ngsi_entities(&self, recs: &[NgsiEntityRecord]) -> Result<(), Error> {
        if recs.is_empty() {
            return Ok(());
        }
        on_ops_db!(self, |p, be| be::upsert_ngsi_entities(p, recs).await)
    }

    /// Deletes an entity; `false` when there was none.
    pub async fn delete_ngsi_entity(&self, id: &str) -> Result<bool, Error> {
        on_ops_db!(self, |p, be| be::delete_by_text_id(p, "ngsi_entities", id)
            .await)
    }

    /// Every subscription, in id order.
    pub async fn subscriptions(&self) -> Result<Vec<SubscriptionRecord>, Error> {
        on_ops_db!(self, |p, be| be::subscriptions(p).await)
    }

    /// Inserts or replaces a subscription.
    pub async fn upsert_subscription(&self, rec: &SubscriptionRecord) -> Result<(), Error> {
        on_ops_db!(self, |p, be| be::upsert_subscription(p, rec).await)
    }

    /// Deletes a subscription; `false` when there was none.
    pub async fn delete_subscription(&self, id: &str) -> Result<bool, Error> {
        on_ops_db!(self, |p, be| be::delete_by_text_id(
            p,
            "ngsi_subscriptions",
            id
        )
        .await)
    }

    // ----- indicators -----

    /// Every static indicator input, by indicator then year.
    pub async fn indicator_inputs(&self) -> Result<Vec<IndicatorInputRecord>, Error> {
        on_ops_db!(self, |p, be| be::indicator_inputs(p).await)
    }

    /// Inserts or replaces static inputs by (indicator, year), one transaction.
    pub async fn upsert_indicator_inputs(
        &self,
        recs: &[IndicatorInputRecord],
    ) -> Result<(), Error> {
        if recs.is_empty() {
            return Ok(());
        }
        on_ops_db!(self, |p, be| be::upsert_indicator_inputs(p, recs).await)
    }

    /// Deletes one static input; `false` when there was none.
    pub async fn delete_indicator_input(&self, indicator: &str, year: i32) -> Result<bool, Error> {
        on_ops_db!(self, |p, be| be::delete_indicator_input(p, indicator, year)
            .await)
    }

    /// Stores a sample of the live scores (replacing one at the same time).
    pub async fn append_indicator_sample(&self, s: &IndicatorSample) -> Result<(), Error> {
        on_ops_db!(self, |p, be| be::append_indicator_sample(p, s).await)
    }

    /// The latest `limit` samples, oldest first.
    pub async fn indicator_samples(&self, limit: u32) -> Result<Vec<IndicatorSample>, Error> {
        on_ops_db!(self, |p, be| be::indicator_samples(p, limit).await)
    }

    /// Deletes samples taken before `before`; returns how many.
    pub async fn prune_indicator_samples(&self, before: Timestamp) -> Result<u64, Error> {
        on_ops_db!(self, |p, be| be::prune_indicator_samples(p, before.0).await)
    }
}
