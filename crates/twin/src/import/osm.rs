//! OpenStreetMap PBF import: roads, intersections, buildings, POIs and
//! complete administrative boundaries.

mod roads;
mod tags;

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

use domain::{EntityId, EntityKind};
use geo::orient::{Direction, Orient as _};
use geo::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon, Rect};
use osmpbf::{BlobDecode, BlobReader, Element, RelMemberType};

use self::tags::{Parsed, Tags};
use super::rings::assemble;
use super::{BuildingDefaults, ImportError, ImportWarning};
use crate::city::City;
use crate::entity::{
    BuildingAttrs, BuildingUse, CommunityAttrs, CommunitySource, Entity, EntityAttrs, PoiAttrs,
    PoiCategory,
};
use crate::geom;

/// What to import and the assumptions to make.
#[derive(Debug, Clone, PartialEq)]
pub struct OsmOptions {
    /// City name; default: the `place=city` node's name, else
    /// "OpenStreetMap extract".
    pub name: Option<String>,
    /// Import `highway=service` roads (driveways, parking aisles). Default true.
    pub service_roads: bool,
    /// A `highway=traffic_signals` node that is not itself a junction is
    /// attached to the nearest junction along its road within this distance
    /// (stop-line signals); farther ones become mid-block signalised
    /// intersections. Metres; default 30.
    pub signal_attach_m: f64,
    /// `admin_level`s whose complete boundaries become communities.
    /// Default 9 and 10 (districts and wards in Finnish cities).
    pub community_admin_levels: Vec<u8>,
    /// Assumptions for building floor area and residents.
    pub buildings: BuildingDefaults,
}

impl Default for OsmOptions {
    fn default() -> Self {
        Self {
            name: None,
            service_roads: true,
            signal_attach_m: 30.0,
            community_admin_levels: vec![9, 10],
            buildings: BuildingDefaults::default(),
        }
    }
}

/// Counts of what the import read and built.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OsmStats {
    /// Nodes in the file.
    pub nodes: usize,
    /// Ways in the file.
    pub ways: usize,
    /// Relations in the file.
    pub relations: usize,
    /// Way-node references.
    pub way_refs: usize,
    /// Way-node references to nodes missing from the file.
    pub missing_refs: usize,
    /// Ways with at least one missing node.
    pub clipped_ways: usize,
    /// Ways tagged `highway=*`.
    pub highway_ways: usize,
    /// Of those, drivable roads that were imported.
    pub drivable_ways: usize,
    /// Directed road segments built.
    pub road_segments: usize,
    /// Intersections built (junctions, dead ends, cut ends, mid-block signals).
    pub intersections: usize,
    /// Of which signalised.
    pub signalised_intersections: usize,
    /// `highway=traffic_signals` nodes in the file.
    pub signal_nodes: usize,
    /// Of which on an imported road and attached to a junction.
    pub signal_nodes_attached: usize,
    /// Of which on an imported road but far from junctions (mid-block).
    pub signal_nodes_midblock: usize,
    /// Buildings built from closed ways.
    pub buildings_from_ways: usize,
    /// Buildings built from multipolygon relations.
    pub buildings_from_relations: usize,
    /// Buildings mapped as nodes.
    pub buildings_from_nodes: usize,
    /// Building ways and relations that could not be assembled.
    pub buildings_incomplete: usize,
    /// POIs built, per category.
    pub pois: BTreeMap<PoiCategory, usize>,
    /// Complete administrative boundaries.
    pub boundaries_complete: usize,
    /// Administrative boundaries that could not be assembled.
    pub boundaries_incomplete: usize,
    /// The bounding box in the file header.
    pub header_bbox: Option<Rect<f64>>,
}

impl OsmStats {
    /// Buildings built, all sources.
    pub fn buildings(&self) -> usize {
        self.buildings_from_ways + self.buildings_from_relations + self.buildings_from_nodes
    }

    /// POIs built, all categories.
    pub fn poi_count(&self) -> usize {
        self.pois.values().sum()
    }
}

