//! Operations-centre logic: alarm rules, the incident lifecycle and response
//! metrics. Pure and deterministic: time is always passed in.
//!
//! # Terminology
//! - **Alarm rule**: a threshold on a metric over a scope (one sensor, every
//!   sensor of a kind, the sensors observing an entity, or every H3 cell at a
//!   resolution) that must hold for a **duration** before it raises, and clears
//!   only past a **hysteresis** band, so a value hovering at the threshold does
//!   not flap. A *stale* rule raises when a sensor has been silent too long.
//! - **Subject**: what an alarm is about (a sensor, a cell, an entity).
//! - **Alarm**: a raised rule on one subject: open, acknowledged, cleared.
//! - **Incident**: a case that people handle, opened by an alarm, a citizen
//!   report or an operator. It follows REPORTED → DISPATCHED → IN_PROGRESS →
//!   RESOLVED → CLOSED, with ESCALATED and REOPENED, and keeps an audit trail.
//! - **SLA due**: when the incident must be resolved; **on-time closure**
//!   (按期办结) means resolved no later than that.
//! - **Response time**: report to dispatch. **Resolution time**: report to
//!   resolution.

mod alarm;
mod incident;
mod metrics;

pub use alarm::{
    Alarm, AlarmEngine, AlarmEvent, AlarmRule, AlarmState, Condition, RuleError, Sample, Scope,
    Severity, Subject,
};
pub use incident::{
    Action, AuditEntry, Incident, IncidentSource, IncidentState, NewIncident, SlaPolicy,
    TransitionError,
};
pub use metrics::{Distribution, IncidentMetrics, incident_metrics};
