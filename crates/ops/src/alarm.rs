//! Threshold alarm rules with duration and hysteresis.

use std::collections::BTreeMap;

use domain::{EntityId, EntityKind, Metric, Priority, SensorId, SensorKind, Timestamp};
use serde::{Deserialize, Serialize};

/// How serious an alarm is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For information.
    Info,
    /// Needs attention.
    Warning,
    /// Needs action now.
    Critical,
}

/// Which subjects a rule watches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Scope {
    /// One sensor.
    Sensor {
        /// The sensor.
        sensor: SensorId,
    },
    /// Every sensor of a kind.
    SensorKind {
        /// The kind.
        kind: SensorKind,
    },
    /// The sensors observing one entity (a road segment, a building).
    Entity {
        /// The entity.
        entity: EntityId,
    },
    /// Every H3 cell at a resolution (the value is the cell's window mean).
    Cells {
        /// H3 resolution, 0-15.
        res: u8,
    },
    /// Every entity of a kind, on values derived for the entity itself
    /// (a feeder's loading from its power flow), not on sensor readings.
    EntityKind {
        /// The entity kind.
        kind: EntityKind,
    },
}

/// When a rule's condition holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Condition {
    /// Value above `threshold`; clears below `threshold - hysteresis`.
    Above {
        /// Threshold in the metric's canonical unit.
        threshold: f64,
        /// Clearing band (≥ 0).
        hysteresis: f64,
    },
    /// Value below `threshold`; clears above `threshold + hysteresis`.
    Below {
        /// Threshold in the metric's canonical unit.
        threshold: f64,
        /// Clearing band (≥ 0).
        hysteresis: f64,
    },
    /// No reading from a sensor in scope for longer than the rule's duration.
    Stale,
}

/// A rule as stored and edited through the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmRule {
    /// Rule id.
    pub id: u64,
    /// Name shown to operators (`PM2.5 above 75 µg/m³ for 10 min`).
    pub name: String,
    /// What it watches.
    pub scope: Scope,
    /// The metric (ignored by stale rules).
    pub metric: Metric,
    /// The condition.
    pub condition: Condition,
    /// How long the condition must hold before the alarm raises, ms.
    pub for_ms: u64,
    /// Severity of the alarms it raises.
    pub severity: Severity,
    /// When set, a raised alarm opens an incident of this type and priority.
    pub incident: Option<IncidentTemplate>,
    /// Disabled rules raise nothing and clear their open alarms.
    pub enabled: bool,
}

/// What incident an alarm opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentTemplate {
    /// Incident type (`air_quality`, `flooding`, `sensor_fault`, ...).
    pub kind: String,
    /// Priority.
    pub priority: Priority,
    /// Team that owns it, if fixed.
    pub team: Option<String>,
}

/// Why a rule is invalid.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleError {
    /// Threshold or hysteresis not finite, or hysteresis negative.
    #[error(
        "rule {id}: threshold and hysteresis must be finite and hysteresis >= 0 (got {threshold}, {hysteresis})"
    )]
    BadThreshold {
        /// Rule id.
        id: u64,
        /// Threshold.
        threshold: f64,
        /// Hysteresis.
        hysteresis: f64,
    },
    /// H3 resolution above 15.
    #[error("rule {id}: H3 resolution {res} is above 15")]
    BadResolution {
        /// Rule id.
        id: u64,
        /// Resolution.
        res: u8,
    },
    /// A stale rule needs a positive duration and a sensor scope.
    #[error("rule {id}: a stale rule needs for_ms > 0 and a sensor, sensor-kind or entity scope")]
    BadStale {
        /// Rule id.
        id: u64,
    },
    /// Empty name.
    #[error("rule {id}: name is empty")]
    EmptyName {
        /// Rule id.
        id: u64,
    },
}

