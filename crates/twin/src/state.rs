//! The twin's state: persistent maps shared between the writer and its
//! snapshots. Cloning a [`State`] clones a few dozen pointers.

use std::sync::Arc;

use domain::{
    EntityId, EntityKind, EventReport, GatewayId, GatewaySpec, Metric, SensorId, SensorKind,
    Timestamp,
};
use geo::Rect;
use imbl::{OrdMap, OrdSet, Vector};

use crate::aggregate::CellAgg;
use crate::config::TwinConfig;
use crate::entity::Entity;
use crate::sensor::{SensorState, SensorStatus};
use crate::spatial::SpatialIndex;

/// Key of a per-cell aggregate: interned metric, resolution, H3 cell bits.
/// Ordered so that one (metric, resolution) is one contiguous range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct CellKey {
    pub(crate) metric: u32,
    pub(crate) res: u8,
    pub(crate) cell: u64,
}

/// A gateway and what the twin knows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayState {
    pub(crate) spec: GatewaySpec,
    pub(crate) online: Option<bool>,
    pub(crate) since: Option<Timestamp>,
    pub(crate) sensors: OrdSet<SensorId>,
}

impl GatewayState {
    pub(crate) fn new(spec: GatewaySpec) -> Self {
        Self {
            spec,
            online: None,
            since: None,
            sensors: OrdSet::new(),
        }
    }

    /// The registered gateway.
    pub fn spec(&self) -> &GatewaySpec {
        &self.spec
    }

    /// The last birth (`Some(true)`) or death (`Some(false)`) seen, if any.
    pub fn online(&self) -> Option<bool> {
        self.online
    }

    /// When the last birth or death happened.
    pub fn since(&self) -> Option<Timestamp> {
        self.since
    }

    /// Its sensors, in id order.
    pub fn sensors(&self) -> impl Iterator<Item = &SensorId> {
        self.sensors.iter()
    }
}

/// Running totals since the twin started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Observations applied (late ones included).
    pub observations: u64,
    /// Observations that arrived out of time order (applied).
    pub late: u64,
    /// Redelivered observations ignored.
    pub duplicates: u64,
    /// Observations of unknown sensors (dropped).
    pub unknown_sensor: u64,
    /// Observations with a non-finite value (dropped).
    pub invalid: u64,
    /// Event reports applied.
    pub events: u64,
    /// Entity upserts and removals applied.
    pub entity_changes: u64,
    /// Status changes (births and deaths) applied.
    pub status_changes: u64,
    pub(crate) by_kind: [u64; SensorKind::ALL.len()],
    pub(crate) by_status: [u64; SensorStatus::ALL.len()],
}

impl Totals {
    /// Observations applied from sensors of one kind.
    pub fn observations_of(&self, kind: SensorKind) -> u64 {
        self.by_kind[kind_index(kind)]
    }

    /// Observations per sensor kind, in kind order.
    pub fn observations_by_kind(&self) -> impl Iterator<Item = (SensorKind, u64)> + '_ {
        SensorKind::ALL
            .into_iter()
            .map(|k| (k, self.observations_of(k)))
    }

    /// Number of sensors in a status.
    pub fn sensors_with(&self, status: SensorStatus) -> u64 {
        self.by_status[status.index()]
    }

    /// Number of sensors.
    pub fn sensors(&self) -> u64 {
        self.by_status.iter().sum()
    }
}

pub(crate) fn kind_index(kind: SensorKind) -> usize {
    SensorKind::ALL
        .iter()
        .position(|&k| k == kind)
        .expect("ALL lists every sensor kind")
}

pub(crate) fn entity_kind_index(kind: EntityKind) -> usize {
    EntityKind::ALL
        .iter()
        .position(|&k| k == kind)
        .expect("ALL lists every entity kind")
}

pub(crate) type EntityMap = OrdMap<EntityId, Arc<Entity>>;

/// Everything a snapshot shows.
#[derive(Debug, Clone)]
pub(crate) struct State {
    pub(crate) config: Arc<TwinConfig>,
    pub(crate) name: Arc<str>,
    pub(crate) attribution: Option<Arc<str>>,
    pub(crate) bounds: Option<Rect<f64>>,
    /// One map per entity kind, in `EntityKind::ALL` order.
    pub(crate) entities: [EntityMap; EntityKind::ALL.len()],
    pub(crate) spatial: SpatialIndex,
    pub(crate) gateways: OrdMap<GatewayId, GatewayState>,
    /// Sensor id to its slot (ordered, for snapshot lookups and listing).
    pub(crate) sensor_ix: OrdMap<SensorId, u32>,
    /// Sensor states by slot; `None` once a sensor is removed (slots are
    /// never reused, so a slot index names one sensor for the twin's life).
    pub(crate) sensor_slots: Vector<Option<Arc<SensorState>>>,
    /// Interned metric names; a metric's index is its position.
    pub(crate) metrics: Arc<Vec<Metric>>,
    pub(crate) cells: OrdMap<CellKey, CellAgg>,
    pub(crate) events: Vector<Arc<EventReport>>,
    pub(crate) totals: Totals,
    pub(crate) version: u64,
    pub(crate) as_of: Timestamp,
    /// Whether a `Tick` has been applied: from then on only ticks move
    /// `as_of` (data times no longer do).
    pub(crate) clocked: bool,
}

impl State {
    pub(crate) fn entity(&self, id: &str) -> Option<&Arc<Entity>> {
        self.entities.iter().find_map(|m| m.get(id))
    }

    pub(crate) fn sensor(&self, id: &str) -> Option<&Arc<SensorState>> {
        let &i = self.sensor_ix.get(id)?;
        self.sensor_slots.get(i as usize)?.as_ref()
    }

    /// Every sensor, in id order.
    pub(crate) fn sensors(&self) -> impl Iterator<Item = &Arc<SensorState>> {
        self.sensor_ix
            .values()
            .filter_map(|&i| self.sensor_slots.get(i as usize).and_then(Option::as_ref))
    }

    pub(crate) fn metric_index(&self, metric: &str) -> Option<u32> {
        self.metrics
            .iter()
            .position(|m| m.as_str() == metric)
            .and_then(|i| u32::try_from(i).ok())
    }
}
