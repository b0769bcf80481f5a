//! The single writer: builds the state from a city and applies changes.

mod entities;
mod health;
mod observe;

pub use observe::EVENT_METRIC;

use std::collections::HashMap;
use std::ops::AddAssign;
use std::sync::Arc;

use domain::{EntityId, EntityKind, EventReport, Metric, Observation, StatusChange, Timestamp};
use imbl::{OrdMap, Vector};

use crate::city::{City, CityError};
use crate::config::{ConfigError, TwinConfig};
use crate::entity::{Entity, EntityError};
use crate::sensor::SensorStatus;
use crate::snapshot::TwinSnapshot;
use crate::spatial::{IdItem, SpatialIndex};
use crate::state::{EntityMap, GatewayState, State, Totals, entity_kind_index};

/// One change to the twin.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A validated observation.
    Observe(Observation),
    /// An event report (citizen call, app report, IoT alarm, patrol finding).
    Event(EventReport),
    /// A gateway or device came online or went offline.
    Status(StatusChange),
    /// An entity was added or replaced (a sensor entity also registers or
    /// updates the sensor).
    UpsertEntity(Entity),
    /// An entity was removed (a sensor entity also unregisters the sensor).
    RemoveEntity(EntityId),
    /// Data time has reached this instant: stale sensors are judged. Once a
    /// twin has seen a tick, only ticks move its `as_of`; before, the data
    /// times of observations, events and status changes do (replays and
    /// tests need no clock).
    Tick(Timestamp),
}

/// What applying changes did. Counts add up across calls (`+=`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyStats {
    /// Observations applied (late ones included).
    pub applied: u64,
    /// Of the applied observations, those older than their sensor's latest
    /// reading of the same metric.
    pub late: u64,
    /// Observations identical to their sensor's latest reading (same metric,
    /// time and value): redeliveries, ignored.
    pub duplicates: u64,
    /// Observations from sensors the twin does not know: dropped.
    pub unknown_sensor: u64,
    /// Observations whose value is NaN or infinite: dropped (the ingest
    /// path rejects them before; this keeps the aggregates sound anyway).
    pub invalid: u64,
    /// Event reports applied.
    pub events: u64,
    /// Sensors whose status changed.
    pub status_changes: u64,
    /// Status messages naming an unknown gateway or device: ignored.
    pub unknown_status: u64,
    /// Entities inserted or replaced.
    pub upserted: u64,
    /// Entities removed.
    pub removed: u64,
}

impl ApplyStats {
    /// Whether anything in the twin changed.
    pub fn changed(&self) -> bool {
        self.applied + self.events + self.status_changes + self.upserted + self.removed > 0
    }
}

impl AddAssign for ApplyStats {
    fn add_assign(&mut self, o: Self) {
        self.applied += o.applied;
        self.late += o.late;
        self.duplicates += o.duplicates;
        self.unknown_sensor += o.unknown_sensor;
        self.invalid += o.invalid;
        self.events += o.events;
        self.status_changes += o.status_changes;
        self.unknown_status += o.unknown_status;
        self.upserted += o.upserted;
        self.removed += o.removed;
    }
}

/// Why a change was refused. The twin is unchanged when `apply` fails.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    /// The upserted entity is malformed.
    #[error(transparent)]
    Entity(#[from] EntityError),
}

