//! Immutable, cheaply cloned views of the twin, and the queries on them.

use std::sync::Arc;

use domain::{EntityKind, EventReport, Metric, Registry, Timestamp};
use geo::{Contains, Intersects, Point, Rect};
use h3o::{CellIndex, Resolution};

use crate::aggregate::{Stats, WindowStats};
use crate::config::TwinConfig;
use crate::entity::Entity;
use crate::geom;
use crate::sensor::{SensorState, SensorStatus};
use crate::state::{CellKey, GatewayState, State, Totals, entity_kind_index};

/// The twin as it was at one version. `Clone` is a pointer copy; nothing in
/// it ever changes, so engines and HTTP handlers read it while the writer
/// goes on. Every iteration order is deterministic (ids, then cells, sorted).
#[derive(Debug, Clone)]
pub struct TwinSnapshot {
    state: Arc<State>,
}

/// Why a query cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// Aggregates are not kept at this resolution.
    #[error("aggregates are not kept at resolution {res} (kept: {kept:?})")]
    ResolutionNotKept {
        /// The resolution asked for.
        res: u8,
        /// The roll-up resolutions.
        kept: Vec<u8>,
    },
}

/// The aggregate of one metric in one H3 cell, with windows aligned to the
/// snapshot's `as_of`.
#[derive(Debug, Clone, PartialEq)]
pub struct CellAggregate {
    /// The cell.
    pub cell: CellIndex,
    /// The metric.
    pub metric: Metric,
    /// The window holding `as_of` (empty if the cell has no data in it yet).
    pub current: WindowStats,
    /// The complete window before it.
    pub previous: WindowStats,
    /// Every reading since the twin started.
    pub total: Stats,
}

impl CellAggregate {
    /// The cell's resolution.
    pub fn resolution(&self) -> Resolution {
        self.cell.resolution()
    }

    /// The cell's centre (lon/lat).
    pub fn center(&self) -> Point<f64> {
        geom::cell_center(self.cell)
    }
}

impl TwinSnapshot {
    pub(crate) fn new(state: State) -> Self {
        Self {
            state: Arc::new(state),
        }
    }

    /// Incremented by every writer call that changed something.
    pub fn version(&self) -> u64 {
        self.state.version
    }

    /// Data time: the last `Tick` once the writer has seen one, else the
    /// latest observation, event or status time seen (`Timestamp(i64::MIN)`
    /// before any). Windows in [`cells`](Self::cells) are aligned to it.
    pub fn as_of(&self) -> Timestamp {
        self.state.as_of
    }

    /// The city's name.
    pub fn name(&self) -> &str {
        &self.state.name
    }

    /// Data attribution to display with the city.
    pub fn attribution(&self) -> Option<&str> {
        self.state.attribution.as_deref()
    }

    /// The area the city's data covers.
    pub fn bounds(&self) -> Option<Rect<f64>> {
        self.state.bounds
    }

    /// The configuration in force.
    pub fn config(&self) -> &TwinConfig {
        &self.state.config
    }

    // ---- entities ----

    /// One entity.
    pub fn entity(&self, id: &str) -> Option<&Entity> {
        self.state.entity(id).map(|e| &**e)
    }

    /// Every entity of one kind, in id order.
    pub fn entities_of(&self, kind: EntityKind) -> impl Iterator<Item = &Entity> {
        self.state.entities[entity_kind_index(kind)]
            .values()
            .map(|e| &**e)
    }

    /// Number of entities of one kind.
    pub fn entity_count(&self, kind: EntityKind) -> usize {
        self.state.entities[entity_kind_index(kind)].len()
    }

    /// Every entity, by kind then id.
    pub fn entities(&self) -> impl Iterator<Item = &Entity> {
        self.state
            .entities
            .iter()
            .flat_map(|m| m.values())
            .map(|e| &**e)
    }

    /// The entities of the given kinds (all kinds when `kinds` is empty)
    /// whose geometry intersects `bbox`, in id order. Uses the spatial index,
    /// then an exact intersection test.
    pub fn entities_in_bbox(&self, bbox: Rect<f64>, kinds: &[EntityKind]) -> Vec<&Entity> {
        let mut ids = self.state.spatial.query(bbox, kinds);
        ids.sort_unstable();
        ids.iter()
            .filter_map(|id| self.entity(id.as_str()))
            .filter(|e| e.geometry.intersects(&bbox))
            .collect()
    }

