//! Alarm rules on the wire, and the default rule set.

use domain::{EntityId, EntityKind, Metric, Priority, SensorId, SensorKind};
use ops::{AlarmRule, Condition, Scope, Severity};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{parse_priority, priority_str};
use crate::ApiError;

/// What a rule watches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ScopeDto {
    /// One sensor.
    Sensor {
        /// Sensor id.
        sensor: String,
    },
    /// Every sensor of a kind (`air_quality`, `traffic_detector`, ...).
    SensorKind {
        /// Sensor kind.
        kind: String,
    },
    /// The sensors observing one entity.
    Entity {
        /// Entity id.
        entity: String,
    },
    /// Every H3 cell at a resolution (the value is the cell's window mean).
    Cells {
        /// H3 resolution, 0-15 (one the twin keeps aggregates at).
        res: u8,
    },
    /// Every entity of a kind, on values derived for the entity itself
    /// (`Feeder`: the live power flow's `feeder_loading`, `feeder_vm_min`,
    /// `feeder_vm_max`).
    EntityKind {
        /// NGSI-LD entity type (`Feeder`).
        kind: String,
    },
}

/// When a rule's condition holds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ConditionDto {
    /// Value above `threshold`; clears below `threshold - hysteresis`.
    Above {
        /// Threshold in the metric's canonical unit.
        threshold: f64,
        /// Clearing band (>= 0).
        #[serde(default)]
        hysteresis: f64,
    },
    /// Value below `threshold`; clears above `threshold + hysteresis`.
    Below {
        /// Threshold in the metric's canonical unit.
        threshold: f64,
        /// Clearing band (>= 0).
        #[serde(default)]
        hysteresis: f64,
    },
    /// No reading from a sensor in scope for longer than `for_ms`.
    Stale,
}

/// How serious the alarms of a rule are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeverityDto {
    /// For information.
    Info,
    /// Needs attention.
    Warning,
    /// Needs action now.
    Critical,
}

/// The incident a raised alarm opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentTemplateDto {
    /// Incident type (`air_quality`, `flooding`, `sensor_fault`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// `P1` ... `P4`.
    pub priority: String,
    /// Team that owns it.
    #[serde(default)]
    pub team: Option<String>,
}

/// A rule as written by clients (`POST`, `PUT`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    /// Name shown to operators.
    pub name: String,
    /// What it watches.
    pub scope: ScopeDto,
    /// Metric (stale rules: any name, e.g. `last_seen`).
    pub metric: String,
    /// The condition.
    pub condition: ConditionDto,
    /// How long the condition must hold before the alarm raises, ms.
    #[serde(default)]
    pub for_ms: u64,
    /// Severity.
    pub severity: SeverityDto,
    /// The incident a raised alarm opens (none: alarm only).
    #[serde(default)]
    pub incident: Option<IncidentTemplateDto>,
    /// Disabled rules raise nothing and clear their alarms.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// A stored rule.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RuleDto {
    /// Rule id.
    pub id: String,
    /// The rule.
    #[serde(flatten)]
    pub rule: RuleBody,
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::Unprocessable(msg.into())
}

