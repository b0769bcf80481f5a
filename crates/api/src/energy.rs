//! The energy engine's live link: a power flow per twin feeder, fed by the
//! smart meters and PV inverters of the buildings it supplies.
//!
//! [`EnergyLive::on_snapshot`] is called with each new twin snapshot. The
//! feeder networks ([`engine_energy::feeder_networks`]) are built once per
//! city (rebuilt when the count of feeders or buildings changes). A feeder
//! is solved again when [`EnergyLive::THROTTLE_MS`] of data time has passed
//! since its last power flow and a building of it has a live reading newer
//! than that flow; the flows run on the blocking pool, never on the async
//! runtime.
//!
//! Readings: a live (`is_fresh`) `power` of an energy meter observing a
//! building is that building's consumption; a live `pv_power` of a PV
//! inverter observing it, its generation. A building without a live reading
//! keeps its previous value (at first: zero).
//!
//! Each solved state yields the feeder's derived values, returned to the
//! caller for the operations centre's alarm rules (`entity_kind` scope
//! `Feeder`): [`METRIC_LOADING`] (largest transformer or line loading, %),
//! [`METRIC_VM_MIN`] and [`METRIC_VM_MAX`] (pu).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use domain::{EntityId, EntityKind, Metric, SensorKind, Timestamp};
use engine_energy::{LiveFeeder, LiveReadings, LiveState, TwinFeeder, feeder_networks};
use twin::{SensorStatus, TwinSnapshot};

use crate::livedata::is_fresh;

/// Largest transformer or line loading of a feeder, %.
pub const METRIC_LOADING: &str = "feeder_loading";
/// Lowest bus voltage of a feeder, pu.
pub const METRIC_VM_MIN: &str = "feeder_vm_min";
/// Highest bus voltage of a feeder, pu.
pub const METRIC_VM_MAX: &str = "feeder_vm_max";

/// Emission factor of the low-carbon figures: `CN-2022-national` of
/// [`engine_energy::EMISSION_FACTORS`] (MEE, 0.5366 kg CO₂/kWh).
pub const EMISSION_FACTOR_ID: &str = "CN-2022-national";

fn emission_factor() -> f64 {
    engine_energy::emission_factor(EMISSION_FACTOR_ID).map_or(0.5366, |f| f.kg_per_kwh)
}

/// One feeder's network, live model and latest state.
#[derive(Debug, Clone)]
pub struct FeederLive {
    /// The network as built from the twin.
    pub twin: TwinFeeder,
    /// The latest state and the data time of its newest reading.
    pub state: Option<(Timestamp, LiveState)>,
    /// Data time of the last power flow.
    pub solved_at: Option<Timestamp>,
    /// Buildings with a live meter reading at the last flow.
    pub metered: usize,
    /// Buildings with a live PV reading at the last flow.
    pub pv: usize,
    /// Why the last flow failed, if it did.
    pub error: Option<String>,
}

impl FeederLive {
    /// Largest transformer or line loading, %.
    pub fn loading_max(&self) -> Option<f64> {
        let (_, s) = self.state.as_ref()?;
        Some(
            s.trafo_loading_percent
                .iter()
                .chain(&s.line_loading_percent)
                .map(|x| x.1)
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max),
        )
    }

    /// Lowest and highest bus voltage, pu.
    pub fn vm_range(&self) -> Option<(f64, f64)> {
        let (_, s) = self.state.as_ref()?;
        let v: Vec<f64> = s
            .vm_pu
            .iter()
            .map(|x| x.1)
            .filter(|v| v.is_finite())
            .collect();
        (!v.is_empty()).then(|| {
            (
                v.iter().copied().fold(f64::INFINITY, f64::min),
                v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            )
        })
    }
}

struct Slot {
    view: FeederLive,
    live: LiveFeeder,
}

#[derive(Default)]
struct Model {
    /// (feeders, buildings) of the city the networks were built from.
    built_for: Option<(usize, usize)>,
    /// Data time of the last pass over the sensors.
    last_pass: Option<Timestamp>,
    slots: BTreeMap<String, Slot>,
}

/// The live feeder states. Cheap to clone.
#[derive(Clone, Default)]
pub struct EnergyLive {
    model: Arc<Mutex<Model>>,
}

impl std::fmt::Debug for EnergyLive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnergyLive").finish_non_exhaustive()
    }
}

/// Live readings per feeder id, with the newest reading's time.
type Collected = BTreeMap<String, (LiveReadings, Timestamp, usize, usize)>;

fn collect(snap: &TwinSnapshot, building_feeder: &BTreeMap<String, String>) -> Collected {
    let mut out: Collected = BTreeMap::new();
    for s in snap.sensors() {
        let spec = s.spec();
        let metric = match spec.kind {
            SensorKind::EnergyMeter => "power",
            SensorKind::PvInverter => "pv_power",
            _ => continue,
        };
        if s.health().status == SensorStatus::Offline {
            continue;
        }
        let Some(b) = &spec.observes else { continue };
        let Some(f) = building_feeder.get(b.as_str()) else {
            continue;
        };
        for (m, r, _) in s.readings() {
            if m.as_str() != metric || !is_fresh(snap, r.ts) || !r.value.is_finite() {
                continue;
            }
            let e = out
                .entry(f.clone())
                .or_insert_with(|| (LiveReadings::default(), r.ts, 0, 0));
            e.1 = e.1.max(r.ts);
            let map = if spec.kind == SensorKind::EnergyMeter {
                e.2 += 1;
                &mut e.0.load_kw_by_building
            } else {
                e.3 += 1;
                &mut e.0.pv_kw_by_building
            };
            *map.entry(b.to_string()).or_default() += r.value;
        }
    }
    out
}

