//! The operations centre's single writer: alarm rules evaluated over live
//! data, alarms, and the incidents they, citizens and operators open.
//!
//! [`OpsService`] wraps the pure [`ops::AlarmEngine`] and the incident
//! lifecycle behind one async mutex, persists every change (alarm and
//! incident in one transaction) before publishing it to the live hub, and
//! answers the API's reads and writes.
//!
//! Cheap when nothing fires: a batch whose metrics no enabled rule watches
//! returns after a set lookup, and no store I/O happens unless an alarm or
//! incident changed.
//!
//! Restart behaviour: the engine's pending timers live in memory. Alarms that
//! were active when the service stopped are cleared at load (marked
//! `cleared_by_restart`) and raised again by the rules if their condition
//! still holds; an alarm raised for a subject that already has an open
//! incident of the same rule (or of the same type in the same resolution-9
//! cell) joins that incident instead of opening another.

pub mod dto;
pub mod rules;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use domain::{EntityId, EntityKind, EventReport, LatLon, Metric, Observation, Timestamp};
use ops::{
    Action, AlarmEngine, AlarmEvent, AlarmRule, AlarmState, Incident, IncidentMetrics,
    IncidentSource, NewIncident, Sample, Subject, TransitionError, incident_metrics,
};
use serde_json::json;
use store::{AlarmRecord, IncidentFilter, IncidentRecord, RuleRecord, Store};
use tokio::sync::Mutex;
use twin::TwinSnapshot;

use crate::config::OpsConfig;
use crate::live::{LiveHub, LiveUpdate};
use crate::{ApiError, Principal};
use dto::{AlarmEntry, is_open};

/// Days of incidents kept in memory for the metrics (older done ones are
/// read from the store on demand).
pub const METRICS_WINDOW_DAYS: u32 = 30;
const DAY_MS: i64 = 86_400_000;
/// Cleared alarms kept in memory for the live views.
const CLEARED_ALARMS_KEPT: usize = 2_000;
/// Stale rules are judged at most this often (data time), ms.
const STALE_CHECK_MS: i64 = 10_000;

/// Why the service could not start.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// The store failed.
    #[error("operations store: {0}")]
    Store(#[from] store::Error),
    /// A stored record does not decode.
    #[error("stored {what} {id} is invalid: {reason}")]
    Corrupt {
        /// What.
        what: &'static str,
        /// Which.
        id: u64,
        /// Why.
        reason: String,
    },
}

/// The operations centre. Cheap to clone; one writer inside.
#[derive(Clone)]
pub struct OpsService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for OpsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpsService").finish_non_exhaustive()
    }
}

struct Inner {
    store: Store,
    live: LiveHub,
    cfg: OpsConfig,
    state: Mutex<OpsState>,
}

struct OpsState {
    engine: AlarmEngine,
    /// Metrics watched by enabled threshold rules on sensors (lookup only).
    sensor_metrics: BTreeSet<Metric>,
    /// (metric, resolution) watched by enabled cell rules.
    cell_metrics: BTreeSet<(Metric, u8)>,
    has_stale: bool,
    last_stale_check: Option<Timestamp>,
    alarms: BTreeMap<u64, AlarmEntry>,
    incidents: BTreeMap<u64, Incident>,
    /// Report keys `(reporter, id)` already turned into incidents.
    reports_seen: BTreeSet<(String, String)>,
    next_incident: u64,
    next_rule: u64,
}

/// What changed in one call: persisted, then published.
#[derive(Default)]
struct Changes {
    alarms: BTreeSet<u64>,
    incidents: BTreeSet<u64>,
}

impl OpsState {
    fn reindex(&mut self) {
        self.sensor_metrics.clear();
        self.cell_metrics.clear();
        self.has_stale = false;
        for r in self.engine.rules().filter(|r| r.enabled) {
            match (&r.condition, &r.scope) {
                (ops::Condition::Stale, _) => self.has_stale = true,
                (_, ops::Scope::Cells { res }) => {
                    self.cell_metrics.insert((r.metric.clone(), *res));
                }
                _ => {
                    self.sensor_metrics.insert(r.metric.clone());
                }
            }
        }
    }

    fn rule(&self, id: u64) -> Option<&AlarmRule> {
        self.engine.rules().find(|r| r.id == id)
    }