/// A named place label (`place=*` node): where a district, suburb or
/// neighbourhood is labelled on the map.
#[derive(Debug, Clone, PartialEq)]
pub struct OsmPlace {
    /// OSM node id.
    pub node: i64,
    /// `name`.
    pub name: String,
    /// `place` (`city`, `suburb`, `quarter`, `neighbourhood`, ...).
    pub place: String,
    /// Position (lon/lat).
    pub at: Point<f64>,
}

/// The result of an OSM import.
#[derive(Debug, Clone, PartialEq)]
pub struct OsmImport {
    /// The city (no sensors yet; attribution set).
    pub city: City,
    /// What was skipped or guessed.
    pub warnings: Vec<ImportWarning>,
    /// What was read and built.
    pub stats: OsmStats,
    /// Named place labels, in node id order.
    pub places: Vec<OsmPlace>,
    /// The parts of shorelines in the extract (`natural=coastline` ways and
    /// named `natural=water` outlines, cut where nodes are missing), in way
    /// id order.
    pub shorelines: Vec<LineString<f64>>,
}

impl OsmImport {
    /// The city and the warnings.
    pub fn into_parts(self) -> (City, Vec<ImportWarning>) {
        (self.city, self.warnings)
    }
}

/// A tagged node.
pub(crate) struct RawNode {
    pub(crate) id: i64,
    pub(crate) at: Coord<f64>,
    pub(crate) tags: Tags,
}

pub(crate) struct RawWay {
    pub(crate) id: i64,
    pub(crate) refs: Vec<i64>,
    pub(crate) tags: Tags,
}

pub(crate) struct RawMember {
    kind: RelMemberType,
    id: i64,
    role: String,
}

pub(crate) struct RawRelation {
    id: i64,
    members: Vec<RawMember>,
    tags: Tags,
}

/// The file's content, indexed for lookups.
pub(crate) struct Raw {
    bbox: Option<Rect<f64>>,
    /// Every node's position (lookup only).
    pub(crate) coords: HashMap<i64, Coord<f64>>,
    /// Tagged nodes in file order.
    pub(crate) nodes: Vec<RawNode>,
    /// Ways in file order.
    pub(crate) ways: Vec<RawWay>,
    /// Way id to index (lookup only).
    way_ix: HashMap<i64, usize>,
    relations: Vec<RawRelation>,
}

fn read(pbf: &[u8]) -> Result<Raw, ImportError> {
    let mut raw = Raw {
        bbox: None,
        coords: HashMap::new(),
        nodes: Vec::new(),
        ways: Vec::new(),
        way_ix: HashMap::new(),
        relations: Vec::new(),
    };
    let collect = |it: &mut dyn Iterator<Item = (&str, &str)>| -> Tags {
        it.map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
    };
    for blob in BlobReader::new(Cursor::new(pbf)) {
        let blob = blob.map_err(|e| ImportError::Pbf(e.to_string()))?;
        match blob.decode().map_err(|e| ImportError::Pbf(e.to_string()))? {
            BlobDecode::OsmHeader(h) => {
                raw.bbox = h.bbox().map(|b| {
                    Rect::new(
                        Coord {
                            x: b.left,
                            y: b.top,
                        },
                        Coord {
                            x: b.right,
                            y: b.bottom,
                        },
                    )
                });
            }
            BlobDecode::OsmData(block) => block.for_each_element(|el| match el {
                Element::Node(n) => {
                    let at = Coord {
                        x: n.lon(),
                        y: n.lat(),
                    };
                    raw.coords.insert(n.id(), at);
                    let tags = collect(&mut n.tags());
                    if !tags.is_empty() {
                        raw.nodes.push(RawNode {
                            id: n.id(),
                            at,
                            tags,
                        });
                    }
                }
                Element::DenseNode(n) => {
                    let at = Coord {
                        x: n.lon(),
                        y: n.lat(),
                    };
                    raw.coords.insert(n.id(), at);
                    let tags = collect(&mut n.tags());
                    if !tags.is_empty() {
                        raw.nodes.push(RawNode {
                            id: n.id(),
                            at,
                            tags,
                        });
                    }
                }
                Element::Way(w) => {
                    raw.way_ix.insert(w.id(), raw.ways.len());
                    raw.ways.push(RawWay {
                        id: w.id(),
                        refs: w.refs().collect(),
                        tags: collect(&mut w.tags()),
                    });
                }
                Element::Relation(r) => {
                    let members = r
                        .members()
                        .map(|m| RawMember {
                            role: m.role().unwrap_or("").to_owned(),
                            kind: m.member_type,
                            id: m.member_id,
                        })
                        .collect();
                    raw.relations.push(RawRelation {
                        id: r.id(),
                        members,
                        tags: collect(&mut r.tags()),
                    });
                }
            }),
            BlobDecode::Unknown(_) => {}
        }
    }
    Ok(raw)
}