    // ---- sensors ----

    /// One sensor's live state.
    pub fn sensor(&self, id: &str) -> Option<&SensorState> {
        self.state.sensor(id).map(|s| &**s)
    }

    /// Every sensor, in id order.
    pub fn sensors(&self) -> impl Iterator<Item = &SensorState> {
        self.state.sensors().map(|s| &**s)
    }

    /// The sensors in one status, in id order.
    pub fn sensors_with(&self, status: SensorStatus) -> impl Iterator<Item = &SensorState> {
        self.sensors().filter(move |s| s.status == status)
    }

    /// One gateway.
    pub fn gateway(&self, id: &str) -> Option<&GatewayState> {
        self.state.gateways.get(id)
    }

    /// Every gateway, in id order.
    pub fn gateways(&self) -> impl Iterator<Item = &GatewayState> {
        self.state.gateways.values()
    }

    /// The registry (gateways and sensor specs) as it stands. O(sensors).
    pub fn to_registry(&self) -> Registry {
        Registry::new(
            self.gateways().map(|g| g.spec.clone()),
            self.sensors().map(|s| s.spec().clone()),
        )
    }

    // ---- aggregates ----

    /// Every metric seen, in order of first sight.
    pub fn metrics(&self) -> &[Metric] {
        &self.state.metrics
    }

    /// The aggregates of `metric` at `res` for the cells whose centre lies in
    /// `bbox` (every cell when `None`), in cell order.
    ///
    /// Cost: O(cells with data for this metric and resolution).
    pub fn cells(
        &self,
        res: Resolution,
        metric: &str,
        bbox: Option<Rect<f64>>,
    ) -> Result<Vec<CellAggregate>, QueryError> {
        self.check_res(res)?;
        let Some(mi) = self.state.metric_index(metric) else {
            return Ok(Vec::new());
        };
        let r = u8::from(res);
        let lo = CellKey {
            metric: mi,
            res: r,
            cell: 0,
        };
        let hi = CellKey {
            metric: mi,
            res: r,
            cell: u64::MAX,
        };
        let m = &self.state.metrics[mi as usize];
        Ok(self
            .state
            .cells
            .range(lo..=hi)
            .filter_map(|(k, agg)| {
                let cell = CellIndex::try_from(k.cell).ok()?;
                if let Some(b) = bbox {
                    let c = geom::cell_center(cell);
                    if !(b.contains(&c) || b.intersects(&c)) {
                        return None;
                    }
                }
                Some(self.aggregate(cell, m, agg))
            })
            .collect())
    }

    /// The aggregate of `metric` in one cell (at the cell's resolution).
    pub fn cell(&self, metric: &str, cell: CellIndex) -> Result<Option<CellAggregate>, QueryError> {
        self.check_res(cell.resolution())?;
        let Some(mi) = self.state.metric_index(metric) else {
            return Ok(None);
        };
        let key = CellKey {
            metric: mi,
            res: u8::from(cell.resolution()),
            cell: u64::from(cell),
        };
        Ok(self
            .state
            .cells
            .get(&key)
            .map(|agg| self.aggregate(cell, &self.state.metrics[mi as usize], agg)))
    }

    fn aggregate(
        &self,
        cell: CellIndex,
        metric: &Metric,
        agg: &crate::aggregate::CellAgg,
    ) -> CellAggregate {
        let (current, previous) = agg.aligned(self.state.as_of, self.state.config.window_ms);
        CellAggregate {
            cell,
            metric: metric.clone(),
            current,
            previous,
            total: agg.total,
        }
    }

    fn check_res(&self, res: Resolution) -> Result<(), QueryError> {
        let kept = &self.state.config.rollup_resolutions;
        if kept.contains(&res) {
            Ok(())
        } else {
            Err(QueryError::ResolutionNotKept {
                res: u8::from(res),
                kept: kept.iter().map(|&r| u8::from(r)).collect(),
            })
        }
    }

    // ---- totals and events ----

    /// Running totals: observations (per sensor kind), sensors per status.
    pub fn totals(&self) -> &Totals {
        &self.state.totals
    }

    /// The most recent event reports, oldest first.
    pub fn recent_events(&self) -> impl Iterator<Item = &EventReport> {
        self.state.events.iter().map(|e| &**e)
    }
}
