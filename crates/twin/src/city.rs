//! A city: its entities, its sensor registry and where its data comes from.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use domain::{EntityId, EntityKind, GatewaySpec, Registry, SensorId, SensorSpec};
use geo::{BoundingRect, Contains, Geometry, Point, Rect};

use crate::entity::{Entity, EntityAttrs, EntityError};
use crate::geom;

/// The static description of a city, as imported or generated, before it
/// becomes a live [`Twin`](crate::Twin).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct City {
    /// Display name.
    pub name: String,
    /// Every entity, sensors included.
    pub entities: Vec<Entity>,
    /// Gateways and sensors. Every sensor here has a sensor entity in
    /// `entities` with the same spec, and the other way round
    /// ([`City::check`]).
    pub registry: Registry,
    /// Data attribution to show wherever the city is displayed
    /// (`© OpenStreetMap contributors` for OSM imports).
    pub attribution: Option<String>,
    /// The area the data covers (the extract's bounding box), lon/lat.
    pub bounds: Option<Rect<f64>>,
}

/// Why a city is inconsistent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CityError {
    /// Two entities share an id.
    #[error("entity id {0} is used twice")]
    DuplicateId(EntityId),
    /// An entity is malformed.
    #[error(transparent)]
    Entity(#[from] EntityError),
    /// A registry sensor has no sensor entity.
    #[error("sensor {0} is registered but has no sensor entity")]
    SensorWithoutEntity(SensorId),
    /// A sensor entity is not in the registry, or its spec differs.
    #[error("sensor entity {0} is missing from the registry or differs from it")]
    RegistryMismatch(SensorId),
    /// An entity names a community that does not exist.
    #[error("entity {entity} names community {community}, which is not a community entity")]
    UnknownCommunity {
        /// The entity.
        entity: EntityId,
        /// The community it names.
        community: EntityId,
    },
}