/// Imports an OSM PBF extract.
///
/// Builds directed road segments split at junctions, intersections (with
/// traffic signals attached), buildings (closed ways, complete multipolygon
/// relations, nodes), POIs with normalised categories, and communities from
/// complete administrative boundaries. Missing nodes of a clipped extract
/// are skipped and reported as warnings. Entities are sorted by id,
/// communities assigned and their population summed.
pub fn osm(pbf: &[u8], opts: &OsmOptions) -> Result<OsmImport, ImportError> {
    let raw = read(pbf)?;
    let mut stats = OsmStats {
        nodes: raw.coords.len(),
        ways: raw.ways.len(),
        relations: raw.relations.len(),
        header_bbox: raw.bbox,
        ..OsmStats::default()
    };
    let mut warnings = Vec::new();
    for w in &raw.ways {
        stats.way_refs += w.refs.len();
        let missing = w
            .refs
            .iter()
            .filter(|r| !raw.coords.contains_key(r))
            .count();
        stats.missing_refs += missing;
        stats.clipped_ways += usize::from(missing > 0);
    }
    if stats.missing_refs > 0 {
        warnings.push(ImportWarning::ClippedWays {
            ways: stats.clipped_ways,
            missing_refs: stats.missing_refs,
        });
    }
    let mut entities = roads::build(&raw, opts, &mut stats, &mut warnings);
    entities.extend(buildings(&raw, opts, &mut stats, &mut warnings));
    entities.extend(pois(&raw, &mut stats));
    entities.extend(boundaries(&raw, opts, &mut stats, &mut warnings));
    entities.sort_by(|a, b| a.id.cmp(&b.id));
    let name = opts.name.clone().unwrap_or_else(|| {
        raw.nodes
            .iter()
            .find(|n| n.tags.get("place").map(String::as_str) == Some("city"))
            .and_then(|n| n.tags.get("name").cloned())
            .unwrap_or_else(|| "OpenStreetMap extract".to_owned())
    });
    let mut city = City {
        name,
        entities,
        registry: domain::Registry::default(),
        attribution: Some(crate::OSM_ATTRIBUTION.to_owned()),
        bounds: None,
    };
    city.bounds = raw.bbox.or_else(|| city.entity_bounds());
    city.assign_communities();
    city.sum_population();
    let mut places: Vec<OsmPlace> = raw
        .nodes
        .iter()
        .filter_map(|n| {
            Some(OsmPlace {
                node: n.id,
                name: n.tags.get("name")?.clone(),
                place: n.tags.get("place")?.clone(),
                at: Point(n.at),
            })
        })
        .collect();
    places.sort_by_key(|p| p.node);
    Ok(OsmImport {
        city,
        warnings,
        stats,
        places,
        shorelines: shorelines(&raw),
    })
}

