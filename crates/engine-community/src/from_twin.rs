//! The walking graph and its places built from the twin's city: road
//! segments as undirected walkable edges between intersections, buildings and
//! points of interest snapped to their nearest intersection.

use std::collections::BTreeMap;

use rstar::RTree;
use rstar::primitives::GeomWithData;
use twin::{City, EntityAttrs};

use crate::access::{AccessError, Building, Poi, WalkGraph};

/// A walking graph from a twin city, with its places snapped to it.
#[derive(Debug, Clone)]
pub struct TwinWalk {
    /// Intersections as nodes (in city order), road segments as edges.
    pub graph: WalkGraph,
    /// The intersection entity id of each node.
    pub node_ids: Vec<String>,
    /// Buildings (id, nearest node, community id, H3 cell, estimated residents).
    pub buildings: Vec<Building>,
    /// Points of interest (category in snake case, as the twin names it).
    pub pois: Vec<Poi>,
    /// The longest snapping leg, metres (a large value flags places far from any street).
    pub max_snap_m: f64,
}

/// Metres per degree of latitude (mean).
const M_PER_DEG_LAT: f64 = 110_574.0;
/// Metres per degree of longitude at the equator.
const M_PER_DEG_LON: f64 = 111_320.0;

/// Builds the walking graph from `city`.
///
/// The twin imports streets (OSM `highway=*` roads split at junctions); until
/// it imports footways as well, walking is along its road segments, in either
/// direction whatever the one-way rules. Snapping uses an equirectangular
/// projection around the city's mean latitude, which is exact to well under a
/// metre over a city.
///
/// # Errors
/// A road whose end is not an intersection of the city, a bad road length,
/// or a city without intersections while it has places to snap.
pub fn walk_from_city(city: &City) -> Result<TwinWalk, AccessError> {
    let mut index: BTreeMap<&str, u32> = BTreeMap::new();
    let mut node_ids = Vec::new();
    let mut points = Vec::new();
    for e in &city.entities {
        if let EntityAttrs::Intersection(_) = e.attrs {
            let i = u32::try_from(node_ids.len()).expect("fewer than 2^32 intersections");
            index.insert(e.id.as_str(), i);
            node_ids.push(e.id.to_string());
            let p = e.representative_point();
            points.push((p.x(), p.y()));
        }
    }
    let mut edges = Vec::new();
    for e in &city.entities {
        if let EntityAttrs::Road(r) = &e.attrs {
            let end = |id: &domain::EntityId| {
                index
                    .get(id.as_str())
                    .copied()
                    .ok_or_else(|| AccessError::NoSuchNode {
                        what: format!("road {} end {id}", e.id),
                        node: u32::MAX,
                        nodes: node_ids.len(),
                    })
            };
            edges.push((end(&r.from)?, end(&r.to)?, r.length_m));
        }
    }
    let graph = WalkGraph::from_edges(node_ids.len(), &edges)?;
    #[allow(clippy::cast_precision_loss)]
    let lat0 = points.iter().map(|p| p.1).sum::<f64>() / points.len().max(1) as f64;
    let kx = M_PER_DEG_LON * lat0.to_radians().cos();
    let project = |lon: f64, lat: f64| [lon * kx, lat * M_PER_DEG_LAT];
    let tree = RTree::bulk_load(
        points
            .iter()
            .zip(0u32..)
            .map(|(&(lon, lat), i)| GeomWithData::new(project(lon, lat), i))
            .collect(),
    );
    let mut max_snap_m = 0.0f64;
    let mut snap = |e: &twin::Entity| -> Result<u32, AccessError> {
        let p = e.representative_point();
        let q = project(p.x(), p.y());
        let near = tree
            .nearest_neighbor(q)
            .ok_or_else(|| AccessError::NoSuchNode {
                what: format!("{} (the city has no intersection)", e.id),
                node: 0,
                nodes: 0,
            })?;
        let d = ((near.geom()[0] - q[0]).powi(2) + (near.geom()[1] - q[1]).powi(2)).sqrt();
        max_snap_m = max_snap_m.max(d);
        Ok(near.data)
    };
    let mut buildings = Vec::new();
    let mut pois = Vec::new();
    for e in &city.entities {
        match &e.attrs {
            EntityAttrs::Building(b) => buildings.push(Building {
                id: e.id.to_string(),
                node: snap(e)?,
                community: e.community.as_ref().map(ToString::to_string),
                cell: Some(u64::from(e.cell)),
                residents: b.residents_est.max(0.0),
            }),
            EntityAttrs::Poi(p) => {
                let category = serde_json::to_value(p.category)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_else(|| format!("{:?}", p.category));
                pois.push(Poi {
                    category,
                    id: e.id.to_string(),
                    node: snap(e)?,
                });
            }
            _ => {}
        }
    }
    Ok(TwinWalk {
        graph,
        node_ids,
        buildings,
        pois,
        max_snap_m,
    })
}
