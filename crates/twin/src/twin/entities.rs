//! Entity upserts and removals, and the sensor registry they maintain.

use std::sync::Arc;

use domain::{EntityId, GatewaySpec, SensorId, SensorSpec};
use h3o::CellIndex;

use super::{ApplyStats, Twin};
use crate::entity::{Entity, EntityError};
use crate::geom;
use crate::sensor::{SensorState, SensorStatus};
use crate::spatial::{IdItem, SpatialIndex};
use crate::state::{GatewayState, entity_kind_index};

impl Twin {
    /// The cells of a location: each roll-up resolution (coarse to fine),
    /// then the base cell.
    fn sensor_cells(&self, spec: &SensorSpec) -> Result<Arc<[CellIndex]>, EntityError> {
        let p = geo::Point::new(spec.location.lon, spec.location.lat);
        let base = geom::cell_of(p, self.state.config.base_resolution).ok_or_else(|| {
            EntityError::BadCoordinate {
                id: crate::city::entity_id_of(&spec.id),
                lon: spec.location.lon,
                lat: spec.location.lat,
            }
        })?;
        let mut cells: Vec<CellIndex> = self
            .state
            .config
            .rollup_resolutions
            .iter()
            .map(|&r| {
                base.parent(r)
                    .expect("roll-up resolutions are no finer than the base")
            })
            .collect();
        cells.push(base);
        Ok(Arc::from(cells))
    }

    /// Registers a sensor or updates its spec, keeping its live state.
    pub(super) fn register_sensor(&mut self, spec: SensorSpec) -> Result<(), EntityError> {
        let cells = self.sensor_cells(&spec)?;
        let gw = spec.gateway.clone();
        let id = spec.id.clone();
        let old_gateway = match self.sensor_lookup.get(&id).copied() {
            Some(i) => {
                let slot = self
                    .state
                    .sensor_slots
                    .get_mut(i as usize)
                    .and_then(Option::as_mut)
                    .expect("a registered sensor has a live slot");
                let s = Arc::make_mut(slot);
                let old = s.spec.gateway.clone();
                s.spec = Arc::new(spec);
                s.cells = cells;
                Some(old)
            }
            None => {
                let i = u32::try_from(self.state.sensor_slots.len())
                    .expect("fewer than 2^32 sensor slots");
                self.state
                    .sensor_slots
                    .push_back(Some(Arc::new(SensorState::new(Arc::new(spec), cells))));
                self.state.sensor_ix.insert(id.clone(), i);
                self.sensor_lookup.insert(id.clone(), i);
                self.state.totals.by_status[SensorStatus::Unseen.index()] += 1;
                None
            }
        };
        if let Some(old) = old_gateway.filter(|old| old != &gw)
            && let Some(g) = self.state.gateways.get_mut(&old)
        {
            g.sensors.remove(&id);
        }
        self.state
            .gateways
            .entry(gw.clone())
            .or_insert_with(|| {
                GatewayState::new(GatewaySpec {
                    name: gw.to_string(),
                    id: gw,
                })
            })
            .sensors
            .insert(id);
        Ok(())
    }

    fn unregister_sensor(&mut self, id: &SensorId) {
        let Some(i) = self.sensor_lookup.remove(id) else {
            return;
        };
        self.state.sensor_ix.remove(id);
        let removed = self
            .state
            .sensor_slots
            .get_mut(i as usize)
            .and_then(Option::take);
        if let Some(s) = removed {
            self.state.totals.by_status[s.status.index()] -= 1;
            if let Some(g) = self.state.gateways.get_mut(&s.spec.gateway) {
                g.sensors.remove(id);
            }
        }
    }

    pub(super) fn upsert_entity(&mut self, mut e: Entity) -> Result<ApplyStats, EntityError> {
        if e.cell.resolution() != self.state.config.base_resolution {
            e.place_at(self.state.config.base_resolution)?;
        }
        e.check()?;
        // validate the sensor part before touching anything
        if let Some(spec) = e.sensor() {
            self.sensor_cells(spec)?;
        }
        let old_kind = self.state.entity(e.id.as_str()).map(|old| old.kind);
        if let Some(k) = old_kind
            && k != e.kind
        {
            self.state.entities[entity_kind_index(k)].remove(&e.id);
            if k == domain::EntityKind::Sensor {
                self.unregister_sensor(&SensorId::new(e.id.as_str()).expect("same grammar"));
            }
        }
        if let Some(spec) = e.sensor() {
            self.register_sensor(spec.clone())?;
        }
        self.state.spatial.upsert(e.id.clone(), e.kind, e.bounds());
        self.state.entities[entity_kind_index(e.kind)].insert(e.id.clone(), Arc::new(e));
        self.state.totals.entity_changes += 1;
        self.maybe_rebuild_index();
        Ok(ApplyStats {
            upserted: 1,
            ..ApplyStats::default()
        })
    }

    pub(super) fn remove_entity(&mut self, id: &EntityId) -> ApplyStats {
        let Some(kind) = self.state.entity(id.as_str()).map(|e| e.kind) else {
            return ApplyStats::default();
        };
        self.state.entities[entity_kind_index(kind)].remove(id);
        if kind == domain::EntityKind::Sensor {
            self.unregister_sensor(&SensorId::new(id.as_str()).expect("same grammar"));
        }
        self.state.spatial.remove(id.clone());
        self.state.totals.entity_changes += 1;
        self.maybe_rebuild_index();
        ApplyStats {
            removed: 1,
            ..ApplyStats::default()
        }
    }

    fn maybe_rebuild_index(&mut self) {
        if self.state.spatial.wants_rebuild() {
            let items = self
                .state
                .entities
                .iter()
                .flat_map(|m| m.values())
                .map(|e| IdItem::new(e.id.clone(), e.kind, e.bounds()))
                .collect();
            self.state.spatial = SpatialIndex::build(items);
        }
    }
}