fn shorelines(raw: &Raw) -> Vec<LineString<f64>> {
    let mut ways: Vec<&RawWay> = raw
        .ways
        .iter()
        .filter(|w| match w.tags.get("natural").map(String::as_str) {
            Some("coastline") => true,
            Some("water") => w.tags.contains_key("name"),
            _ => false,
        })
        .collect();
    ways.sort_by_key(|w| w.id);
    let mut out = Vec::new();
    for w in ways {
        let mut cur = Vec::new();
        for r in &w.refs {
            match raw.coords.get(r) {
                Some(c) => cur.push(*c),
                None => {
                    if cur.len() >= 2 {
                        out.push(LineString(std::mem::take(&mut cur)));
                    }
                    cur.clear();
                }
            }
        }
        if cur.len() >= 2 {
            out.push(LineString(cur));
        }
    }
    out
}

fn eid(s: String) -> EntityId {
    EntityId::new(s).expect("OSM-derived ids use the id grammar")
}

/// A ring of node ids as coordinates; `None` if a node is missing.
fn ring_coords(raw: &Raw, ids: &[i64]) -> Option<LineString<f64>> {
    ids.iter()
        .map(|r| raw.coords.get(r).copied())
        .collect::<Option<Vec<_>>>()
        .map(LineString)
}

/// Assembles a multipolygon relation's rings. `Err` says what is missing.
fn relation_area(raw: &Raw, rel: &RawRelation) -> Result<MultiPolygon<f64>, String> {
    let mut outer = Vec::new();
    let mut inner = Vec::new();
    let mut missing_ways = 0;
    for m in rel.members.iter().filter(|m| m.kind == RelMemberType::Way) {
        let Some(&i) = raw.way_ix.get(&m.id) else {
            missing_ways += 1;
            continue;
        };
        match m.role.as_str() {
            "inner" => inner.push(raw.ways[i].refs.clone()),
            "outer" | "" => outer.push(raw.ways[i].refs.clone()),
            _ => {}
        }
    }
    if missing_ways > 0 {
        return Err(format!("{missing_ways} member ways are not in the extract"));
    }
    let missing_nodes = outer
        .iter()
        .chain(&inner)
        .flatten()
        .filter(|r| !raw.coords.contains_key(r))
        .count();
    if missing_nodes > 0 {
        return Err(format!(
            "{missing_nodes} member-way nodes are not in the extract"
        ));
    }
    let outer = assemble(&outer).ok_or("the outer rings do not close")?;
    let inner = assemble(&inner).ok_or("the inner rings do not close")?;
    if outer.is_empty() {
        return Err("no outer ring".into());
    }
    let mut polys: Vec<Polygon<f64>> = outer
        .iter()
        .filter_map(|r| ring_coords(raw, r))
        .map(|ls| Polygon::new(ls, vec![]))
        .collect();
    for r in &inner {
        let Some(ls) = ring_coords(raw, r) else {
            continue;
        };
        let probe = Point(ls.0[0]);
        if let Some(p) = polys.iter_mut().find(|p| {
            geo::Intersects::intersects(p.exterior(), &probe) || geo::Contains::contains(*p, &probe)
        }) {
            p.interiors_push(ls);
        }
    }
    Ok(MultiPolygon(polys))
}

/// A multipolygon as a geometry, rings wound as RFC 7946 asks (outer
/// counter-clockwise, holes clockwise); a single polygon stays a polygon.
fn area_geometry(mp: MultiPolygon<f64>) -> Geometry<f64> {
    let mp = mp.orient(Direction::Default);
    if mp.0.len() == 1 {
        Geometry::Polygon(mp.0.into_iter().next().expect("one polygon"))
    } else {
        Geometry::MultiPolygon(mp)
    }
}

fn closed_way_polygon(raw: &Raw, w: &RawWay) -> Option<Polygon<f64>> {
    if w.refs.len() < 4 || w.refs.first() != w.refs.last() {
        return None;
    }
    ring_coords(raw, &w.refs).map(|ls| Polygon::new(ls, vec![]).orient(Direction::Default))
}

fn is_building(tags: &Tags) -> bool {
    tags.get("building").is_some_and(|v| v != "no")
}