    fn trim(&mut self, now: Timestamp) {
        let cleared: Vec<u64> = self
            .alarms
            .iter()
            .filter(|(_, a)| !a.is_active())
            .map(|(id, _)| *id)
            .collect();
        if cleared.len() > CLEARED_ALARMS_KEPT {
            for id in &cleared[..cleared.len() - CLEARED_ALARMS_KEPT] {
                self.alarms.remove(id);
            }
        }
        let horizon = now.0 - i64::from(METRICS_WINDOW_DAYS) * DAY_MS;
        self.incidents
            .retain(|_, i| is_open(i.state) || i.created_at.0 >= horizon);
    }
}

fn record_of_alarm(a: &AlarmEntry) -> AlarmRecord {
    AlarmRecord {
        id: a.alarm.id,
        rule_id: a.alarm.rule_id,
        state: dto::alarm_state_str(a.alarm.state).into(),
        opened_at: a.alarm.opened_at,
        cleared_at: a.alarm.cleared_at,
        incident_id: a.incident_id,
        doc: serde_json::to_value(a).unwrap_or_else(|_| json!({})),
    }
}

fn record_of_incident(i: &Incident) -> IncidentRecord {
    IncidentRecord {
        id: i.id,
        state: i.state.as_str().into(),
        community: i.community.as_ref().map(ToString::to_string),
        cell: i.cell,
        created_at: i.created_at,
        sla_due: i.sla_due,
        updated_at: i.audit.last().map_or(i.created_at, |a| a.at),
        doc: serde_json::to_value(i).unwrap_or_else(|_| json!({})),
    }
}

/// Decodes a stored incident.
pub fn incident_of(r: &IncidentRecord) -> Result<Incident, ApiError> {
    serde_json::from_value(r.doc.clone())
        .map_err(|e| ApiError::Internal(format!("stored incident {} does not decode: {e}", r.id)))
}

/// Decodes a stored alarm.
pub fn alarm_of(r: &AlarmRecord) -> Result<AlarmEntry, ApiError> {
    serde_json::from_value(r.doc.clone())
        .map_err(|e| ApiError::Internal(format!("stored alarm {} does not decode: {e}", r.id)))
}

/// The resolution-9 cell of a position.
pub fn cell9(p: LatLon) -> Option<u64> {
    h3o::LatLng::new(p.lat, p.lon)
        .ok()
        .map(|ll| u64::from(ll.to_cell(h3o::Resolution::Nine)))
}

/// The community (district) whose polygon holds `p` (the first in id order
/// where polygons overlap).
pub fn community_at(snap: &TwinSnapshot, p: LatLon) -> Option<EntityId> {
    let pt = geo::Point::new(p.lon, p.lat);
    snap.entities_in_bbox(geo::Rect::new(pt.0, pt.0), &[EntityKind::Community])
        .first()
        .map(|e| e.id.clone())
}

/// Facts about an alarm's subject, from the snapshot.
fn describe(snap: &TwinSnapshot, a: &ops::Alarm) -> AlarmEntry {
    let mut e = AlarmEntry {
        alarm: a.clone(),
        incident_id: None,
        acknowledged_by: None,
        acknowledged_at: None,
        sensor_kind: None,
        entity: None,
        entity_type: None,
        location: None,
        community: None,
        cleared_by_restart: false,
    };
    match &a.subject {
        Subject::Sensor { sensor } => {
            if let Some(s) = snap.sensor(sensor.as_str()) {
                let spec = s.spec();
                e.sensor_kind = Some(spec.kind);
                e.location = Some(spec.location);
                e.entity.clone_from(&spec.observes);
                e.entity_type = spec
                    .observes
                    .as_ref()
                    .and_then(|o| snap.entity(o.as_str()))
                    .map(|x| x.kind.type_name().to_owned());
                e.community = snap
                    .entity(sensor.as_str())
                    .and_then(|x| x.community.clone())
                    .or_else(|| community_at(snap, spec.location));
            }
        }
        Subject::Cell { cell, .. } => {
            if let Ok(c) = h3o::CellIndex::try_from(*cell) {
                let ll = h3o::LatLng::from(c);
                let p = LatLon {
                    lat: ll.lat(),
                    lon: ll.lng(),
                };
                e.location = Some(p);
                e.community = community_at(snap, p);
            }
        }
        Subject::Entity { entity } => {
            e.entity = Some(entity.clone());
            if let Some(x) = snap.entity(entity.as_str()) {
                let p = x.representative_point();
                let p = LatLon {
                    lat: p.y(),
                    lon: p.x(),
                };
                e.entity_type = Some(x.kind.type_name().to_owned());
                e.location = Some(p);
                e.community = x.community.clone().or_else(|| community_at(snap, p));
            }
        }
    }
    e
}

