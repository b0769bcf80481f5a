//! Community runs: an `engine_community::CitySpec` built from the twin's
//! communities and the operations centre's incidents, with the planner's
//! surges, staff change and SLA factor as its one variant.
//!
//! - **Types**: those of the incidents the operations centre holds, with
//!   their mean SLA; without incidents, [`DEFAULT_KINDS`].
//! - **Arrivals**: per community and type, the incidents held over the days
//!   they span; without incidents, [`DEFAULT_PER_10K_PER_DAY`] reports per
//!   10,000 residents a day (at least [`MIN_PER_DAY`] per community),
//!   shared equally among the types.
//! - **Teams**: one per community, handling every type, staffed around the
//!   clock with the workers that keep its offered load at or below
//!   [`TARGET_UTILISATION`].

use std::collections::BTreeMap;

use domain::{EntityKind, Priority, SimTime};
use engine_community::{
    ArrivalSpec, CityModel, CitySpec, DurationDist, KindSpec, PolicyChange, RunReport,
    ShiftCalendar, StaffChange, Surge, TeamSpec, Variant, flat,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use twin::TwinSnapshot;
use utoipa::ToSchema;

use super::{
    Better, Control, KpiDef, Outcome, Phase, RunResult, RunSpec, Stop, bad_field, drive, geometry,
    in_range, kpi_rows, parse_variant,
};
use crate::ApiError;

/// `(default, min, max)` horizon, s: a week, from an hour to four weeks.
pub(crate) const HORIZON_S: (u64, u64, u64) = (604_800, 3600, 2_419_200);

/// Types used when the operations centre holds no incident:
/// `(name, priority, SLA h, mean handling time h)`.
pub const DEFAULT_KINDS: &[(&str, Priority, f64, f64)] = &[
    ("pothole", Priority::P3, 72.0, 2.0),
    ("streetlight", Priority::P3, 72.0, 1.0),
    ("waste", Priority::P3, 24.0, 1.0),
    ("noise", Priority::P4, 48.0, 0.5),
];
/// Reports per 10,000 residents a day without incident history.
pub const DEFAULT_PER_10K_PER_DAY: f64 = 5.0;
/// Fewest reports a day of a community without incident history.
pub const MIN_PER_DAY: f64 = 1.0;
/// Mean handling time of a type learned from incidents, h.
pub const LEARNED_SERVICE_H: f64 = 2.0;
/// Busy share a team is staffed for.
pub const TARGET_UTILISATION: f64 = 0.6;
/// Mean triage (REPORTED to DISPATCHED), h.
pub const DISPATCH_H: f64 = 0.25;

/// Extra demand over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurgeIn {
    /// Incident type, or `*` for every type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Arrival-rate multiplier, 0..=20.
    pub factor: f64,
    /// Start, s from the run start (default 0; whole hours are simulated:
    /// the window is widened to the hours it touches).
    #[serde(default)]
    pub from_s: Option<u64>,
    /// End, s (default: the horizon).
    #[serde(default)]
    pub to_s: Option<u64>,
}

/// The community what-if.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CommunityVariant {
    /// Demand surges.
    pub surge: Vec<SurgeIn>,
    /// Workers added to (negative: removed from) every community team.
    pub staff_delta: Option<i32>,
    /// Multiplier on every type's SLA (0.1..=10).
    pub sla_factor: Option<f64>,
}

/// A validated community run.
#[derive(Debug)]
pub(crate) struct Job {
    spec: CitySpec,
    snap: TwinSnapshot,
}

const VARIANT: &str = "variant";
const H: f64 = 3_600_000.0;

