//! Wire forms of alarms, incidents, rules and metrics (what the dashboard and
//! API clients read), and the persisted form of an alarm.

use domain::{EntityId, LatLon, Priority, SensorId, SensorKind, Timestamp};
use ops::{Alarm, AlarmState, Incident, IncidentSource, IncidentState, Severity, Subject};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ApiError;
use crate::util::{cell_hex, iso};

/// Prefix of incident ids on the wire (`INC-000042`).
pub const INCIDENT_PREFIX: &str = "INC-";
/// Prefix of alarm ids on the wire (`ALM-000042`).
pub const ALARM_PREFIX: &str = "ALM-";

/// Formats an incident id.
pub fn incident_id(id: u64) -> String {
    format!("{INCIDENT_PREFIX}{id:06}")
}

/// Formats an alarm id.
pub fn alarm_id(id: u64) -> String {
    format!("{ALARM_PREFIX}{id:06}")
}

/// Parses `INC-000042`, `ALM-000042` or a bare number.
pub fn parse_id(what: &str, prefix: &str, s: &str) -> Result<u64, ApiError> {
    let t = s.strip_prefix(prefix).unwrap_or(s);
    t.parse::<u64>()
        .ok()
        .filter(|v| *v > 0 && i64::try_from(*v).is_ok())
        .ok_or_else(|| ApiError::NotFound(format!("no {what} {s:?}")))
}

/// A WGS-84 position.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Position {
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
}

impl From<LatLon> for Position {
    fn from(p: LatLon) -> Self {
        Self {
            lat: p.lat,
            lon: p.lon,
        }
    }
}

/// An alarm as the service keeps and stores it: the engine's alarm plus what
/// the API shows about its subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmEntry {
    /// The alarm.
    pub alarm: Alarm,
    /// The incident it opened or joined.
    pub incident_id: Option<u64>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When it was acknowledged.
    pub acknowledged_at: Option<Timestamp>,
    /// The sensor's kind (sensor alarms).
    pub sensor_kind: Option<SensorKind>,
    /// The entity the sensor observes.
    pub entity: Option<EntityId>,
    /// That entity's NGSI-LD type.
    pub entity_type: Option<String>,
    /// Where.
    pub location: Option<LatLon>,
    /// Community (district).
    pub community: Option<EntityId>,
    /// Cleared because the service restarted, not by the rule.
    #[serde(default)]
    pub cleared_by_restart: bool,
}

impl AlarmEntry {
    /// The sensor, for sensor alarms.
    pub fn sensor(&self) -> Option<&SensorId> {
        match &self.alarm.subject {
            Subject::Sensor { sensor } => Some(sensor),
            Subject::Cell { .. } | Subject::Entity { .. } => None,
        }
    }

    /// Whether it is open or acknowledged.
    pub fn is_active(&self) -> bool {
        self.alarm.state != AlarmState::Cleared
    }

    /// The wire form.
    pub fn to_dto(&self) -> AlarmDto {
        let a = &self.alarm;
        let (cell, res) = match &a.subject {
            Subject::Cell { res, cell } => (Some(cell_hex(*cell)), Some(*res)),
            Subject::Sensor { .. } | Subject::Entity { .. } => (
                self.location.and_then(|p| {
                    h3o::LatLng::new(p.lat, p.lon)
                        .ok()
                        .map(|ll| ll.to_cell(h3o::Resolution::Nine).to_string())
                }),
                None,
            ),
        };
        AlarmDto {
            id: alarm_id(a.id),
            rule_id: a.rule_id.to_string(),
            rule_name: a.rule_name.clone(),
            severity: severity_str(a.severity).into(),
            state: alarm_state_str(a.state).into(),
            sensor: self.sensor().map(ToString::to_string),
            sensor_kind: self.sensor_kind.map(|k| k.as_str().to_owned()),
            entity: self.entity.as_ref().map(ToString::to_string),
            entity_type: self.entity_type.clone(),
            cell,
            res,
            community: self.community.as_ref().map(ToString::to_string),
            location: self.location.map(Position::from),
            metric: a.metric.to_string(),
            value: a.value,
            peak: a.peak,
            threshold: a.threshold,
            since: iso(a.since),
            opened_at: iso(a.opened_at),
            cleared_at: a.cleared_at.map(iso),
            acknowledged_by: self.acknowledged_by.clone(),
            incident_id: self.incident_id.map(incident_id),
        }
    }
}