impl AlarmRule {
    /// Checks the rule's invariants.
    pub fn validate(&self) -> Result<(), RuleError> {
        if self.name.trim().is_empty() {
            return Err(RuleError::EmptyName { id: self.id });
        }
        if let Scope::Cells { res } = self.scope
            && res > 15
        {
            return Err(RuleError::BadResolution { id: self.id, res });
        }
        match self.condition {
            Condition::Above {
                threshold,
                hysteresis,
            }
            | Condition::Below {
                threshold,
                hysteresis,
            } => {
                if !threshold.is_finite() || !hysteresis.is_finite() || hysteresis < 0.0 {
                    return Err(RuleError::BadThreshold {
                        id: self.id,
                        threshold,
                        hysteresis,
                    });
                }
            }
            Condition::Stale => {
                if self.for_ms == 0
                    || matches!(self.scope, Scope::Cells { .. } | Scope::EntityKind { .. })
                {
                    return Err(RuleError::BadStale { id: self.id });
                }
            }
        }
        Ok(())
    }

    fn threshold(&self) -> Option<f64> {
        match self.condition {
            Condition::Above { threshold, .. } | Condition::Below { threshold, .. } => {
                Some(threshold)
            }
            Condition::Stale => None,
        }
    }

    fn watches(&self, s: &Sample) -> bool {
        if s.metric != self.metric {
            return false;
        }
        match (&self.scope, &s.subject) {
            (Scope::Sensor { sensor }, Subject::Sensor { sensor: id }) => sensor == id,
            (Scope::SensorKind { kind }, Subject::Sensor { .. }) => Some(*kind) == s.kind,
            (Scope::Entity { entity }, Subject::Sensor { .. }) => Some(entity) == s.entity.as_ref(),
            (Scope::Entity { entity }, Subject::Entity { entity: id }) => entity == id,
            (Scope::EntityKind { kind }, Subject::Entity { .. }) => Some(*kind) == s.entity_kind,
            (Scope::Cells { res }, Subject::Cell { res: r, .. }) => res == r,
            _ => false,
        }
    }
}

/// What an alarm is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Subject {
    /// A sensor.
    Sensor {
        /// The sensor.
        sensor: SensorId,
    },
    /// An H3 cell.
    Cell {
        /// Resolution.
        res: u8,
        /// Cell index as a 64-bit integer.
        cell: u64,
    },
    /// An entity, for values derived for it (a feeder's power-flow state).
    Entity {
        /// The entity.
        entity: EntityId,
    },
}

/// One value to evaluate: a sensor reading or a cell aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// What the value is about.
    pub subject: Subject,
    /// The sensor's kind (sensor samples).
    pub kind: Option<SensorKind>,
    /// The entity the sensor observes (sensor samples), or the entity
    /// itself (entity samples).
    pub entity: Option<EntityId>,
    /// The entity's kind (entity samples).
    pub entity_kind: Option<EntityKind>,
    /// The metric.
    pub metric: Metric,
    /// The value.
    pub value: f64,
    /// When it was measured.
    pub ts: Timestamp,
}

/// Lifecycle of an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmState {
    /// Raised and not yet seen by an operator.
    Open,
    /// Seen by an operator, condition still holds.
    Acknowledged,
    /// The condition no longer holds.
    Cleared,
}

/// A raised alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    /// Alarm id.
    pub id: u64,
    /// The rule that raised it.
    pub rule_id: u64,
    /// The rule's name at the time.
    pub rule_name: String,
    /// Severity.
    pub severity: Severity,
    /// What it is about.
    pub subject: Subject,
    /// The metric.
    pub metric: Metric,
    /// The value that raised it.
    pub value: f64,
    /// The most extreme value while it was active.
    pub peak: f64,
    /// The threshold (none for stale rules).
    pub threshold: Option<f64>,
    /// State.
    pub state: AlarmState,
    /// When the condition started to hold.
    pub since: Timestamp,
    /// When it was raised (condition held for the rule's duration).
    pub opened_at: Timestamp,
    /// When it cleared.
    pub cleared_at: Option<Timestamp>,
}

/// What evaluation produced.
#[derive(Debug, Clone, PartialEq)]
pub enum AlarmEvent {
    /// A new alarm (open an incident if the rule says so).
    Raised(Alarm),
    /// An alarm cleared.
    Cleared(Alarm),
}