fn building_entity(
    id: EntityId,
    geometry: Geometry<f64>,
    tags: &Tags,
    opts: &OsmOptions,
    element: &str,
    warnings: &mut Vec<ImportWarning>,
) -> Option<Entity> {
    let mut num = |key: &str, parse: fn(&str) -> Parsed<f64>| match tags.get(key).map(|v| parse(v))
    {
        Some(Parsed::Value(x)) => Some(x),
        Some(Parsed::Bad) => {
            warnings.push(ImportWarning::BadTag {
                element: element.to_owned(),
                key: key.to_owned(),
                value: tags[key].clone(),
            });
            None
        }
        _ => None,
    };
    let levels = num("building:levels", tags::levels);
    let height_m = num("height", tags::metres);
    let building_use = BuildingUse::from_osm(tags.get("building").map_or("yes", String::as_str));
    let footprint_m2 = geom::area_m2(&geometry);
    let d = opts.buildings;
    let floor_area_m2 = footprint_m2 * d.effective_levels(levels, height_m);
    let attrs = BuildingAttrs {
        levels,
        height_m,
        building_use,
        footprint_m2,
        floor_area_m2,
        residents_est: d.residents(floor_area_m2, building_use.residential_share()),
        feeder: None,
    };
    let mut e = Entity::new(id, geometry, EntityAttrs::Building(attrs)).ok()?;
    e.name = tags.get("name").cloned();
    e.tags = tags.clone();
    Some(e)
}

fn buildings(
    raw: &Raw,
    opts: &OsmOptions,
    stats: &mut OsmStats,
    warnings: &mut Vec<ImportWarning>,
) -> Vec<Entity> {
    let mut out = Vec::new();
    let mut incomplete = 0;
    for w in raw.ways.iter().filter(|w| is_building(&w.tags)) {
        match closed_way_polygon(raw, w) {
            Some(p) => {
                let id = eid(format!("building:w{}", w.id));
                if let Some(e) = building_entity(
                    id,
                    Geometry::Polygon(p),
                    &w.tags,
                    opts,
                    &format!("way {}", w.id),
                    warnings,
                ) {
                    out.push(e);
                    stats.buildings_from_ways += 1;
                }
            }
            None => incomplete += 1,
        }
    }
    for r in raw.relations.iter().filter(|r| {
        is_building(&r.tags) && r.tags.get("type").map(String::as_str) == Some("multipolygon")
    }) {
        match relation_area(raw, r) {
            Ok(mp) => {
                let id = eid(format!("building:r{}", r.id));
                if let Some(e) = building_entity(
                    id,
                    area_geometry(mp),
                    &r.tags,
                    opts,
                    &format!("relation {}", r.id),
                    warnings,
                ) {
                    out.push(e);
                    stats.buildings_from_relations += 1;
                }
            }
            Err(reason) => {
                incomplete += 1;
                warnings.push(ImportWarning::IncompleteRelation {
                    relation: r.id,
                    name: r
                        .tags
                        .get("name")
                        .cloned()
                        .unwrap_or_else(|| "building".into()),
                    reason,
                });
            }
        }
    }
    for n in raw.nodes.iter().filter(|n| is_building(&n.tags)) {
        let id = eid(format!("building:n{}", n.id));
        if let Some(e) = building_entity(
            id,
            Geometry::Point(Point(n.at)),
            &n.tags,
            opts,
            &format!("node {}", n.id),
            warnings,
        ) {
            out.push(e);
            stats.buildings_from_nodes += 1;
        }
    }
    stats.buildings_incomplete = incomplete;
    if incomplete > 0 {
        warnings.push(ImportWarning::IncompleteAreas {
            what: "building",
            count: incomplete,
        });
    }
    out
}

fn category(tags: &Tags) -> Option<PoiCategory> {
    PoiCategory::from_osm_tags(|k| tags.get(k).map(String::as_str))
}