impl City {
    /// An empty city.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ..Self::default()
        }
    }

    /// Builds a city from entities: the registry is made of `gateways` and the
    /// specs of the sensor entities, and the bounds cover every entity.
    pub fn from_entities(
        name: impl Into<String>,
        entities: Vec<Entity>,
        gateways: impl IntoIterator<Item = GatewaySpec>,
    ) -> Result<Self, CityError> {
        let sensors: Vec<SensorSpec> = entities
            .iter()
            .filter_map(|e| e.sensor().cloned())
            .collect();
        let mut city = Self {
            name: name.into(),
            entities,
            registry: Registry::new(gateways, sensors),
            attribution: None,
            bounds: None,
        };
        city.bounds = city.entity_bounds();
        city.check()?;
        Ok(city)
    }

    /// Adds a sensor: its entity (a point at its location) and its registry
    /// entry.
    pub fn add_sensor(&mut self, spec: SensorSpec, name: Option<String>) -> Result<(), CityError> {
        let mut e = sensor_entity(spec.clone())?;
        e.name = name;
        self.registry.upsert_sensor(spec);
        self.entities.push(e);
        Ok(())
    }

    /// Checks the invariants: unique ids, well-formed entities, registry and
    /// sensor entities in agreement, communities that exist.
    pub fn check(&self) -> Result<(), CityError> {
        // lookup only: the first duplicate in entity order is reported
        let mut seen: HashSet<&EntityId> = HashSet::with_capacity(self.entities.len());
        let mut communities = BTreeSet::new();
        for e in &self.entities {
            if !seen.insert(&e.id) {
                return Err(CityError::DuplicateId(e.id.clone()));
            }
            e.check()?;
            if e.kind == EntityKind::Community {
                communities.insert(&e.id);
            }
            if let Some(spec) = e.sensor()
                && self.registry.sensor(spec.id.as_str()) != Some(spec)
            {
                return Err(CityError::RegistryMismatch(spec.id.clone()));
            }
        }
        for s in self.registry.sensors() {
            if !seen.contains(&entity_id_of(&s.id)) {
                return Err(CityError::SensorWithoutEntity(s.id.clone()));
            }
        }
        for e in &self.entities {
            if let Some(c) = &e.community
                && !communities.contains(c)
            {
                return Err(CityError::UnknownCommunity {
                    entity: e.id.clone(),
                    community: c.clone(),
                });
            }
        }
        Ok(())
    }

    /// Number of entities of one kind.
    pub fn count(&self, kind: EntityKind) -> usize {
        self.entities.iter().filter(|e| e.kind == kind).count()
    }

    /// Entity counts per kind, in kind order.
    pub fn counts(&self) -> BTreeMap<EntityKind, usize> {
        let mut m = BTreeMap::new();
        for e in &self.entities {
            *m.entry(e.kind).or_insert(0) += 1;
        }
        m
    }

    /// The rectangle covering every entity's geometry.
    pub fn entity_bounds(&self) -> Option<Rect<f64>> {
        self.entities
            .iter()
            .filter_map(|e| e.geometry.bounding_rect())
            .fold(None, |acc, r| Some(geom::union_rect(acc, r)))
    }

    /// Sets `community` on every non-community entity whose representative
    /// point lies in a community polygon (the first community in id order
    /// wins where polygons overlap). Entities outside every community keep
    /// `None`. Returns how many entities were assigned.
    pub fn assign_communities(&mut self) -> usize {
        let mut comms: Vec<(EntityId, Geometry<f64>, Rect<f64>)> = self
            .entities
            .iter()
            .filter(|e| e.kind == EntityKind::Community)
            .filter_map(|e| {
                Some((
                    e.id.clone(),
                    e.geometry.clone(),
                    e.geometry.bounding_rect()?,
                ))
            })
            .collect();
        comms.sort_by(|a, b| a.0.cmp(&b.0));
        let index = rstar::RTree::bulk_load(
            comms
                .iter()
                .enumerate()
                .map(|(i, (_, _, r))| crate::spatial::RectItem::new(*r, i))
                .collect(),
        );
        let mut assigned = 0;
        for e in &mut self.entities {
            if e.kind == EntityKind::Community {
                continue;
            }
            let p = e.representative_point();
            let mut hits: Vec<usize> = index
                .locate_in_envelope_intersecting(rstar::AABB::from_point([p.x(), p.y()]))
                .map(|it| it.index)
                .collect();
            hits.sort_unstable();
            e.community = hits
                .into_iter()
                .find(|&i| covers(&comms[i].1, p))
                .map(|i| comms[i].0.clone());
            assigned += usize::from(e.community.is_some());
        }
        assigned
    }

    /// Recomputes every community's `population_est` as the sum of the
    /// estimated residents of the buildings assigned to it.
    pub fn sum_population(&mut self) {
        let mut pop: BTreeMap<EntityId, f64> = BTreeMap::new();
        for e in &self.entities {
            if let (Some(b), Some(c)) = (e.building(), &e.community) {
                *pop.entry(c.clone()).or_insert(0.0) += b.residents_est;
            }
        }
        for e in &mut self.entities {
            if let EntityAttrs::Community(c) = &mut e.attrs {
                c.population_est = pop.get(&e.id).copied().unwrap_or(0.0).round();
            }
        }
    }
}

fn covers(g: &Geometry<f64>, p: Point<f64>) -> bool {
    match g {
        Geometry::Polygon(poly) => poly.contains(&p) || geo::Intersects::intersects(poly, &p),
        Geometry::MultiPolygon(mp) => mp.contains(&p) || geo::Intersects::intersects(mp, &p),
        Geometry::Rect(r) => geo::Intersects::intersects(r, &p),
        _ => false,
    }
}

/// The entity of a sensor: a point at its location carrying its spec.
pub fn sensor_entity(spec: SensorSpec) -> Result<Entity, EntityError> {
    let id = entity_id_of(&spec.id);
    let p = Point::new(spec.location.lon, spec.location.lat);
    Entity::new(id, Geometry::Point(p), EntityAttrs::Sensor(spec))
}

/// The entity id of a sensor (the same text).
pub fn entity_id_of(sensor: &SensorId) -> EntityId {
    EntityId::new(sensor.as_str()).expect("sensor and entity ids share one grammar")
}