impl RuleBody {
    /// The engine's rule with id `id`, validated.
    pub fn to_rule(&self, id: u64) -> Result<AlarmRule, ApiError> {
        let scope = match &self.scope {
            ScopeDto::Sensor { sensor } => Scope::Sensor {
                sensor: SensorId::new(sensor).map_err(|e| bad(format!("scope.sensor: {e}")))?,
            },
            ScopeDto::SensorKind { kind } => Scope::SensorKind {
                kind: SensorKind::parse(kind).ok_or_else(|| {
                    bad(format!(
                        "scope.kind {kind:?} is not a sensor kind ({})",
                        SensorKind::ALL.map(SensorKind::as_str).join(", ")
                    ))
                })?,
            },
            ScopeDto::Entity { entity } => Scope::Entity {
                entity: EntityId::new(entity).map_err(|e| bad(format!("scope.entity: {e}")))?,
            },
            ScopeDto::Cells { res } => Scope::Cells { res: *res },
            ScopeDto::EntityKind { kind } => Scope::EntityKind {
                kind: EntityKind::ALL
                    .into_iter()
                    .find(|k| k.type_name().eq_ignore_ascii_case(kind))
                    .ok_or_else(|| {
                        bad(format!(
                            "scope.kind {kind:?} is not an entity type ({})",
                            EntityKind::ALL.map(EntityKind::type_name).join(", ")
                        ))
                    })?,
            },
        };
        let condition = match self.condition {
            ConditionDto::Above {
                threshold,
                hysteresis,
            } => Condition::Above {
                threshold,
                hysteresis,
            },
            ConditionDto::Below {
                threshold,
                hysteresis,
            } => Condition::Below {
                threshold,
                hysteresis,
            },
            ConditionDto::Stale => Condition::Stale,
        };
        let incident = match &self.incident {
            None => None,
            Some(t) => {
                if t.kind.trim().is_empty() || t.kind.len() > 64 {
                    return Err(bad("incident.type must be 1-64 characters"));
                }
                let priority = parse_priority(&t.priority).ok_or_else(|| {
                    bad(format!("incident.priority {:?} is not P1-P4", t.priority))
                })?;
                template(&t.kind, priority, t.team.as_deref())
            }
        };
        if self.name.len() > 200 {
            return Err(bad("name is longer than 200 characters"));
        }
        let rule = AlarmRule {
            id,
            name: self.name.clone(),
            scope,
            metric: Metric::new(&self.metric).map_err(|e| bad(format!("metric: {e}")))?,
            condition,
            for_ms: self.for_ms,
            severity: match self.severity {
                SeverityDto::Info => Severity::Info,
                SeverityDto::Warning => Severity::Warning,
                SeverityDto::Critical => Severity::Critical,
            },
            incident,
            enabled: self.enabled,
        };
        rule.validate().map_err(|e| bad(e.to_string()))?;
        Ok(rule)
    }

    /// The wire form of an engine rule.
    pub fn of(r: &AlarmRule) -> Self {
        Self {
            name: r.name.clone(),
            scope: match &r.scope {
                Scope::Sensor { sensor } => ScopeDto::Sensor {
                    sensor: sensor.to_string(),
                },
                Scope::SensorKind { kind } => ScopeDto::SensorKind {
                    kind: kind.as_str().into(),
                },
                Scope::Entity { entity } => ScopeDto::Entity {
                    entity: entity.to_string(),
                },
                Scope::Cells { res } => ScopeDto::Cells { res: *res },
                Scope::EntityKind { kind } => ScopeDto::EntityKind {
                    kind: kind.type_name().into(),
                },
            },
            metric: r.metric.to_string(),
            condition: match r.condition {
                Condition::Above {
                    threshold,
                    hysteresis,
                } => ConditionDto::Above {
                    threshold,
                    hysteresis,
                },
                Condition::Below {
                    threshold,
                    hysteresis,
                } => ConditionDto::Below {
                    threshold,
                    hysteresis,
                },
                Condition::Stale => ConditionDto::Stale,
            },
            for_ms: r.for_ms,
            severity: match r.severity {
                Severity::Info => SeverityDto::Info,
                Severity::Warning => SeverityDto::Warning,
                Severity::Critical => SeverityDto::Critical,
            },
            incident: r.incident.as_ref().map(|t| IncidentTemplateDto {
                kind: t.kind.clone(),
                priority: priority_str(t.priority).into(),
                team: t.team.clone(),
            }),
            enabled: r.enabled,
        }
    }
}

impl RuleDto {
    /// The wire form of an engine rule.
    pub fn of(r: &AlarmRule) -> Self {
        Self {
            id: r.id.to_string(),
            rule: RuleBody::of(r),
        }
    }
}

fn metric(s: &str) -> Metric {
    Metric::new(s).expect("default rule metrics are valid names")
}

/// An incident template of the `ops` crate, built through its serde form
/// (the type is not exported by name).
fn template<T: DeserializeOwned>(kind: &str, priority: Priority, team: Option<&str>) -> Option<T> {
    serde_json::from_value(serde_json::json!({
        "kind": kind, "priority": priority, "team": team,
    }))
    .ok()
}