/// The centroid of the present nodes of some ways (for clipped POI areas).
fn present_centroid(raw: &Raw, refs: impl Iterator<Item = i64>) -> Option<Point<f64>> {
    let pts: Vec<Point<f64>> = refs
        .filter_map(|r| raw.coords.get(&r).map(|c| Point(*c)))
        .collect();
    geo::Centroid::centroid(&geo::MultiPoint(pts))
}

fn pois(raw: &Raw, stats: &mut OsmStats) -> Vec<Entity> {
    let mut out = Vec::new();
    let mut push =
        |id: String, g: Geometry<f64>, tags: &Tags, cat: PoiCategory, stats: &mut OsmStats| {
            if let Ok(mut e) = Entity::new(eid(id), g, EntityAttrs::Poi(PoiAttrs { category: cat }))
            {
                e.name = tags.get("name").cloned();
                e.tags = tags.clone();
                *stats.pois.entry(cat).or_insert(0) += 1;
                out.push(e);
            }
        };
    for n in &raw.nodes {
        if let Some(cat) = category(&n.tags) {
            push(
                format!("poi:n{}", n.id),
                Geometry::Point(Point(n.at)),
                &n.tags,
                cat,
                stats,
            );
        }
    }
    // areas: the polygon when complete, else the centroid of the nodes present
    for w in &raw.ways {
        let Some(cat) = category(&w.tags) else {
            continue;
        };
        let g = match closed_way_polygon(raw, w) {
            Some(p) => Some(Geometry::Polygon(p)),
            None => present_centroid(raw, w.refs.iter().copied()).map(Geometry::Point),
        };
        if let Some(g) = g {
            push(format!("poi:w{}", w.id), g, &w.tags, cat, stats);
        }
    }
    for r in &raw.relations {
        let Some(cat) = category(&r.tags) else {
            continue;
        };
        let g = match relation_area(raw, r) {
            Ok(mp) => Some(area_geometry(mp)),
            Err(_) => {
                let refs = r
                    .members
                    .iter()
                    .filter_map(|m| match m.kind {
                        RelMemberType::Way => {
                            raw.way_ix.get(&m.id).map(|&i| raw.ways[i].refs.clone())
                        }
                        RelMemberType::Node => Some(vec![m.id]),
                        RelMemberType::Relation => None,
                    })
                    .flatten();
                present_centroid(raw, refs).map(Geometry::Point)
            }
        };
        if let Some(g) = g {
            push(format!("poi:r{}", r.id), g, &r.tags, cat, stats);
        }
    }
    out
}

fn boundaries(
    raw: &Raw,
    opts: &OsmOptions,
    stats: &mut OsmStats,
    warnings: &mut Vec<ImportWarning>,
) -> Vec<Entity> {
    let mut out = Vec::new();
    for r in &raw.relations {
        if r.tags.get("boundary").map(String::as_str) != Some("administrative") {
            continue;
        }
        let level = r.tags.get("admin_level").and_then(|l| l.parse::<u8>().ok());
        let name = r
            .tags
            .get("name")
            .cloned()
            .unwrap_or_else(|| "administrative boundary".into());
        match relation_area(raw, r) {
            Ok(mp) => {
                stats.boundaries_complete += 1;
                if level.is_none_or(|l| !opts.community_admin_levels.contains(&l)) {
                    continue;
                }
                let attrs = EntityAttrs::Community(CommunityAttrs {
                    population_est: 0.0,
                    admin_level: level,
                    source: CommunitySource::AdminBoundary,
                });
                if let Ok(mut e) = Entity::new(
                    eid(format!("community:r{}", r.id)),
                    area_geometry(mp),
                    attrs,
                ) {
                    e.name = Some(name);
                    e.tags = r.tags.clone();
                    out.push(e);
                }
            }
            Err(reason) => {
                stats.boundaries_incomplete += 1;
                warnings.push(ImportWarning::IncompleteRelation {
                    relation: r.id,
                    name,
                    reason,
                });
            }
        }
    }
    debug_assert!(out.iter().all(|e: &Entity| e.kind == EntityKind::Community));
    out
}