#[derive(Debug, Clone, Default)]
struct Track {
    pending_since: Option<Timestamp>,
    active: Option<Alarm>,
    last_ts: Option<Timestamp>,
}

/// Evaluates rules over a stream of samples. One per process, single writer.
#[derive(Debug, Clone, Default)]
pub struct AlarmEngine {
    rules: BTreeMap<u64, AlarmRule>,
    tracks: BTreeMap<(u64, Subject), Track>,
    next_id: u64,
}

impl AlarmEngine {
    /// An engine whose alarm ids start after `last_alarm_id`.
    pub fn new(
        rules: impl IntoIterator<Item = AlarmRule>,
        last_alarm_id: u64,
    ) -> Result<Self, RuleError> {
        let mut e = Self {
            next_id: last_alarm_id + 1,
            ..Self::default()
        };
        for r in rules {
            e.upsert_rule(r)?;
        }
        Ok(e)
    }

    /// Adds or replaces a rule. Replacing a rule resets its pending timers but
    /// keeps its open alarms (they clear by the new condition).
    pub fn upsert_rule(&mut self, rule: AlarmRule) -> Result<(), RuleError> {
        rule.validate()?;
        for ((r, _), t) in &mut self.tracks {
            if *r == rule.id {
                t.pending_since = None;
            }
        }
        self.rules.insert(rule.id, rule);
        Ok(())
    }

    /// Removes a rule, clearing its open alarms at `now`.
    pub fn remove_rule(&mut self, id: u64, now: Timestamp) -> Vec<AlarmEvent> {
        self.rules.remove(&id);
        let keys: Vec<_> = self
            .tracks
            .keys()
            .filter(|(r, _)| *r == id)
            .cloned()
            .collect();
        let mut out = Vec::new();
        for k in keys {
            if let Some(Track {
                active: Some(mut a),
                ..
            }) = self.tracks.remove(&k)
            {
                a.state = AlarmState::Cleared;
                a.cleared_at = Some(now);
                out.push(AlarmEvent::Cleared(a));
            }
        }
        out
    }

    /// The rules, in id order.
    pub fn rules(&self) -> impl Iterator<Item = &AlarmRule> {
        self.rules.values()
    }

    /// The active (open or acknowledged) alarms, in (rule, subject) order.
    pub fn active(&self) -> impl Iterator<Item = &Alarm> {
        self.tracks.values().filter_map(|t| t.active.as_ref())
    }

    /// Marks an active alarm acknowledged. Returns it, or `None` if not active.
    pub fn acknowledge(&mut self, alarm_id: u64) -> Option<Alarm> {
        let t = self
            .tracks
            .values_mut()
            .find(|t| t.active.as_ref().is_some_and(|a| a.id == alarm_id))?;
        let a = t.active.as_mut()?;
        a.state = AlarmState::Acknowledged;
        Some(a.clone())
    }

