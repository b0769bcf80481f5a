//! Live governance indicators: the twin and the operations centre fill
//! `governance::LiveInputs`, planners' static inputs (annual statistics)
//! complete them, a builtin profile scores them, and a bounded history of the
//! composite index is kept (sampled about once a minute and persisted).
//!
//! The live bindings (metric id → how it is computed) are documented on
//! [`live_inputs`] and in `docs/specs/http-api.md`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use domain::{EntityKind, SensorKind, Timestamp};
use governance::{EntityInputs, InputValue, LiveInputs, Profile, Reference, Score};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::{IndicatorInputRecord, IndicatorSample, Store};
use twin::{SensorStatus, TwinSnapshot};
use utoipa::ToSchema;

use crate::ApiError;
use crate::livedata::{TrafficLive, is_fresh};
use crate::operations::OpsService;
use crate::util::iso;

/// The profile scored live and kept as history.
pub const DEFAULT_PROFILE: &str = "six-pillar";
/// Samples kept in memory (7 days at one a minute).
pub const HISTORY_CAP: usize = 7 * 1440;
/// Incident types counted as environmental for `eco_alarm_on_time_closure`.
pub const ECO_TYPES: &[&str] = &[
    "air_quality",
    "flooding",
    "noise",
    "water_quality",
    "pollution",
];

/// One node of the indicator tree: a pillar, a second-level block or an
/// indicator.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IndicatorNode {
    /// Id in the profile.
    pub id: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
    /// Level: 1 pillar, 2 second-level block, 3 indicator.
    pub level: u8,
    /// Score rate (得分率) in [0, 1]; `null` without enough data.
    pub score_rate: Option<f64>,
    /// Share of the node's weight with data.
    pub coverage: f64,
    /// Indicators only: the raw value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<f64>,
    /// Indicators only: its unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Indicators only: `live`, `static`, `static_fallback`, `scenario`, `formula`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<String>,
    /// Indicators only: the live metric it binds to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live_metric: Option<String>,
    /// Children, in profile order.
    #[schema(no_recursion)]
    pub children: Vec<IndicatorNode>,
}

/// The live scores of one profile.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IndicatorsDto {
    /// Profile name (`six-pillar`, `gbt-33356`, `iso-37122-live`).
    pub profile: String,
    /// Composite index in [0, 1].
    pub composite: Option<f64>,
    /// Stage reached (`starting`, `building`, `developing`, `leading`).
    pub stage: Option<String>,
    /// Share of the composite's weight with data.
    pub coverage: f64,
    /// Confidence in [0, 1] (coverage and data quality).
    pub confidence: f64,
    /// Missing-data policy applied.
    pub policy: String,
    /// When computed (RFC 3339).
    pub as_of: String,
    /// The first-level blocks with their subtrees.
    pub pillars: Vec<IndicatorNode>,
    /// The live inputs used, by metric id.
    #[schema(value_type = Object)]
    pub live_inputs: serde_json::Value,
    /// Missing or degenerate inputs, as governance reports them.
    pub warnings: usize,
}

/// A static input as entered by a planner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaticInput {
    /// Indicator (or deduction) id of a builtin profile.
    pub indicator: String,
    /// Year the figure describes.
    pub year: i32,
    /// The value in the indicator's unit.
    pub value: f64,
    /// Numerator of a ratio.
    #[serde(default)]
    pub numerator: Option<f64>,
    /// Denominator of a ratio.
    #[serde(default)]
    pub denominator: Option<f64>,
    /// Data quality 0-1 (default 1).
    #[serde(default)]
    pub quality: Option<f64>,
    /// Who entered it (set by the server).
    #[serde(default)]
    pub updated_by: Option<String>,
    /// When (set by the server).
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// The history of the composite index.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IndicatorHistory {
    /// Profile.
    pub profile: String,
    /// `[ts_ms, composite]`, oldest first (samples without a composite are left out).
    pub points: Vec<(i64, f64)>,
}