impl OpsService {
    /// Loads rules (installing [`rules::default_rules`] when the store holds
    /// none and `cfg.default_rules` is on), recent alarms and incidents, and
    /// the next ids.
    pub async fn load(store: Store, live: LiveHub, cfg: &OpsConfig) -> Result<Self, OpsError> {
        let now = crate::util::now();
        let mut stored = store.alarm_rules().await?;
        if stored.is_empty() && cfg.default_rules {
            for r in rules::default_rules() {
                let rec = RuleRecord {
                    id: r.id,
                    enabled: r.enabled,
                    updated_at: now,
                    doc: serde_json::to_value(&r).unwrap_or_else(|_| json!({})),
                };
                store.upsert_alarm_rule(&rec).await?;
            }
            stored = store.alarm_rules().await?;
        }
        let mut rules_v = Vec::with_capacity(stored.len());
        for r in &stored {
            let rule: AlarmRule =
                serde_json::from_value(r.doc.clone()).map_err(|e| OpsError::Corrupt {
                    what: "alarm rule",
                    id: r.id,
                    reason: e.to_string(),
                })?;
            rules_v.push(rule);
        }
        let next_rule = rules_v.iter().map(|r| r.id).max().unwrap_or(0) + 1;
        let max_alarm = store.max_alarm_id().await?;
        let engine = AlarmEngine::new(rules_v, max_alarm).map_err(|e| OpsError::Corrupt {
            what: "alarm rule",
            id: 0,
            reason: e.to_string(),
        })?;
        // active alarms do not survive a restart (the engine's timers are gone)
        let mut restart_cleared = Vec::new();
        for rec in store.alarms(Some("active"), 0, 0).await? {
            let Ok(mut a) = alarm_of(&rec) else { continue };
            a.alarm.state = AlarmState::Cleared;
            a.alarm.cleared_at = Some(now);
            a.cleared_by_restart = true;
            restart_cleared.push(a);
        }
        let mut alarms = BTreeMap::new();
        for rec in store.alarms(None, CLEARED_ALARMS_KEPT as u32, 0).await? {
            if let Ok(a) = alarm_of(&rec) {
                alarms.insert(a.alarm.id, a);
            }
        }
        for a in &restart_cleared {
            alarms.insert(a.alarm.id, a.clone());
        }
        if !restart_cleared.is_empty() {
            let recs: Vec<AlarmRecord> = restart_cleared.iter().map(record_of_alarm).collect();
            store.save_ops(&recs, &[]).await?;
        }
        let mut incidents = BTreeMap::new();
        let open = IncidentFilter {
            open_only: true,
            ..IncidentFilter::default()
        };
        let recent = IncidentFilter {
            created_from: Some(Timestamp(now.0 - i64::from(METRICS_WINDOW_DAYS) * DAY_MS)),
            ..IncidentFilter::default()
        };
        for f in [open, recent] {
            for rec in store.incidents(&f).await? {
                let i = incident_of(&rec).map_err(|e| OpsError::Corrupt {
                    what: "incident",
                    id: rec.id,
                    reason: e.to_string(),
                })?;
                incidents.insert(i.id, i);
            }
        }
        let reports_seen = incidents
            .values()
            .filter_map(|i| match &i.source {
                IncidentSource::Report { report_id, .. } => Some(report_id.clone()),
                _ => None,
            })
            .filter_map(|k| k.split_once('/').map(|(a, b)| (a.to_owned(), b.to_owned())))
            .collect();
        let next_incident = store.max_incident_id().await? + 1;
        let mut state = OpsState {
            engine,
            sensor_metrics: BTreeSet::new(),
            cell_metrics: BTreeSet::new(),
            has_stale: false,
            last_stale_check: None,
            alarms,
            incidents,
            reports_seen,
            next_incident,
            next_rule,
        };
        state.reindex();
        tracing::info!(
            rules = state.engine.rules().count(),
            incidents = state.incidents.len(),
            restart_cleared = restart_cleared.len(),
            "Operations centre loaded."
        );
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                live,
                cfg: cfg.clone(),
                state: Mutex::new(state),
            }),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &OpsConfig {
        &self.inner.cfg
    }

    // ----- live input (called by the server's twin task) -----

    /// Evaluates the rules on a batch of applied observations: each sensor
    /// reading, and the current aggregate of each changed cell at the
    /// resolution of each cell rule. Raised alarms persist, open or join
    /// incidents when their rule says so, and are published.
    pub async fn on_observations(&self, obs: &[Observation], snap: &TwinSnapshot) {
        if obs.is_empty() {
            return;
        }
        let mut st = self.inner.state.lock().await;
        if st.sensor_metrics.is_empty() && st.cell_metrics.is_empty() {
            return;
        }
        let mut events = Vec::new();
        let mut cells: BTreeMap<(Metric, u8, u64), Timestamp> = BTreeMap::new();
        for o in obs {
            let sensor_rule = st.sensor_metrics.contains(&o.metric);
            let cell_rule = st
                .cell_metrics
                .range((o.metric.clone(), 0)..=(o.metric.clone(), 15))
                .next()
                .is_some();
            if !sensor_rule && !cell_rule {
                continue;
            }
            let Some(s) = snap.sensor(o.sensor.as_str()) else {
                continue;
            };
            if sensor_rule {
                events.extend(st.engine.evaluate(&Sample {
                    subject: Subject::Sensor {
                        sensor: o.sensor.clone(),
                    },
                    kind: Some(s.spec().kind),
                    entity: s.spec().observes.clone(),
                    entity_kind: None,
                    metric: o.metric.clone(),
                    value: o.value,
                    ts: o.ts,
                }));
            }
            if cell_rule {
                let base = s.cell();
                let resolutions: Vec<u8> = st
                    .cell_metrics
                    .range((o.metric.clone(), 0)..=(o.metric.clone(), 15))
                    .map(|(_, r)| *r)
                    .collect();
                for r in resolutions {
                    let Some(c) = h3o::Resolution::try_from(r)
                        .ok()
                        .and_then(|res| base.parent(res))
                    else {
                        continue;
                    };
                    let e = cells
                        .entry((o.metric.clone(), r, u64::from(c)))
                        .or_insert(o.ts);
                    *e = (*e).max(o.ts);
                }
            }
        }
        for ((metric, res, cell), ts) in cells {
            let Ok(c) = h3o::CellIndex::try_from(cell) else {
                continue;
            };
            let Ok(Some(agg)) = snap.cell(metric.as_str(), c) else {
                continue;
            };
            let Some(value) = crate::routes::city::live_window(&agg).mean() else {
                continue;
            };
            events.extend(st.engine.evaluate(&Sample {
                subject: Subject::Cell { res, cell },
                kind: None,
                entity: None,
                entity_kind: None,
                metric,
                value,
                ts,
            }));
        }
        if events.is_empty() {
            return;
        }
        let mut changes = Changes::default();
        self.apply_events(&mut st, events, snap, &mut changes);
        self.commit(&mut st, changes).await;
    }

    /// Evaluates the rules on values derived for entities (a feeder's
    /// loading and voltages from its live power flow): each value is a
    /// sample about the entity itself, watched by `entity_kind` and
    /// `entity` rules. Raised alarms persist, open or join incidents and
    /// are published like those of sensor readings.
    pub async fn on_entity_values(
        &self,
        values: &[(EntityId, EntityKind, Metric, f64)],
        ts: Timestamp,
        snap: &TwinSnapshot,
    ) {
        if values.is_empty() {
            return;
        }
        let mut st = self.inner.state.lock().await;
        let mut events = Vec::new();
        for (entity, kind, metric, value) in values {
            if !value.is_finite() {
                continue;
            }
            events.extend(st.engine.evaluate(&Sample {
                subject: Subject::Entity {
                    entity: entity.clone(),
                },
                kind: None,
                entity: Some(entity.clone()),
                entity_kind: Some(*kind),
                metric: metric.clone(),
                value: *value,
                ts,
            }));
        }
        if events.is_empty() {
            return;
        }
        let mut changes = Changes::default();
        self.apply_events(&mut st, events, snap, &mut changes);
        self.commit(&mut st, changes).await;
    }

    /// Opens incidents from citizen and IoT event reports (when
    /// `incidents_from_reports` is on): community from the location, the
    /// resolution-9 cell, the report's priority, the team by category
    /// ([`rules::team_for_category`]). A report already seen is skipped.
    pub async fn on_reports(&self, reports: &[EventReport], snap: &TwinSnapshot) {
        if !self.inner.cfg.incidents_from_reports || reports.is_empty() {
            return;
        }
        let mut st = self.inner.state.lock().await;
        let mut changes = Changes::default();
        for r in reports {
            let key = (r.reporter.to_string(), r.id.clone());
            if !st.reports_seen.insert(key) {
                continue;
            }
            let community = r.location.and_then(|p| community_at(snap, p)).or_else(|| {
                snap.entity(r.reporter.as_str())
                    .and_then(|e| e.community.clone())
            });
            let text: String = r.text.chars().take(120).collect();
            let title = if text.trim().is_empty() {
                format!("{} reported", r.category)
            } else {
                format!("{}: {}", r.category, text.trim())
            };
            let new = NewIncident {
                kind: r.category.clone(),
                title,
                priority: r.priority,
                community,
                location: r.location,
                cell: r.location.and_then(cell9),
                team: Some(rules::team_for_category(&r.category).to_owned()),
                source: IncidentSource::Report {
                    report_id: format!("{}/{}", r.reporter, r.id),
                    channel: r.channel,
                },
            };
            let actor = match r.channel {
                domain::EventChannel::CitizenCall | domain::EventChannel::App => "citizen",
                domain::EventChannel::IotAlarm => "iot",
                domain::EventChannel::Patrol => "patrol",
            };
            let id = st.next_incident;
            st.next_incident += 1;
            let inc = Incident::open(id, new, r.ts, &self.inner.cfg.sla, actor);
            st.incidents.insert(id, inc);
            changes.incidents.insert(id);
        }
        self.commit(&mut st, changes).await;
    }

    /// Judges stale rules at data time `now` (at most every 10 s of data
    /// time); an O(sensors) scan when a stale rule is enabled, nothing
    /// otherwise.
    pub async fn tick(&self, now: Timestamp, snap: &TwinSnapshot) {
        let mut st = self.inner.state.lock().await;
        if !st.has_stale {
            return;
        }
        if st
            .last_stale_check
            .is_some_and(|t| now.0 - t.0 < STALE_CHECK_MS && now >= t)
        {
            return;
        }
        st.last_stale_check = Some(now);
        // sensors never heard since start are not judged: their status is
        // `unseen`, shown as such, and a fresh start would otherwise raise an
        // alarm for every sensor at once
        let sensors: Vec<_> = snap
            .sensors()
            .filter(|s| s.spec().kind != domain::SensorKind::EventReporter)
            .filter(|s| s.health().last_seen.is_some())
            .collect();
        let events = st.engine.tick(
            now,
            sensors.iter().map(|s| {
                (
                    &s.spec().id,
                    s.spec().kind,
                    s.spec().observes.as_ref(),
                    s.health().last_seen,
                )
            }),
        );
        if events.is_empty() {
            return;
        }
        let mut changes = Changes::default();
        self.apply_events(&mut st, events, snap, &mut changes);
        st.trim(now);
        self.commit(&mut st, changes).await;
    }

    /// Response metrics over the incidents reported in the last
    /// [`METRICS_WINDOW_DAYS`] days, at `now`.
    pub async fn metrics(&self, now: Timestamp) -> IncidentMetrics {
        let st = self.inner.state.lock().await;
        let from = now.0 - i64::from(METRICS_WINDOW_DAYS) * DAY_MS;
        incident_metrics(
            st.incidents.values().filter(|i| i.created_at.0 >= from),
            now,
        )
    }

    /// Metrics over the incidents (reported in the window) that `keep` selects.
    pub async fn metrics_where(
        &self,
        now: Timestamp,
        keep: impl Fn(&Incident) -> bool,
    ) -> IncidentMetrics {
        let st = self.inner.state.lock().await;
        let from = now.0 - i64::from(METRICS_WINDOW_DAYS) * DAY_MS;
        incident_metrics(
            st.incidents
                .values()
                .filter(|i| i.created_at.0 >= from && keep(i)),
            now,
        )
    }

    // ----- internals -----

    fn apply_events(
        &self,
        st: &mut OpsState,
        events: Vec<AlarmEvent>,
        snap: &TwinSnapshot,
        changes: &mut Changes,
    ) {
        for ev in events {
            match ev {
                AlarmEvent::Raised(a) => {
                    let mut entry = describe(snap, &a);
                    let template = st.rule(a.rule_id).and_then(|r| r.incident.clone());
                    if let Some(t) = template {
                        // the resolution-9 cell the twin aggregates the subject in
                        let cell = match &a.subject {
                            Subject::Cell { cell, res } if *res >= 9 => {
                                h3o::CellIndex::try_from(*cell)
                                    .ok()
                                    .and_then(|c| c.parent(h3o::Resolution::Nine))
                                    .map(u64::from)
                            }
                            Subject::Sensor { sensor } => snap
                                .sensor(sensor.as_str())
                                .and_then(|s| s.cell().parent(h3o::Resolution::Nine))
                                .map(u64::from)
                                .or_else(|| entry.location.and_then(cell9)),
                            Subject::Cell { .. } | Subject::Entity { .. } => {
                                entry.location.and_then(cell9)
                            }
                        };
                        let existing = self.joinable_incident(st, &a, &t.kind, cell);
                        let id = if let Some(id) = existing {
                            id
                        } else {
                            let id = st.next_incident;
                            st.next_incident += 1;
                            let subject = match (&a.subject, entry.sensor()) {
                                (_, Some(s)) => format!("sensor {s}"),
                                (Subject::Cell { cell, res }, None) => {
                                    format!("cell {} (res {res})", crate::util::cell_hex(*cell))
                                }
                                (Subject::Entity { entity }, None) => format!(
                                    "{} {entity}",
                                    entry.entity_type.as_deref().unwrap_or("entity")
                                ),
                                _ => "unknown subject".into(),
                            };
                            let new = NewIncident {
                                kind: t.kind.clone(),
                                title: format!("{} at {subject}", a.rule_name),
                                priority: t.priority,
                                community: entry.community.clone(),
                                location: entry.location,
                                cell,
                                team: t.team.clone(),
                                source: IncidentSource::Alarm { alarm_id: a.id },
                            };
                            let inc = Incident::open(
                                id,
                                new,
                                a.opened_at,
                                &self.inner.cfg.sla,
                                "rule-engine",
                            );
                            st.incidents.insert(id, inc);
                            id
                        };
                        entry.incident_id = Some(id);
                        changes.incidents.insert(id);
                    }
                    changes.alarms.insert(a.id);
                    st.alarms.insert(a.id, entry);
                }
                AlarmEvent::Cleared(a) => {
                    let entry = match st.alarms.remove(&a.id) {
                        Some(mut e) => {
                            e.alarm.state = AlarmState::Cleared;
                            e.alarm.cleared_at = a.cleared_at;
                            e.alarm.peak = a.peak;
                            e
                        }
                        None => describe(snap, &a),
                    };
                    changes.alarms.insert(a.id);
                    st.alarms.insert(a.id, entry);
                }
            }
        }
    }

    /// An open incident the alarm should join: one opened by an alarm of
    /// the same rule on the same subject, or of the same type in the same
    /// resolution-9 cell.
    fn joinable_incident(
        &self,
        st: &OpsState,
        a: &ops::Alarm,
        kind: &str,
        cell: Option<u64>,
    ) -> Option<u64> {
        st.incidents
            .values()
            .filter(|i| is_open(i.state))
            .find(|i| {
                let same_subject = matches!(&i.source, IncidentSource::Alarm { alarm_id }
                    if st.alarms.get(alarm_id).is_some_and(|x| x.alarm.rule_id == a.rule_id && x.alarm.subject == a.subject));
                same_subject || (i.kind == kind && cell.is_some() && i.cell == cell)
            })
            .map(|i| i.id)
    }

    /// Persists the changed alarms and incidents in one transaction, then
    /// publishes them. A store failure is logged and nothing is published
    /// (the change stays in memory and is written with the next one).
    async fn commit(&self, st: &mut OpsState, changes: Changes) {
        if changes.alarms.is_empty() && changes.incidents.is_empty() {
            return;
        }
        let alarms: Vec<AlarmEntry> = changes
            .alarms
            .iter()
            .filter_map(|id| st.alarms.get(id).cloned())
            .collect();
        let incidents: Vec<Incident> = changes
            .incidents
            .iter()
            .filter_map(|id| st.incidents.get(id).cloned())
            .collect();
        let arecs: Vec<AlarmRecord> = alarms.iter().map(record_of_alarm).collect();
        let irecs: Vec<IncidentRecord> = incidents.iter().map(record_of_incident).collect();
        if let Err(e) = self.inner.store.save_ops(&arecs, &irecs).await {
            tracing::error!(error = %e, alarms = arecs.len(), incidents = irecs.len(), "Failed to persist alarms and incidents.");
            return;
        }
        crate::telemetry::ops_changes(arecs.len(), irecs.len());
        let now = crate::util::now();
        for a in &alarms {
            self.inner
                .live
                .publish(LiveUpdate::Alarm(Box::new(a.to_dto())));
        }
        for i in &incidents {
            self.inner
                .live
                .publish(LiveUpdate::Incident(Box::new(dto::incident_dto(i, now))));
        }
    }

    // ----- API reads and writes -----

    /// The rules, in id order.
    pub async fn rules(&self) -> Vec<AlarmRule> {
        self.inner
            .state
            .lock()
            .await
            .engine
            .rules()
            .cloned()
            .collect()
    }

    /// One rule.
    pub async fn rule(&self, id: u64) -> Option<AlarmRule> {
        self.inner.state.lock().await.rule(id).cloned()
    }

    /// Creates (`id = None`) or replaces a rule; validated first.
    pub async fn put_rule(
        &self,
        id: Option<u64>,
        body: &rules::RuleBody,
        must_exist: bool,
    ) -> Result<AlarmRule, ApiError> {
        let mut st = self.inner.state.lock().await;
        let id = match id {
            Some(id) => {
                if must_exist && st.rule(id).is_none() {
                    return Err(ApiError::NotFound(format!("no alarm rule {id}")));
                }
                id
            }
            None => st.next_rule,
        };
        let rule = body.to_rule(id)?;
        let rec = RuleRecord {
            id,
            enabled: rule.enabled,
            updated_at: crate::util::now(),
            doc: serde_json::to_value(&rule)
                .map_err(|e| ApiError::Internal(format!("rule does not serialise: {e}")))?,
        };
        self.inner.store.upsert_alarm_rule(&rec).await?;
        st.engine
            .upsert_rule(rule.clone())
            .map_err(|e| ApiError::Unprocessable(e.to_string()))?;
        st.next_rule = st.next_rule.max(id + 1);
        st.reindex();
        Ok(rule)
    }

    /// Deletes a rule, clearing its active alarms.
    pub async fn delete_rule(&self, id: u64) -> Result<(), ApiError> {
        let mut st = self.inner.state.lock().await;
        if st.rule(id).is_none() {
            return Err(ApiError::NotFound(format!("no alarm rule {id}")));
        }
        self.inner.store.delete_alarm_rule(id).await?;
        let events = st.engine.remove_rule(id, crate::util::now());
        st.reindex();
        let mut changes = Changes::default();
        for ev in events {
            if let AlarmEvent::Cleared(a) = ev
                && let Some(e) = st.alarms.get_mut(&a.id)
            {
                e.alarm.state = AlarmState::Cleared;
                e.alarm.cleared_at = a.cleared_at;
                changes.alarms.insert(a.id);
            }
        }
        self.commit(&mut st, changes).await;
        Ok(())
    }

    /// Acknowledges an alarm (idempotent); 409 when it has cleared.
    pub async fn acknowledge(&self, id: u64, who: &Principal) -> Result<AlarmEntry, ApiError> {
        let mut st = self.inner.state.lock().await;
        let entry = match st.alarms.get(&id) {
            Some(e) => e.clone(),
            None => {
                let rec =
                    self.inner.store.alarm(id).await?.ok_or_else(|| {
                        ApiError::NotFound(format!("no alarm {}", dto::alarm_id(id)))
                    })?;
                alarm_of(&rec)?
            }
        };
        match entry.alarm.state {
            AlarmState::Cleared => {
                return Err(ApiError::Conflict(format!(
                    "alarm {} has cleared; only open alarms can be acknowledged",
                    dto::alarm_id(id)
                )));
            }
            AlarmState::Acknowledged => return Ok(entry),
            AlarmState::Open => {}
        }
        who.require_scope(entry.community.as_ref(), entry.location.and_then(cell9))?;
        st.engine.acknowledge(id);
        let now = crate::util::now();
        let e = st.alarms.entry(id).or_insert(entry);
        e.alarm.state = AlarmState::Acknowledged;
        e.acknowledged_by = Some(who.name.clone());
        e.acknowledged_at = Some(now);
        let out = e.clone();
        let mut changes = Changes::default();
        changes.alarms.insert(id);
        self.commit(&mut st, changes).await;
        Ok(out)
    }

    /// One incident (memory first, then the store).
    pub async fn incident(&self, id: u64) -> Result<Option<Incident>, ApiError> {
        if let Some(i) = self.inner.state.lock().await.incidents.get(&id) {
            return Ok(Some(i.clone()));
        }
        self.inner
            .store
            .incident(id)
            .await?
            .map(|r| incident_of(&r))
            .transpose()
    }

    /// Opens an incident for an operator. The caller checks the scope.
    pub async fn create_incident(
        &self,
        new: NewIncident,
        actor: &str,
        note: Option<String>,
    ) -> Result<Incident, ApiError> {
        let mut st = self.inner.state.lock().await;
        let id = st.next_incident;
        st.next_incident += 1;
        let mut inc = Incident::open(id, new, crate::util::now(), &self.inner.cfg.sla, actor);
        if let Some(n) = note
            && let Some(a) = inc.audit.first_mut()
        {
            a.note = Some(n);
        }
        st.incidents.insert(id, inc.clone());
        self.persist_incident(&mut st, &inc).await?;
        Ok(inc)
    }

    /// Applies an action to an incident for `who`: 404 when unknown, 403 out
    /// of the token's scope, 409 when the state does not allow it (the
    /// detail lists the allowed actions), 422 when a dispatch has no team.
    pub async fn transition(
        &self,
        id: u64,
        action: Action,
        who: &Principal,
        team: Option<String>,
        note: Option<String>,
    ) -> Result<Incident, ApiError> {
        let mut st = self.inner.state.lock().await;
        let mut inc = match st.incidents.get(&id) {
            Some(i) => i.clone(),
            None => {
                let rec = self.inner.store.incident(id).await?.ok_or_else(|| {
                    ApiError::NotFound(format!("no incident {}", dto::incident_id(id)))
                })?;
                incident_of(&rec)?
            }
        };
        who.require_scope(inc.community.as_ref(), inc.cell)?;
        let last = inc.audit.last().map_or(inc.created_at, |a| a.at);
        let at = crate::util::now().max(last);
        inc.transition(action, &who.name, at, team, note)
            .map_err(|e| match e {
                TransitionError::NotAllowed { .. } => ApiError::Conflict(format!(
                    "{e}; allowed now: {}",
                    inc.allowed_actions()
                        .iter()
                        .map(|a| a.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                TransitionError::NoTeam => ApiError::Unprocessable(
                    "dispatch needs a team: give \"team\" in the body".into(),
                ),
                TransitionError::BeforeLastChange { .. } => ApiError::Conflict(e.to_string()),
            })?;
        st.incidents.insert(id, inc.clone());
        self.persist_incident(&mut st, &inc).await?;
        Ok(inc)
    }

    async fn persist_incident(&self, st: &mut OpsState, inc: &Incident) -> Result<(), ApiError> {
        self.inner
            .store
            .save_ops(&[], &[record_of_incident(inc)])
            .await?;
        crate::telemetry::ops_changes(0, 1);
        self.inner
            .live
            .publish(LiveUpdate::Incident(Box::new(dto::incident_dto(
                inc,
                crate::util::now(),
            ))));
        st.trim(crate::util::now());
        Ok(())
    }

    /// Active alarms and recently cleared ones held in memory, newest first.
    pub async fn recent_alarms(&self) -> Vec<AlarmEntry> {
        let st = self.inner.state.lock().await;
        st.alarms.values().rev().cloned().collect()
    }

    /// Incidents held in memory (open, and those reported in the metrics
    /// window), in id order.
    pub async fn recent_incidents(&self) -> Vec<Incident> {
        let st = self.inner.state.lock().await;
        st.incidents.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests;