    /// Evaluates one sample against every threshold rule that watches it.
    /// Samples older than the last one seen for a (rule, subject) are ignored.
    pub fn evaluate(&mut self, s: &Sample) -> Vec<AlarmEvent> {
        let mut out = Vec::new();
        for rule in self.rules.values().filter(|r| r.enabled && r.watches(s)) {
            let (above, threshold, hysteresis) = match rule.condition {
                Condition::Above {
                    threshold,
                    hysteresis,
                } => (true, threshold, hysteresis),
                Condition::Below {
                    threshold,
                    hysteresis,
                } => (false, threshold, hysteresis),
                Condition::Stale => continue,
            };
            let track = self.tracks.entry((rule.id, s.subject.clone())).or_default();
            if track.last_ts.is_some_and(|t| s.ts < t) {
                continue;
            }
            track.last_ts = Some(s.ts);
            let holds = if above {
                s.value > threshold
            } else {
                s.value < threshold
            };
            let cleared = if above {
                s.value < threshold - hysteresis
            } else {
                s.value > threshold + hysteresis
            };
            if let Some(a) = track.active.as_mut() {
                a.peak = if above {
                    a.peak.max(s.value)
                } else {
                    a.peak.min(s.value)
                };
                if cleared {
                    let mut a = track.active.take().expect("checked above");
                    a.state = AlarmState::Cleared;
                    a.cleared_at = Some(s.ts);
                    track.pending_since = None;
                    out.push(AlarmEvent::Cleared(a));
                }
                continue;
            }
            if !holds {
                track.pending_since = None;
                continue;
            }
            let since = *track.pending_since.get_or_insert(s.ts);
            if s.ts.0 - since.0 >= i64::try_from(rule.for_ms).unwrap_or(i64::MAX) {
                let a = Alarm {
                    id: self.next_id,
                    rule_id: rule.id,
                    rule_name: rule.name.clone(),
                    severity: rule.severity,
                    subject: s.subject.clone(),
                    metric: s.metric.clone(),
                    value: s.value,
                    peak: s.value,
                    threshold: rule.threshold(),
                    state: AlarmState::Open,
                    since,
                    opened_at: s.ts,
                    cleared_at: None,
                };
                self.next_id += 1;
                track.active = Some(a.clone());
                out.push(AlarmEvent::Raised(a));
            }
        }
        out
    }

    /// Evaluates stale rules at `now` given each sensor's kind, observed
    /// entity and last-seen time (sensors never seen pass `None`). A stale
    /// alarm clears on the next reading.
    pub fn tick<'a>(
        &mut self,
        now: Timestamp,
        sensors: impl IntoIterator<
            Item = (
                &'a SensorId,
                SensorKind,
                Option<&'a EntityId>,
                Option<Timestamp>,
            ),
        >,
    ) -> Vec<AlarmEvent> {
        let stale_rules: Vec<AlarmRule> = self
            .rules
            .values()
            .filter(|r| r.enabled && r.condition == Condition::Stale)
            .cloned()
            .collect();
        if stale_rules.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (sensor, kind, entity, last_seen) in sensors {
            for rule in &stale_rules {
                let watched = match &rule.scope {
                    Scope::Sensor { sensor: id } => id == sensor,
                    Scope::SensorKind { kind: k } => *k == kind,
                    Scope::Entity { entity: e } => Some(e) == entity,
                    Scope::Cells { .. } | Scope::EntityKind { .. } => false,
                };
                if !watched {
                    continue;
                }
                let subject = Subject::Sensor {
                    sensor: sensor.clone(),
                };
                let track = self.tracks.entry((rule.id, subject.clone())).or_default();
                let silent_ms = last_seen.map_or(i64::MAX, |t| now.0 - t.0);
                let stale = silent_ms > i64::try_from(rule.for_ms).unwrap_or(i64::MAX);
                match (stale, track.active.is_some()) {
                    (true, false) => {
                        let since = last_seen.unwrap_or(now);
                        let a = Alarm {
                            id: self.next_id,
                            rule_id: rule.id,
                            rule_name: rule.name.clone(),
                            severity: rule.severity,
                            subject,
                            metric: rule.metric.clone(),
                            value: silent_secs(last_seen, now),
                            peak: 0.0,
                            threshold: None,
                            state: AlarmState::Open,
                            since,
                            opened_at: now,
                            cleared_at: None,
                        };
                        self.next_id += 1;
                        track.active = Some(a.clone());
                        out.push(AlarmEvent::Raised(a));
                    }
                    (false, true) => {
                        let mut a = track.active.take().expect("checked above");
                        a.state = AlarmState::Cleared;
                        a.cleared_at = Some(now);
                        out.push(AlarmEvent::Cleared(a));
                    }
                    _ => {}
                }
            }
        }
        out
    }
}

/// Seconds a sensor has been silent (0 when never seen: the alarm's `since` says so).
#[allow(clippy::cast_precision_loss)]
fn silent_secs(last_seen: Option<Timestamp>, now: Timestamp) -> f64 {
    last_seen.map_or(0.0, |t| (now.0 - t.0) as f64 / 1000.0)
}

#[cfg(test)]
mod tests;