/// City-wide constants that change only with the entities, cached by
/// entity count.
#[derive(Debug, Clone, Copy, Default)]
struct CityConstants {
    entities: usize,
    built_cells: usize,
    road_length_m: f64,
    buildings: usize,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    profile: Profile,
    history: Mutex<VecDeque<(Timestamp, Option<f64>)>>,
    statics: Mutex<Vec<IndicatorInputRecord>>,
    constants: Mutex<Option<CityConstants>>,
    /// The live feeder power flows, once attached.
    energy: Mutex<Option<crate::energy::EnergyLive>>,
}

/// Live indicator scores and their history. Cheap to clone.
#[derive(Debug, Clone)]
pub struct IndicatorService {
    inner: Arc<Inner>,
}

fn profile(name: &str) -> Result<Profile, ApiError> {
    governance::builtin(name).map_err(|e| ApiError::NotFound(e.to_string()))
}

fn all_ids() -> Vec<String> {
    let mut v = Vec::new();
    for (name, _) in governance::BUILTIN_PROFILES {
        if let Ok(p) = governance::builtin(name) {
            v.extend(p.indicators().iter().map(|i| i.id.clone()));
            v.extend(p.deductions().iter().map(|d| d.id.clone()));
        }
    }
    v.sort();
    v.dedup();
    v
}