/// The standard rule set, installed when the store holds no rules and
/// `[ops] default_rules` is on:
///
/// | id | rule | for | severity | incident |
/// |---|---|---|---|---|
/// | 1 | PM2.5 > 75 µg/m³ per air-quality sensor (clears < 70) | 10 min | warning | `air_quality` P2, team `environment` |
/// | 2 | PM2.5 > 75 µg/m³, mean of a resolution-9 cell (clears < 70) | 10 min | warning | `air_quality` P2, team `environment` |
/// | 3 | water level > 2.2 m (clears < 2.1) | 2 min | critical | `flooding` P1, team `water` |
/// | 4 | detector occupancy > 80 % (clears < 70) | 5 min | warning | `traffic_congestion` P3, team `traffic` |
/// | 5-10 | a sensor of each measuring kind silent for 15 min | - | warning | `sensor_fault` P4, team `iot-maintenance` |
/// | 11 | feeder loading (largest transformer or line, live power flow) > 100 % (clears < 95) | 15 min | critical | `power_overload` P2, team `grid-team` |
/// | 12 | feeder loading > 80 % (clears < 75) | 15 min | warning | - |
/// | 13 | lowest feeder bus voltage < 0.93 pu (clears > 0.935) | 5 min | critical | `power_quality` P3, team `grid-team` |
/// | 14 | highest feeder bus voltage > 1.07 pu (clears < 1.065) | 5 min | critical | `power_quality` P3, team `grid-team` |
///
/// Rules 11-14 watch the values the live feeder power flows derive for
/// every `Feeder` entity (scope `entity_kind`); ±7 % is the GB/T 12325
/// band for three-phase supply at 20 kV and below.
///
/// 75 µg/m³ is the upper bound of China's GB 3095-2012 grade II 24-hour
/// PM2.5 limit (the "lightly polluted" AQI band starts there).
pub fn default_rules() -> Vec<AlarmRule> {
    let pm25 = |id: u64, name: &str, scope: Scope| AlarmRule {
        id,
        name: name.into(),
        scope,
        metric: metric("pm25"),
        condition: Condition::Above {
            threshold: 75.0,
            hysteresis: 5.0,
        },
        for_ms: 600_000,
        severity: Severity::Warning,
        incident: template("air_quality", Priority::P2, Some("environment")),
        enabled: true,
    };
    let mut rules = vec![
        pm25(
            1,
            "PM2.5 above 75 µg/m³ for 10 min (sensor)",
            Scope::SensorKind {
                kind: SensorKind::AirQuality,
            },
        ),
        pm25(
            2,
            "PM2.5 above 75 µg/m³ for 10 min (H3 cell, res 9)",
            Scope::Cells { res: 9 },
        ),
        AlarmRule {
            id: 3,
            name: "Water level above 2.2 m for 2 min".into(),
            scope: Scope::SensorKind {
                kind: SensorKind::WaterLevel,
            },
            metric: metric("water_level"),
            condition: Condition::Above {
                threshold: 2.2,
                hysteresis: 0.1,
            },
            for_ms: 120_000,
            severity: Severity::Critical,
            incident: template("flooding", Priority::P1, Some("water")),
            enabled: true,
        },
        AlarmRule {
            id: 4,
            name: "Detector occupancy above 80% for 5 min".into(),
            scope: Scope::SensorKind {
                kind: SensorKind::TrafficDetector,
            },
            metric: metric("occupancy"),
            condition: Condition::Above {
                threshold: 80.0,
                hysteresis: 10.0,
            },
            for_ms: 300_000,
            severity: Severity::Warning,
            incident: template("traffic_congestion", Priority::P3, Some("traffic")),
            enabled: true,
        },
    ];
    let stale_kinds = [
        SensorKind::TrafficDetector,
        SensorKind::AirQuality,
        SensorKind::EnergyMeter,
        SensorKind::PvInverter,
        SensorKind::WaterLevel,
        SensorKind::Other,
    ];
    for (i, kind) in stale_kinds.into_iter().enumerate() {
        rules.push(AlarmRule {
            id: 5 + i as u64,
            name: format!("Sensor silent for 15 min ({kind})"),
            scope: Scope::SensorKind { kind },
            metric: metric("last_seen"),
            condition: Condition::Stale,
            for_ms: 15 * 60_000,
            severity: Severity::Warning,
            incident: template("sensor_fault", Priority::P4, Some("iot-maintenance")),
            enabled: true,
        });
    }
    let feeder = |id: u64, name: &str, m: &str, condition, for_ms, severity, incident| AlarmRule {
        id,
        name: name.into(),
        scope: Scope::EntityKind {
            kind: EntityKind::Feeder,
        },
        metric: metric(m),
        condition,
        for_ms,
        severity,
        incident,
        enabled: true,
    };
    rules.extend([
        feeder(
            11,
            "Feeder loading above 100% for 15 min",
            crate::energy::METRIC_LOADING,
            Condition::Above {
                threshold: 100.0,
                hysteresis: 5.0,
            },
            15 * 60_000,
            Severity::Critical,
            template("power_overload", Priority::P2, Some("grid-team")),
        ),
        feeder(
            12,
            "Feeder loading above 80% for 15 min",
            crate::energy::METRIC_LOADING,
            Condition::Above {
                threshold: 80.0,
                hysteresis: 5.0,
            },
            15 * 60_000,
            Severity::Warning,
            None,
        ),
        feeder(
            13,
            "Feeder voltage below 0.93 pu for 5 min",
            crate::energy::METRIC_VM_MIN,
            Condition::Below {
                threshold: 0.93,
                hysteresis: 0.005,
            },
            5 * 60_000,
            Severity::Critical,
            template("power_quality", Priority::P3, Some("grid-team")),
        ),
        feeder(
            14,
            "Feeder voltage above 1.07 pu for 5 min",
            crate::energy::METRIC_VM_MAX,
            Condition::Above {
                threshold: 1.07,
                hysteresis: 0.005,
            },
            5 * 60_000,
            Severity::Critical,
            template("power_quality", Priority::P3, Some("grid-team")),
        ),
    ]);
    rules
}