impl EnergyLive {
    /// Least data time between two power flows of one feeder, ms.
    pub const THROTTLE_MS: i64 = 60_000;

    /// An empty service; networks are built from the first snapshot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Solves the feeders due at this snapshot (on the blocking pool) and
    /// returns the derived values of the feeders just solved, for the
    /// alarm rules: `(feeder, Feeder, metric, value)`.
    pub async fn on_snapshot(
        &self,
        snap: &TwinSnapshot,
    ) -> Vec<(EntityId, EntityKind, Metric, f64)> {
        let model = self.model.clone();
        let snap = snap.clone();
        tokio::task::spawn_blocking(move || {
            let mut m = model
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            update(&mut m, &snap)
        })
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "Feeder power flows panicked.");
            Vec::new()
        })
    }

    /// The feeders' latest views, in id order.
    pub fn feeders(&self) -> Vec<FeederLive> {
        let m = self
            .model
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.slots.values().map(|s| s.view.clone()).collect()
    }

    /// One feeder's latest view.
    pub fn feeder(&self, id: &str) -> Option<FeederLive> {
        let m = self
            .model
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.slots.get(id).map(|s| s.view.clone())
    }
}

fn rebuild(m: &mut Model, snap: &TwinSnapshot, key: (usize, usize)) {
    m.slots.clear();
    let entities = snap
        .entities_of(EntityKind::Feeder)
        .chain(snap.entities_of(EntityKind::Building));
    let f = emission_factor();
    for t in feeder_networks(entities) {
        match LiveFeeder::new(
            &t.net,
            engine_energy::Limits::default(),
            f,
            t.building_bus.clone(),
        ) {
            Ok(live) => {
                m.slots.insert(
                    t.id.clone(),
                    Slot {
                        view: FeederLive {
                            twin: t,
                            state: None,
                            solved_at: None,
                            metered: 0,
                            pv: 0,
                            error: None,
                        },
                        live,
                    },
                );
            }
            Err(e) => {
                tracing::warn!(feeder = %t.id, error = %e, "Skipped a feeder whose network does not solve.");
            }
        }
    }
    m.built_for = Some(key);
    tracing::info!(feeders = m.slots.len(), "Built the live feeder networks.");
}

fn update(m: &mut Model, snap: &TwinSnapshot) -> Vec<(EntityId, EntityKind, Metric, f64)> {
    let key = (
        snap.entity_count(EntityKind::Feeder),
        snap.entity_count(EntityKind::Building),
    );
    if m.built_for != Some(key) {
        rebuild(m, snap, key);
    }
    let now = snap.as_of();
    // one O(sensors) pass per throttle interval of data time at most
    if m.slots.is_empty()
        || m.last_pass
            .is_some_and(|t| now.0 - t.0 < EnergyLive::THROTTLE_MS && now >= t)
    {
        return Vec::new();
    }
    m.last_pass = Some(now);
    let building_feeder: BTreeMap<String, String> = m
        .slots
        .iter()
        .flat_map(|(f, s)| {
            s.view
                .twin
                .building_bus
                .keys()
                .map(move |b| (b.clone(), f.clone()))
        })
        .collect();
    let mut out = Vec::new();
    for (fid, (readings, newest, metered, pv)) in collect(snap, &building_feeder) {
        let Some(slot) = m.slots.get_mut(&fid) else {
            continue;
        };
        let due = slot
            .view
            .solved_at
            .is_none_or(|t| now.0 - t.0 >= EnergyLive::THROTTLE_MS || now < t);
        let newer = slot.view.state.as_ref().is_none_or(|(t, _)| newest > *t);
        if !due || !newer {
            continue;
        }
        slot.view.solved_at = Some(now);
        slot.view.metered = metered;
        slot.view.pv = pv;
        match slot.live.update(&readings) {
            Ok(state) => {
                slot.view.error = None;
                slot.view.state = Some((newest, state));
                let Ok(entity) = EntityId::new(&fid) else {
                    continue;
                };
                let mut push = |name: &str, v: f64| {
                    if let Ok(metric) = Metric::new(name) {
                        out.push((entity.clone(), EntityKind::Feeder, metric, v));
                    }
                };
                if let Some(l) = slot.view.loading_max() {
                    push(METRIC_LOADING, l);
                }
                if let Some((lo, hi)) = slot.view.vm_range() {
                    push(METRIC_VM_MIN, lo);
                    push(METRIC_VM_MAX, hi);
                }
            }
            Err(e) => {
                tracing::warn!(feeder = %fid, error = %e, "Feeder power flow failed.");
                slot.view.error = Some(e.to_string());
            }
        }
    }
    out
}