/// An alarm on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AlarmDto {
    /// Alarm id (`ALM-000042`).
    pub id: String,
    /// The rule that raised it.
    pub rule_id: String,
    /// The rule's name when it was raised.
    pub rule_name: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    /// `open`, `acknowledged` or `cleared`.
    pub state: String,
    /// The sensor (sensor alarms).
    pub sensor: Option<String>,
    /// The sensor's kind.
    pub sensor_kind: Option<String>,
    /// The entity the sensor observes.
    pub entity: Option<String>,
    /// That entity's type (`RoadSegment`, ...).
    pub entity_type: Option<String>,
    /// H3 cell: the alarm's cell, or the sensor's resolution-9 cell.
    pub cell: Option<String>,
    /// Resolution of a cell alarm.
    pub res: Option<u8>,
    /// Community (district).
    pub community: Option<String>,
    /// Where.
    pub location: Option<Position>,
    /// The metric.
    pub metric: String,
    /// The value that raised it (stale alarms: seconds silent).
    pub value: f64,
    /// The most extreme value while active.
    pub peak: f64,
    /// The threshold (none for stale rules).
    pub threshold: Option<f64>,
    /// When the condition started to hold.
    pub since: String,
    /// When it was raised.
    pub opened_at: String,
    /// When it cleared.
    pub cleared_at: Option<String>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// The incident it opened or joined (`INC-000042`).
    pub incident_id: Option<String>,
}

/// One line of an incident's audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditEntryDto {
    /// When.
    pub at: String,
    /// Who.
    pub actor: String,
    /// `create` or an action.
    pub action: String,
    /// State before.
    pub from: Option<String>,
    /// State after.
    pub to: String,
    /// Free text.
    pub note: Option<String>,
}

/// An incident on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IncidentDto {
    /// Incident id (`INC-000042`).
    pub id: String,
    /// Incident type (category): `air_quality`, `flooding`, `pothole`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Short title.
    pub title: String,
    /// `P1` (most urgent) to `P4`.
    pub priority: String,
    /// Lifecycle state.
    pub state: String,
    /// Community (district) entity id.
    pub community: Option<String>,
    /// Where.
    pub location: Option<Position>,
    /// H3 cell (resolution 9).
    pub cell: Option<String>,
    /// Assigned team.
    pub team: Option<String>,
    /// When it must be resolved.
    pub sla_due: String,
    /// Whether it is past due and not resolved (at response time).
    pub overdue: bool,
    /// When it was reported.
    pub created_at: String,
    /// First dispatch.
    pub dispatched_at: Option<String>,
    /// Last resolution.
    pub resolved_at: Option<String>,
    /// Last closure.
    pub closed_at: Option<String>,
    /// `alarm`, `citizen`, `iot`, `patrol` or `api`.
    pub source: String,
    /// The alarm that opened it.
    pub alarm_id: Option<String>,
    /// The event report that opened it.
    pub report_id: Option<String>,
    /// Actions the current state allows.
    pub allowed_actions: Vec<String>,
    /// Every change, oldest first.
    pub audit: Vec<AuditEntryDto>,
}