/// The team an event report's category goes to: a fixed table, documented
/// in `docs/specs/http-api.md`; unknown categories go to the grid team.
pub fn team_for_category(category: &str) -> &'static str {
    match category {
        "pothole" | "road_damage" | "road" | "traffic_light" | "signal" => "roads",
        "flooding" | "water_leak" | "water" | "drainage" => "water",
        "streetlight" | "lighting" => "lighting",
        "noise" | "air_quality" | "pollution" | "smell" => "environment",
        "waste" | "garbage" | "litter" | "dumping" => "sanitation",
        "traffic" | "accident" | "illegal_parking" | "parking" => "traffic",
        "fire" | "smoke" => "fire",
        "sensor_fault" | "device" => "iot-maintenance",
        _ => "grid-team",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_are_valid_and_round_trip_through_the_wire_form() {
        let rules = default_rules();
        assert_eq!(rules.len(), 14);
        for r in &rules {
            r.validate().unwrap();
            let back = RuleBody::of(r).to_rule(r.id).unwrap();
            assert_eq!(&back, r);
        }
        let ids: Vec<u64> = rules.iter().map(|r| r.id).collect();
        assert_eq!(ids, (1..=14).collect::<Vec<_>>());
    }

    #[test]
    fn invalid_rules_are_unprocessable_with_the_reason() {
        let mut b = RuleBody::of(&default_rules()[0]);
        b.condition = ConditionDto::Above {
            threshold: 10.0,
            hysteresis: -1.0,
        };
        let e = b.to_rule(9).unwrap_err();
        assert!(matches!(&e, ApiError::Unprocessable(m) if m.contains("hysteresis")));
        let mut b = RuleBody::of(&default_rules()[0]);
        b.scope = ScopeDto::SensorKind {
            kind: "toaster".into(),
        };
        assert!(matches!(b.to_rule(9), Err(ApiError::Unprocessable(m)) if m.contains("toaster")));
        let mut b = RuleBody::of(&default_rules()[1]);
        b.condition = ConditionDto::Stale;
        assert!(matches!(b.to_rule(9), Err(ApiError::Unprocessable(m)) if m.contains("stale")));
    }
}