impl IndicatorService {
    /// Loads the static inputs and the last week of history.
    pub async fn load(store: Store) -> Result<Self, store::Error> {
        let statics = store.indicator_inputs().await?;
        let hist: VecDeque<(Timestamp, Option<f64>)> = store
            .indicator_samples(HISTORY_CAP as u32)
            .await?
            .into_iter()
            .map(|s| (s.at, s.composite))
            .collect();
        let p =
            governance::builtin(DEFAULT_PROFILE).expect("the builtin six-pillar profile is valid");
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                profile: p,
                history: Mutex::new(hist),
                statics: Mutex::new(statics),
                constants: Mutex::new(None),
                energy: Mutex::new(None),
            }),
        })
    }

    /// Binds the energy indicators to the live feeder power flows.
    pub fn attach_energy(&self, energy: &crate::energy::EnergyLive) {
        if let Ok(mut g) = self.inner.energy.lock() {
            *g = Some(energy.clone());
        }
    }

    fn feeders(&self) -> Vec<crate::energy::FeederLive> {
        self.inner
            .energy
            .lock()
            .ok()
            .and_then(|g| g.as_ref().map(crate::energy::EnergyLive::feeders))
            .unwrap_or_default()
    }

    fn constants(&self, snap: &TwinSnapshot) -> CityConstants {
        let n: usize = EntityKind::ALL.iter().map(|k| snap.entity_count(*k)).sum();
        if let Ok(c) = self.inner.constants.lock()
            && let Some(c) = *c
            && c.entities == n
        {
            return c;
        }
        let mut cells = std::collections::BTreeSet::new();
        let mut road_length_m = 0.0;
        for e in snap.entities() {
            if e.kind == EntityKind::Community || e.kind == EntityKind::Feeder {
                continue;
            }
            if let Some(p) = e.cell.parent(h3o::Resolution::Nine) {
                cells.insert(u64::from(p));
            }
            if let Some(r) = e.road() {
                road_length_m += r.length_m;
            }
        }
        let c = CityConstants {
            entities: n,
            built_cells: cells.len(),
            road_length_m,
            buildings: snap.entity_count(EntityKind::Building),
        };
        if let Ok(mut g) = self.inner.constants.lock() {
            *g = Some(c);
        }
        c
    }

    /// The live inputs of the city now. Bindings:
    ///
    /// - `sensor_online_share`: online sensors / registered sensors (ratio).
    /// - `sensor_coverage`: resolution-9 cells holding an online sensor /
    ///   resolution-9 cells holding any entity of the city (ratio).
    /// - `air_stations_count`: online air-quality sensors.
    /// - `pm25_mean`, `aqi_mean`: mean of the live `pm25` / `aqi` readings.
    /// - `renewable_share`: live PV output (`pv_power`) / live metered
    ///   demand (`power` of energy meters), capped at 1 (quality 0.8: meters
    ///   need not cover all demand).
    /// - `co2_intensity`: Σ CO₂ rate of the grid import / Σ consumption over
    ///   the feeders whose latest power flow ([`crate::energy`]) rests on a
    ///   live reading, kg/kWh (emission factor `CN-2022-national`); quality:
    ///   metered buildings / buildings of those feeders.
    /// - `smart_meter_share`: buildings observed by an online energy meter /
    ///   buildings (ratio).
    /// - `traffic_travel_time_index`: the city TTI of `/api/v1/traffic/live`.
    /// - `traffic_info_coverage`: length of road segments with a live speed /
    ///   road length (ratio).
    /// - `incident_on_time_closure`, `incident_response_time_min` (median,
    ///   minutes): incidents of the last 30 days.
    /// - `eco_alarm_on_time_closure`: the same over environmental incident
    ///   types ([`ECO_TYPES`]).
    /// - `typical_scenarios_live`: sensor kinds (traffic, air, energy, PV,
    ///   water, event reports) with at least one online sensor.
    ///
    /// Sensor-derived values carry as quality the share of online sensors
    /// without data-quality flags.
    pub fn live_inputs(
        &self,
        snap: &TwinSnapshot,
        all: &ops::IncidentMetrics,
        eco: &ops::IncidentMetrics,
        traffic: &TrafficLive,
        feeders: &[crate::energy::FeederLive],
    ) -> LiveInputs {
        let consts = self.constants(snap);
        let mut li = LiveInputs::new();
        let (mut online, mut total, mut clean) = (0usize, 0usize, 0usize);
        let mut cells = std::collections::BTreeSet::new();
        let mut kinds = std::collections::BTreeSet::new();
        let (mut aq, mut pm25, mut aqi) = (0usize, Vec::new(), Vec::new());
        let (mut pv_kw, mut demand_kw) = (0.0, 0.0);
        let mut metered = std::collections::BTreeSet::new();
        for s in snap.sensors() {
            total += 1;
            let h = s.health();
            if h.status != SensorStatus::Online {
                continue;
            }
            online += 1;
            clean += usize::from(h.flags.is_empty());
            let spec = s.spec();
            kinds.insert(spec.kind);
            if let Some(c) = s.cell().parent(h3o::Resolution::Nine) {
                cells.insert(u64::from(c));
            }
            if spec.kind == SensorKind::AirQuality {
                aq += 1;
            }
            if spec.kind == SensorKind::EnergyMeter
                && let Some(b) = &spec.observes
                && snap
                    .entity(b.as_str())
                    .is_some_and(|e| e.kind == EntityKind::Building)
            {
                metered.insert(b.clone());
            }
            for (m, r, _) in s.readings() {
                if !is_fresh(snap, r.ts) {
                    continue;
                }
                match (m.as_str(), spec.kind) {
                    ("pm25", _) => pm25.push(r.value),
                    ("aqi", _) => aqi.push(r.value),
                    ("pv_power", _) => pv_kw += r.value,
                    ("power", SensorKind::EnergyMeter) => demand_kw += r.value,
                    _ => {}
                }
            }
        }
        let q = if online > 0 {
            clean as f64 / online as f64
        } else {
            0.0
        };
        let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        if total > 0 {
            li.set(
                "sensor_online_share",
                InputValue::from_counts(online as f64, total as f64),
            );
        }
        if consts.built_cells > 0 {
            li.set(
                "sensor_coverage",
                InputValue::from_counts(cells.len() as f64, consts.built_cells as f64)
                    .with_quality(q),
            );
        }
        li.set("air_stations_count", InputValue::new(aq as f64));
        if let Some(v) = mean(&pm25) {
            li.set("pm25_mean", InputValue::new(v).with_quality(q));
        }
        if let Some(v) = mean(&aqi) {
            li.set("aqi_mean", InputValue::new(v).with_quality(q));
        }
        if demand_kw > 0.0 {
            li.set(
                "renewable_share",
                InputValue::new((pv_kw / demand_kw).clamp(0.0, 1.0)).with_quality(0.8 * q),
            );
        }
        let (mut co2, mut load, mut metered_b, mut total_b) = (0.0, 0.0, 0usize, 0usize);
        for f in feeders {
            if let Some((t, s)) = &f.state
                && is_fresh(snap, *t)
            {
                co2 += s.low_carbon.grid_co2_kg_per_h;
                load += s.load_kw;
                metered_b += f.metered;
                total_b += f.twin.building_bus.len();
            }
        }
        if load > 0.0 && total_b > 0 {
            li.set(
                "co2_intensity",
                InputValue::new(co2 / load)
                    .with_quality((metered_b as f64 / total_b as f64).min(1.0)),
            );
        }
        if consts.buildings > 0 {
            li.set(
                "smart_meter_share",
                InputValue::from_counts(metered.len() as f64, consts.buildings as f64),
            );
        }
        if let Some(tti) = traffic.tti {
            li.set(
                "traffic_travel_time_index",
                InputValue::new(tti).with_quality(q),
            );
        }
        if consts.road_length_m > 0.0 {
            let live_len: f64 = crate::livedata::road_live(snap)
                .iter()
                .filter(|(_, l)| l.speed_kmh.is_some())
                .filter_map(|(id, _)| snap.entity(id.as_str()).and_then(|e| e.road()))
                .map(|r| r.length_m)
                .sum();
            li.set(
                "traffic_info_coverage",
                InputValue::from_counts(live_len, consts.road_length_m),
            );
        }
        let closure = |m: &ops::IncidentMetrics| {
            let done = m.total - m.backlog;
            let den = (done + m.overdue) as f64;
            (den > 0.0).then(|| InputValue::from_counts(m.on_time_closure_rate * den, den))
        };
        if let Some(v) = closure(all) {
            li.set("incident_on_time_closure", v);
        }
        if all.response_time_s.count > 0 {
            li.set(
                "incident_response_time_min",
                InputValue::new(all.response_time_s.p50 / 60.0),
            );
        }
        if let Some(v) = closure(eco) {
            li.set("eco_alarm_on_time_closure", v);
        }
        let scenario_kinds = kinds.iter().filter(|k| **k != SensorKind::Other).count();
        li.set(
            "typical_scenarios_live",
            InputValue::new(scenario_kinds as f64),
        );
        li
    }

    fn statics(&self) -> BTreeMap<String, InputValue> {
        let mut out: BTreeMap<String, (i32, InputValue)> = BTreeMap::new();
        if let Ok(g) = self.inner.statics.lock() {
            for r in g.iter() {
                let v = InputValue {
                    value: r.value,
                    quality: r.quality.clamp(0.0, 1.0),
                    ratio: r.numerator.zip(r.denominator),
                    weight: 1.0,
                };
                match out.get(&r.indicator) {
                    Some((y, _)) if *y >= r.year => {}
                    _ => {
                        out.insert(r.indicator.clone(), (r.year, v));
                    }
                }
            }
        }
        out.into_iter().map(|(k, (_, v))| (k, v)).collect()
    }

    /// The inputs of the city: live values and the latest static inputs.
    pub async fn inputs(
        &self,
        snap: &TwinSnapshot,
        ops: &OpsService,
        now: Timestamp,
    ) -> EntityInputs {
        let all = ops.metrics(now).await;
        let eco = ops
            .metrics_where(now, |i| ECO_TYPES.contains(&i.kind.as_str()))
            .await;
        let traffic = crate::livedata::traffic_live(snap);
        EntityInputs {
            statics: self.statics(),
            live: self.live_inputs(snap, &all, &eco, &traffic, &self.feeders()),
            scenario: BTreeMap::new(),
        }
    }

    /// Scores the city with a builtin profile.
    pub async fn score(
        &self,
        snap: &TwinSnapshot,
        ops: &OpsService,
        profile_name: &str,
        now: Timestamp,
    ) -> Result<IndicatorsDto, ApiError> {
        let p = if profile_name == DEFAULT_PROFILE {
            self.inner.profile.clone()
        } else {
            profile(profile_name)?
        };
        let inputs = self.inputs(snap, ops, now).await;
        let score = governance::score(&p, &inputs, &Reference::none());
        Ok(to_dto(profile_name, &p, &score, &inputs, now))
    }

    /// Takes a sample of the default profile's composite: kept in memory
    /// (bounded) and persisted (one row a minute).
    pub async fn sample(
        &self,
        snap: &TwinSnapshot,
        ops: &OpsService,
        now: Timestamp,
    ) -> Result<IndicatorsDto, ApiError> {
        let dto = self.score(snap, ops, DEFAULT_PROFILE, now).await?;
        let pillars: serde_json::Map<String, serde_json::Value> = dto
            .pillars
            .iter()
            .map(|p| (p.id.clone(), json!(p.score_rate)))
            .collect();
        self.inner
            .store
            .append_indicator_sample(&IndicatorSample {
                at: now,
                composite: dto.composite,
                doc: serde_json::Value::Object(pillars),
            })
            .await?;
        if let Ok(mut h) = self.inner.history.lock() {
            h.push_back((now, dto.composite));
            while h.len() > HISTORY_CAP {
                h.pop_front();
            }
        }
        Ok(dto)
    }

    /// The latest `limit` samples of the composite, oldest first.
    pub fn history(&self, limit: usize) -> IndicatorHistory {
        let points = self
            .inner
            .history
            .lock()
            .map(|h| {
                let v: Vec<(i64, f64)> =
                    h.iter().filter_map(|(t, c)| c.map(|c| (t.0, c))).collect();
                let skip = v.len().saturating_sub(limit);
                v[skip..].to_vec()
            })
            .unwrap_or_default();
        IndicatorHistory {
            profile: DEFAULT_PROFILE.into(),
            points,
        }
    }

    /// Every static input.
    pub fn static_inputs(&self) -> Vec<StaticInput> {
        self.inner
            .statics
            .lock()
            .map(|g| {
                g.iter()
                    .map(|r| StaticInput {
                        indicator: r.indicator.clone(),
                        year: r.year,
                        value: r.value,
                        numerator: r.numerator,
                        denominator: r.denominator,
                        quality: Some(r.quality),
                        updated_by: Some(r.updated_by.clone()),
                        updated_at: Some(iso(r.updated_at)),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Stores static inputs (validated: a known indicator id of a builtin
    /// profile, finite numbers, quality in 0-1, a plausible year).
    pub async fn put_inputs(&self, inputs: &[StaticInput], who: &str) -> Result<(), ApiError> {
        let known = all_ids();
        let now = crate::util::now();
        let mut recs = Vec::with_capacity(inputs.len());
        for i in inputs {
            if known.binary_search(&i.indicator).is_err() {
                return Err(ApiError::Unprocessable(format!(
                    "{:?} is not an indicator or deduction id of a builtin profile",
                    i.indicator
                )));
            }
            if !(1900..=2200).contains(&i.year) {
                return Err(ApiError::Unprocessable(format!(
                    "year {} is outside 1900-2200",
                    i.year
                )));
            }
            let finite = |v: Option<f64>| v.is_none_or(f64::is_finite);
            if !i.value.is_finite() || !finite(i.numerator) || !finite(i.denominator) {
                return Err(ApiError::Unprocessable(format!(
                    "{}: values must be finite numbers",
                    i.indicator
                )));
            }
            let quality = i.quality.unwrap_or(1.0);
            if !(0.0..=1.0).contains(&quality) {
                return Err(ApiError::Unprocessable(format!(
                    "{}: quality {quality} is outside 0-1",
                    i.indicator
                )));
            }
            recs.push(IndicatorInputRecord {
                indicator: i.indicator.clone(),
                year: i.year,
                value: i.value,
                numerator: i.numerator,
                denominator: i.denominator,
                quality,
                updated_at: now,
                updated_by: who.to_owned(),
            });
        }
        self.inner.store.upsert_indicator_inputs(&recs).await?;
        let all = self.inner.store.indicator_inputs().await?;
        if let Ok(mut g) = self.inner.statics.lock() {
            *g = all;
        }
        Ok(())
    }

    /// Deletes one static input.
    pub async fn delete_input(&self, indicator: &str, year: i32) -> Result<bool, ApiError> {
        let found = self
            .inner
            .store
            .delete_indicator_input(indicator, year)
            .await?;
        let all = self.inner.store.indicator_inputs().await?;
        if let Ok(mut g) = self.inner.statics.lock() {
            *g = all;
        }
        Ok(found)
    }
}

fn to_dto(
    name: &str,
    p: &Profile,
    s: &Score,
    inputs: &EntityInputs,
    now: Timestamp,
) -> IndicatorsDto {
    let leaf = |ind: &governance::Indicator| {
        let l = s.leaf(&ind.id);
        IndicatorNode {
            id: ind.id.clone(),
            name_zh: ind.name_zh.clone(),
            name_en: ind.name_en.clone(),
            level: ind.level,
            score_rate: l.and_then(|l| l.normalised),
            coverage: if l.and_then(|l| l.normalised).is_some() {
                1.0
            } else {
                0.0
            },
            raw: l.and_then(|l| l.raw),
            unit: Some(ind.unit.clone()),
            provenance: l.and_then(|l| l.provenance).map(|p| {
                serde_json::to_value(p)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            }),
            live_metric: match &ind.source {
                governance::Source::Live { metric } => Some(metric.clone()),
                _ => None,
            },
            children: Vec::new(),
        }
    };
    fn block_node(
        b: &governance::Block,
        p: &Profile,
        s: &Score,
        leaf: &dyn Fn(&governance::Indicator) -> IndicatorNode,
    ) -> IndicatorNode {
        let mut children: Vec<IndicatorNode> = p
            .blocks()
            .iter()
            .filter(|c| c.parent.as_deref() == Some(b.id.as_str()))
            .map(|c| block_node(c, p, s, leaf))
            .collect();
        children.extend(
            p.indicators()
                .iter()
                .filter(|i| i.parent == b.id && !i.auxiliary)
                .map(leaf),
        );
        let bs = s.block(&b.id);
        IndicatorNode {
            id: b.id.clone(),
            name_zh: b.name_zh.clone(),
            name_en: b.name_en.clone(),
            level: b.level,
            score_rate: bs.and_then(|x| x.rate),
            coverage: bs.map_or(0.0, |x| x.coverage),
            raw: None,
            unit: None,
            provenance: None,
            live_metric: None,
            children,
        }
    }
    let pillars = p
        .pillars()
        .into_iter()
        .map(|b| block_node(b, p, s, &leaf))
        .collect();
    IndicatorsDto {
        profile: name.to_owned(),
        composite: s.composite,
        stage: s.stage.clone(),
        coverage: s.coverage,
        confidence: s.confidence,
        policy: serde_json::to_value(s.policy)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        as_of: iso(now),
        pillars,
        live_inputs: serde_json::to_value(&inputs.live).unwrap_or_default(),
        warnings: s.warnings.len(),
    }
}