/// The wire form of an incident at `now`.
pub fn incident_dto(i: &Incident, now: Timestamp) -> IncidentDto {
    let (source, alarm, report) = match &i.source {
        IncidentSource::Alarm { alarm_id: a } => ("alarm", Some(alarm_id(*a)), None),
        IncidentSource::Report { report_id, channel } => (
            match channel {
                domain::EventChannel::CitizenCall | domain::EventChannel::App => "citizen",
                domain::EventChannel::IotAlarm => "iot",
                domain::EventChannel::Patrol => "patrol",
            },
            None,
            Some(report_id.clone()),
        ),
        IncidentSource::Operator => ("api", None, None),
    };
    IncidentDto {
        id: incident_id(i.id),
        kind: i.kind.clone(),
        title: i.title.clone(),
        priority: priority_str(i.priority).into(),
        state: i.state.as_str().into(),
        community: i.community.as_ref().map(ToString::to_string),
        location: i.location.map(Position::from),
        cell: i.cell.map(cell_hex),
        team: i.team.clone(),
        sla_due: iso(i.sla_due),
        overdue: i.is_overdue(now),
        created_at: iso(i.created_at),
        dispatched_at: i.dispatched_at.map(iso),
        resolved_at: i.resolved_at.map(iso),
        closed_at: i.closed_at.map(iso),
        source: source.into(),
        alarm_id: alarm,
        report_id: report,
        allowed_actions: i
            .allowed_actions()
            .into_iter()
            .map(|a| a.as_str().to_owned())
            .collect(),
        audit: i
            .audit
            .iter()
            .map(|a| AuditEntryDto {
                at: iso(a.at),
                actor: a.actor.clone(),
                action: a.action.clone(),
                from: a.from.map(|s| s.as_str().to_owned()),
                to: a.to.as_str().into(),
                note: a.note.clone(),
            })
            .collect(),
    }
}

/// Mean and percentiles of a duration, seconds; `null` without data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct DurationStats {
    /// Number of values.
    pub count: usize,
    /// Mean.
    pub mean: Option<f64>,
    /// Median (nearest rank).
    pub p50: Option<f64>,
    /// 90th percentile (nearest rank).
    pub p90: Option<f64>,
}

impl From<ops::Distribution> for DurationStats {
    fn from(d: ops::Distribution) -> Self {
        let some = |v: f64| (d.count > 0).then_some(v);
        Self {
            count: d.count,
            mean: some(d.mean),
            p50: some(d.p50),
            p90: some(d.p90),
        }
    }
}

/// Response metrics over the incidents reported in a window.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IncidentMetricsDto {
    /// Window length, days.
    pub window_days: u32,
    /// Incidents reported in the window.
    pub total: usize,
    /// Report to first dispatch.
    pub response_time_s: DurationStats,
    /// Report to resolution.
    pub resolution_time_s: DurationStats,
    /// Resolved no later than due / (done + overdue) (按期办结率); `null` when
    /// nothing is done or due.
    pub on_time_closure_rate: Option<f64>,
    /// Done / total (办结率); `null` without incidents.
    pub closure_rate: Option<f64>,
    /// Not yet resolved.
    pub backlog: usize,
    /// Not resolved and past due.
    pub overdue: usize,
    /// Share opened by alarms, IoT or patrols.
    pub proactive_share: Option<f64>,
}

impl IncidentMetricsDto {
    /// The wire form of `m`.
    pub fn of(m: &ops::IncidentMetrics, window_days: u32) -> Self {
        let done = m.total - m.backlog;
        let any = m.total > 0;
        Self {
            window_days,
            total: m.total,
            response_time_s: m.response_time_s.into(),
            resolution_time_s: m.resolution_time_s.into(),
            on_time_closure_rate: (done + m.overdue > 0).then_some(m.on_time_closure_rate),
            closure_rate: any.then_some(m.closure_rate),
            backlog: m.backlog,
            overdue: m.overdue,
            proactive_share: any.then_some(m.proactive_share),
        }
    }
}

/// `info`, `warning`, `critical`.
pub const fn severity_str(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Critical => "critical",
    }
}

/// `open`, `acknowledged`, `cleared`.
pub const fn alarm_state_str(s: AlarmState) -> &'static str {
    match s {
        AlarmState::Open => "open",
        AlarmState::Acknowledged => "acknowledged",
        AlarmState::Cleared => "cleared",
    }
}

/// `P1` ... `P4`.
pub const fn priority_str(p: Priority) -> &'static str {
    match p {
        Priority::P1 => "P1",
        Priority::P2 => "P2",
        Priority::P3 => "P3",
        Priority::P4 => "P4",
    }
}

/// Parses `P1` ... `P4`.
pub fn parse_priority(s: &str) -> Option<Priority> {
    [Priority::P1, Priority::P2, Priority::P3, Priority::P4]
        .into_iter()
        .find(|p| priority_str(*p) == s)
}

/// Whether an incident state is open (not RESOLVED or CLOSED).
pub fn is_open(s: IncidentState) -> bool {
    !s.is_done()
}