struct KindIn {
    name: String,
    priority: Priority,
    sla_h: f64,
    service_h: f64,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Types and arrivals per (community, type) a day.
#[allow(clippy::cast_precision_loss)]
fn demand(
    communities: &[(String, f64)],
    incidents: &[ops::Incident],
) -> (Vec<KindIn>, BTreeMap<(String, String), f64>) {
    let known: BTreeMap<&str, ()> = communities.iter().map(|(c, _)| (c.as_str(), ())).collect();
    let held: Vec<&ops::Incident> = incidents
        .iter()
        .filter(|i| {
            i.community
                .as_ref()
                .is_some_and(|c| known.contains_key(c.as_str()))
        })
        .collect();
    let mut rates = BTreeMap::new();
    if held.is_empty() {
        let kinds: Vec<KindIn> = DEFAULT_KINDS
            .iter()
            .map(|&(n, p, sla, svc)| KindIn {
                name: n.into(),
                priority: p,
                sla_h: sla,
                service_h: svc,
            })
            .collect();
        for (c, pop) in communities {
            let per_day = (pop / 10_000.0 * DEFAULT_PER_10K_PER_DAY).max(MIN_PER_DAY);
            for k in &kinds {
                rates.insert(
                    (c.clone(), k.name.clone()),
                    round3(per_day / kinds.len() as f64),
                );
            }
        }
        return (kinds, rates);
    }
    let t0 = held.iter().map(|i| i.created_at.0).min().unwrap_or(0);
    let t1 = held.iter().map(|i| i.created_at.0).max().unwrap_or(0);
    let days = ((t1 - t0) as f64 / (24.0 * H)).max(1.0);
    // per type: (sum of SLA h, count, most urgent priority)
    let mut by_kind: BTreeMap<String, (f64, f64, Priority)> = BTreeMap::new();
    for i in &held {
        let e = by_kind
            .entry(i.kind.clone())
            .or_insert((0.0, 0.0, i.priority));
        e.0 += ((i.sla_due.0 - i.created_at.0) as f64 / H).max(0.25);
        e.1 += 1.0;
        e.2 = e.2.min(i.priority);
        if let Some(c) = &i.community {
            *rates.entry((c.to_string(), i.kind.clone())).or_insert(0.0) += 1.0 / days;
        }
    }
    for r in rates.values_mut() {
        *r = round3(*r);
    }
    let kinds = by_kind
        .into_iter()
        .map(|(name, (sla, n, p))| KindIn {
            name,
            priority: p,
            sla_h: round3(sla / n),
            service_h: LEARNED_SERVICE_H,
        })
        .collect();
    (kinds, rates)
}

/// Builds the spec and checks the variant against it.
pub(crate) fn plan(
    spec: &RunSpec,
    snap: &TwinSnapshot,
    incidents: &[ops::Incident],
) -> Result<Job, ApiError> {
    let v: CommunityVariant = parse_variant(&spec.variant)?;
    let communities: Vec<(String, f64)> = snap
        .entities_of(EntityKind::Community)
        .map(|e| {
            let pop = match &e.attrs {
                twin::EntityAttrs::Community(c) => c.population_est.max(0.0),
                _ => 0.0,
            };
            (e.id.to_string(), pop)
        })
        .collect();
    if communities.is_empty() {
        return Err(ApiError::Unprocessable(
            "engine: the twin has no community to simulate".into(),
        ));
    }
    let (kinds, rates) = demand(&communities, incidents);
    let service: BTreeMap<&str, f64> = kinds
        .iter()
        .map(|k| (k.name.as_str(), k.service_h))
        .collect();
    let team = |c: &str| format!("team {c}");
    let teams = communities
        .iter()
        .map(|(c, _)| {
            let load: f64 = rates
                .iter()
                .filter(|((rc, _), _)| rc == c)
                .map(|((_, k), per_day)| {
                    per_day / 24.0 * (service.get(k.as_str()).unwrap_or(&1.0) + DISPATCH_H)
                })
                .sum();
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let workers = (load / TARGET_UTILISATION).ceil().max(1.0) as u32;
            TeamSpec {
                name: team(c),
                community: Some(c.clone()),
                kinds: kinds.iter().map(|k| k.name.clone()).collect(),
                shifts: ShiftCalendar::Constant(workers),
            }
        })
        .collect();
    let horizon_h = spec.horizon_s.div_ceil(3600);
    let mut variant = Variant {
        name: VARIANT.into(),
        ..Variant::default()
    };
    for (i, s) in v.surge.iter().enumerate() {
        let f = format!("variant.surge[{i}]");
        let factor = in_range(&format!("{f}.factor"), s.factor, 0.0, 20.0)?;
        let from_h = s.from_s.unwrap_or(0) / 3600;
        let to_h = s.to_s.map_or(horizon_h, |t| t.div_ceil(3600));
        if to_h <= from_h {
            return Err(bad_field(&f, "to_s must be after from_s"));
        }
        let names: Vec<String> = if s.kind == "*" {
            kinds.iter().map(|k| k.name.clone()).collect()
        } else if kinds.iter().any(|k| k.name == s.kind) {
            vec![s.kind.clone()]
        } else {
            let known: Vec<&str> = kinds.iter().map(|k| k.name.as_str()).collect();
            return Err(bad_field(
                &format!("{f}.type"),
                format!(
                    "no incident type {:?} (known: {}, or *)",
                    s.kind,
                    known.join(", ")
                ),
            ));
        };
        for kind in names {
            variant.surges.push(Surge {
                kind,
                community: None,
                from_h,
                to_h,
                factor,
            });
        }
    }
    if let Some(d) = v.staff_delta {
        if !(-100..=100).contains(&d) {
            return Err(bad_field(
                "variant.staff_delta",
                format!("{d} is not in -100..=100"),
            ));
        }
        for (c, _) in &communities {
            variant.staff.push(StaffChange {
                team: team(c),
                delta: d,
                from_h: None,
                to_h: None,
            });
        }
    }
    if let Some(f) = v.sla_factor {
        let f = in_range("variant.sla_factor", f, 0.1, 10.0)?;
        for k in &kinds {
            variant.policy.push(PolicyChange {
                kind: k.name.clone(),
                sla_h: Some(k.sla_h * f),
                priority: None,
            });
        }
    }
    let city = CitySpec {
        seed: spec.seed,
        horizon_h,
        start_hour_of_week: 0,
        communities: communities.iter().map(|(c, _)| c.clone()).collect(),
        profiles: BTreeMap::new(),
        kinds: kinds
            .iter()
            .map(|k| KindSpec {
                name: k.name.clone(),
                priority: k.priority,
                sla_h: Some(k.sla_h),
                service: DurationDist::Exponential {
                    mean_h: k.service_h,
                },
                dispatch: Some(DurationDist::Exponential { mean_h: DISPATCH_H }),
                verify: None,
                channels: BTreeMap::new(),
            })
            .collect(),
        teams,
        arrivals: rates
            .iter()
            .filter(|(_, r)| **r > 0.0)
            .map(|((c, k), r)| ArrivalSpec {
                community: c.clone(),
                kind: k.clone(),
                per_day: Some(*r),
                profile: None,
                hourly: None,
            })
            .collect(),
        replay: Vec::new(),
        variants: vec![variant],
    };
    city.validate()
        .map_err(|e| ApiError::Unprocessable(format!("variant: {e}")))?;
    Ok(Job {
        spec: city,
        snap: snap.clone(),
    })
}

const KPIS: &[KpiDef] = &[
    KpiDef {
        id: "on_time_closure_rate",
        name: "On-time closure rate",
        unit: "ratio",
        better: Better::Higher,
    },
    KpiDef {
        id: "closure_rate",
        name: "Closure rate",
        unit: "ratio",
        better: Better::Higher,
    },
    KpiDef {
        id: "response_mean_h",
        name: "Mean response time",
        unit: "h",
        better: Better::Lower,
    },
    KpiDef {
        id: "resolution_mean_h",
        name: "Mean resolution time",
        unit: "h",
        better: Better::Lower,
    },
    KpiDef {
        id: "resolution_p90_h",
        name: "Resolution time, 90th percentile",
        unit: "h",
        better: Better::Lower,
    },
    KpiDef {
        id: "backlog",
        name: "Open incidents at the end",
        unit: "incidents",
        better: Better::Lower,
    },
    KpiDef {
        id: "overdue",
        name: "Overdue incidents at the end",
        unit: "incidents",
        better: Better::Lower,
    },
    KpiDef {
        id: "requests",
        name: "Incidents reported",
        unit: "incidents",
        better: Better::Lower,
    },
];

fn one(
    job: &Job,
    variant: Option<&str>,
    ctl: &Control,
    phase: Phase,
    span: (f64, f64),
) -> Result<RunReport, Stop> {
    let mut sched = scenario::Scheduler::new();
    let mut model =
        CityModel::new(&job.spec, variant, &mut sched).map_err(|e| Stop::Failed(e.to_string()))?;
    let h = SimTime::from_millis(job.spec.horizon_h * 3_600_000);
    drive(&mut model, &mut sched, h, ctl, phase, span)?;
    Ok(model.report())
}

/// Runs the baseline and the variant.
pub(crate) fn run(job: &Job, ctl: &Control) -> Result<Outcome, Stop> {
    let b = one(job, None, ctl, Phase::Baseline, (0.0, 0.5))?;
    let v = one(job, Some(VARIANT), ctl, Phase::Variant, (0.5, 0.95))?;
    ctl.check(Phase::Compare, 0.95)?;
    let kpis = kpi_rows(KPIS, &flat(&b.kpis.city), &flat(&v.kpis.city));
    let rate = |r: &RunReport, c: &str| {
        r.kpis
            .by_community
            .get(c)
            .and_then(|k| k.on_time_closure_rate)
    };
    let features = job
        .spec
        .communities
        .iter()
        .filter_map(|c| {
            let e = job.snap.entity(c)?;
            let (base, var) = (rate(&b, c), rate(&v, c));
            Some(json!({
                "type": "Feature",
                "geometry": geometry(&e.geometry),
                "properties": {
                    "id": c,
                    "name": e.name,
                    "metric": "on_time_closure_rate",
                    "baseline": base,
                    "variant": var,
                    "delta": base.zip(var).map(|(a, b)| b - a),
                },
            }))
        })
        .collect();
    let json = |r: &RunReport| serde_json::to_value(r).unwrap_or(Value::Null);
    Ok(Outcome {
        result: RunResult {
            kpis,
            baseline: json(&b),
            variant: json(&v),
        },
        features,
    })
}