/// Why a twin could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TwinError {
    /// The configuration is invalid.
    #[error("invalid twin configuration: {0}")]
    Config(#[from] ConfigError),
    /// The city is inconsistent.
    #[error("invalid city: {0}")]
    City(#[from] CityError),
}

/// The live spatial twin of a city. One owner applies changes; readers take
/// [`snapshot`](Twin::snapshot)s, which are immutable and cheap.
///
/// ```
/// use domain::{Metric, Observation, SensorId, Timestamp};
/// use twin::{synthetic, Twin, TwinConfig};
///
/// let city = synthetic::generate(&synthetic::SyntheticSpec::small(7));
/// let mut twin = Twin::new(city, TwinConfig::default()).unwrap();
/// let sensor = twin.snapshot().sensors().find(|s| s.spec().metrics.iter().any(|m| m.as_str() == "pm25"))
///     .map(|s| s.spec().id.clone()).unwrap();
/// let before = twin.snapshot();
/// let stats = twin.apply_observations(&[Observation {
///     sensor, metric: Metric::new("pm25").unwrap(), ts: Timestamp(60_000), value: 12.5,
/// }]);
/// assert_eq!(stats.applied, 1);
/// assert_eq!(before.totals().observations, 0); // snapshots never change
/// assert_eq!(twin.snapshot().totals().observations, 1);
/// ```
#[derive(Debug)]
pub struct Twin {
    state: State,
    /// Writer-side lookup from metric name to its interned index (lookup
    /// only; never iterated).
    metric_ix: HashMap<Metric, u32>,
    /// Writer-side lookup from sensor id to its slot: one hash per
    /// observation instead of a tree walk comparing strings (lookup only;
    /// never iterated).
    sensor_lookup: HashMap<domain::SensorId, u32>,
}

impl Twin {
    /// Builds the twin of a city. Entities are re-placed at the configured
    /// base resolution if they were placed at another one.
    pub fn new(city: City, config: TwinConfig) -> Result<Self, TwinError> {
        let config = config.validated()?;
        city.check()?;
        let City {
            name,
            entities,
            registry,
            attribution,
            bounds,
        } = city;
        let mut maps: [EntityMap; EntityKind::ALL.len()] = Default::default();
        let mut items = Vec::with_capacity(entities.len());
        let gateways: OrdMap<_, _> = registry
            .gateways()
            .map(|g| (g.id.clone(), GatewayState::new(g.clone())))
            .collect();
        let mut specs = Vec::new();
        for mut e in entities {
            if e.cell.resolution() != config.base_resolution {
                e.place_at(config.base_resolution)
                    .map_err(CityError::from)?;
            }
            items.push(IdItem::new(e.id.clone(), e.kind, e.bounds()));
            if let Some(spec) = e.sensor() {
                specs.push(spec.clone());
            }
            maps[entity_kind_index(e.kind)].insert(e.id.clone(), Arc::new(e));
        }
        let mut twin = Self {
            state: State {
                config: Arc::new(config),
                name: Arc::from(name.as_str()),
                attribution: attribution.map(|a| Arc::from(a.as_str())),
                bounds,
                entities: maps,
                spatial: SpatialIndex::build(items),
                gateways,
                sensor_ix: OrdMap::new(),
                sensor_slots: Vector::new(),
                metrics: Arc::new(Vec::new()),
                cells: OrdMap::new(),
                events: Vector::new(),
                totals: Totals::default(),
                version: 0,
                as_of: Timestamp(i64::MIN),
                clocked: false,
            },
            metric_ix: HashMap::new(),
            sensor_lookup: HashMap::new(),
        };
        for spec in specs {
            twin.register_sensor(spec).map_err(CityError::from)?;
        }
        Ok(twin)
    }

    /// The configuration in force.
    pub fn config(&self) -> &TwinConfig {
        &self.state.config
    }

    /// Applies one change. On error the twin is unchanged.
    pub fn apply(&mut self, change: Change) -> Result<ApplyStats, ApplyError> {
        let as_of = self.state.as_of;
        let stats = match change {
            Change::Observe(o) => self.observe_batch(std::slice::from_ref(&o)),
            Change::Event(e) => self.event(e),
            Change::Status(s) => self.status(&s),
            Change::UpsertEntity(e) => self.upsert_entity(e)?,
            Change::RemoveEntity(id) => self.remove_entity(&id),
            Change::Tick(ts) => self.tick(ts),
        };
        self.finish(stats, as_of);
        Ok(stats)
    }

    /// Applies a batch of observations: the fast path. Each observation costs
    /// one sensor lookup and one aggregate update per roll-up resolution.
    pub fn apply_observations(&mut self, observations: &[Observation]) -> ApplyStats {
        let as_of = self.state.as_of;
        let stats = self.observe_batch(observations);
        self.finish(stats, as_of);
        stats
    }

    /// An immutable view of the twin as it is now. O(1): the snapshot shares
    /// structure with the writer, which copies only what it later changes.
    pub fn snapshot(&self) -> TwinSnapshot {
        TwinSnapshot::new(self.state.clone())
    }

    /// Incremented by every call that changed something (data time
    /// included).
    pub fn version(&self) -> u64 {
        self.state.version
    }

    fn finish(&mut self, stats: ApplyStats, as_of_before: Timestamp) {
        if stats.changed() || self.state.as_of != as_of_before {
            self.state.version += 1;
        }
    }

    /// Moves `as_of` to a data time, unless ticks drive it.
    fn advance(&mut self, ts: Timestamp) {
        if !self.state.clocked && ts > self.state.as_of {
            self.state.as_of = ts;
        }
    }

    fn set_status(&mut self, status_of: SensorStatus, to: SensorStatus) {
        self.state.totals.by_status[status_of.index()] -= 1;
        self.state.totals.by_status[to.index()] += 1;
    }
}
