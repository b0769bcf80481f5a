//! The demo city: central Helsinki from OpenStreetMap, with derived
//! communities, feeders and a generated sensor deployment.
//!
//! The design is written down in `docs/design/0001-demo-city.md`. In short:
//! - **Communities**: complete administrative boundaries when the extract
//!   has them; otherwise Voronoi cells of the `place=borough|suburb|quarter|
//!   neighbourhood` label nodes (one per name, none closer than
//!   [`DemoOptions::min_seed_spacing_m`] to a more important one), clipped to
//!   the extract; with fewer than two labels, the H3 cells at
//!   [`DemoOptions::fallback_resolution`].
//! - **Feeders**: per community, its buildings sorted by bearing from the
//!   community's representative point (the substation) and cut into groups
//!   of at most [`DemoOptions::buildings_per_feeder`].
//! - **Sensors** (ids depend only on the OSM data; which buildings get PV and
//!   where roadside air-quality stations go depend on the seed): a traffic
//!   detector on every approach of every signalised intersection, an
//!   air-quality station per community plus roadside ones, a smart meter per
//!   building, PV inverters on a share of large roofs, a head meter per
//!   feeder, water-level gauges along the shore, two event reporters (app and
//!   alarm panel) and a noise monitor per community.

use std::collections::{BTreeMap, BTreeSet};

use domain::{
    EntityId, EntityKind, GatewayId, GatewaySpec, LatLon, Metric, SensorId, SensorKind, SensorSpec,
};
use geo::{Coord, Geometry, LineString, Point, Polygon, Rect};
use h3o::Resolution;
use rand::RngExt as _;

use crate::city::{City, sensor_entity};
use crate::entity::{
    BuildingUse, CommunityAttrs, CommunitySource, Entity, EntityAttrs, FeederAttrs,
};
use crate::geom::{self, LocalProjection};
use crate::import::{
    self, BuildingDefaults, ImportError, ImportWarning, OsmImport, OsmOptions, OsmPlace, OsmStats,
};
use crate::rng;

/// Knobs of the demo deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// Seed of the random choices.
    pub seed: u64,
    /// Share of eligible buildings (footprint at least 200 m², not ancillary)
    /// that get a PV inverter.
    pub pv_share: f64,
    /// Roadside air-quality stations at signalised intersections, on top of
    /// one per community.
    pub roadside_air_quality: usize,
    /// Spacing of water-level gauges along the shore, metres.
    pub gauge_spacing_m: f64,
    /// Largest number of buildings on one feeder.
    pub buildings_per_feeder: usize,
    /// Community partition when fewer than two place labels exist.
    pub fallback_resolution: Resolution,
    /// Place labels closer than this to a more important (or, at equal
    /// rank, older) label are dropped before drawing Voronoi cells, metres.
    pub min_seed_spacing_m: f64,
    /// Storeys assumed for buildings without `building:levels` or `height`
    /// (central Helsinki's perimeter blocks have 5-7).
    pub default_levels: f64,
}

impl DemoOptions {
    /// The defaults with a seed.
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            pv_share: 0.15,
            roadside_air_quality: 4,
            gauge_spacing_m: 400.0,
            buildings_per_feeder: 40,
            fallback_resolution: Resolution::Eight,
            min_seed_spacing_m: 200.0,
            default_levels: 6.0,
        }
    }
}

/// The demo city and how it was made.
#[derive(Debug, Clone, PartialEq)]
pub struct Demo {
    /// The city.
    pub city: City,
    /// Import warnings.
    pub warnings: Vec<ImportWarning>,
    /// Import counts.
    pub stats: OsmStats,
}

/// Builds the demo city from the Helsinki extract (`Helsinki.osm.pbf`
/// bytes) with default options. Same bytes and seed, same city.
pub fn helsinki(pbf: &[u8], seed: u64) -> Result<City, ImportError> {
    build(pbf, &DemoOptions::new(seed), "Helsinki (central)").map(|d| d.city)
}

/// Builds a demo city from any OSM extract.
pub fn build(pbf: &[u8], opts: &DemoOptions, name: &str) -> Result<Demo, ImportError> {
    let osm_opts = OsmOptions {
        name: Some(name.to_owned()),
        buildings: BuildingDefaults {
            levels: opts.default_levels,
            ..BuildingDefaults::default()
        },
        ..OsmOptions::default()
    };
    let OsmImport {
        mut city,
        warnings,
        stats,
        places,
        shorelines,
    } = import::osm(pbf, &osm_opts)?;
    let area = clip_area(&city);
    if city.count(EntityKind::Community) == 0 {
        let comms = derived_communities(&places, area, opts);
        city.entities.extend(comms);
        city.assign_communities();
    }
    let mut master = rng::seeded(opts.seed);
    feeders(&mut city, opts);
    city.sum_population();
    let mut d = Deployment::default();
    d.detectors(&city);
    d.air_quality(&city, opts, &mut rng::fork(&mut master));
    d.meters(&city, opts, &mut rng::fork(&mut master));
    d.gauges(&city, &shorelines, opts);
    d.per_community(&city);
    let mut specs = Vec::with_capacity(d.sensors.len());
    for (spec, name) in d.sensors {
        let mut e = sensor_entity(spec.clone())
            .expect("generated sensors sit at valid coordinates")
            .with_tag("generated", "demo");
        e.name = Some(name);
        specs.push(spec);
        city.entities.push(e);
    }
    city.registry = domain::Registry::new(d.gateways.into_values(), specs);
    city.assign_communities();
    city.entities.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(Demo {
        city,
        warnings,
        stats,
    })
}

/// The region communities must cover: the extract's bounds grown to every
/// entity (buildings and roads reach past a clipped extract's box).
fn clip_area(city: &City) -> Rect<f64> {
    let r = city
        .entity_bounds()
        .map_or(city.bounds, |e| Some(geom::union_rect(city.bounds, e)));
    r.unwrap_or_else(|| Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 0.0, y: 0.0 }))
}

/// A readable id part from a name: lower-case ASCII, Nordic letters folded.
fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'ä' | 'å' | 'á' | 'à' | 'â' => 'a',
            'ö' | 'ø' | 'ó' | 'ò' | 'ô' => 'o',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'ü' | 'ú' | 'ù' => 'u',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    s.trim_end_matches('-').to_owned()
}

fn eid(s: String) -> EntityId {
    EntityId::new(s).expect("demo ids use the id grammar")
}

/// How important a place label is for naming a district (lower first).
fn place_rank(place: &str) -> Option<u8> {
    match place {
        "borough" => Some(0),
        "suburb" => Some(1),
        "quarter" => Some(2),
        "neighbourhood" => Some(3),
        _ => None,
    }
}

/// Communities from place labels (Voronoi, clipped to `area`), or H3 cells.
fn derived_communities(places: &[OsmPlace], area: Rect<f64>, opts: &DemoOptions) -> Vec<Entity> {
    let inside = |p: &OsmPlace| geo::Intersects::intersects(&area, &p.at);
    let mut ranked: Vec<(u8, &OsmPlace)> = places
        .iter()
        .filter(|p| inside(p))
        .filter_map(|p| Some((place_rank(&p.place)?, p)))
        .collect();
    ranked.sort_by_key(|(r, p)| (*r, p.node));
    // one seed per name; none within the spacing of a kept one
    let mut names = BTreeSet::new();
    let mut seeds: Vec<&OsmPlace> = Vec::new();
    for (_, p) in ranked {
        let crowded = seeds
            .iter()
            .any(|q| geom::distance_m(q.at, p.at) < opts.min_seed_spacing_m.max(1e-3));
        if !crowded && names.insert(p.name.clone()) {
            seeds.push(p);
        }
    }
    seeds.sort_by_key(|p| p.node);
    if seeds.len() < 2 {
        return h3_communities(area, opts.fallback_resolution);
    }
    let proj = LocalProjection::new(geo::Centroid::centroid(&area));
    let sites: Vec<Coord<f64>> = seeds.iter().map(|p| proj.to_local(p.at.0)).collect();
    let clip: Vec<Coord<f64>> = [
        area.min(),
        Coord {
            x: area.max().x,
            y: area.min().y,
        },
        area.max(),
        Coord {
            x: area.min().x,
            y: area.max().y,
        },
    ]
    .iter()
    .map(|c| proj.to_local(*c))
    .collect();
    geom::voronoi_cells(&sites, &clip)
        .into_iter()
        .zip(seeds)
        .filter(|(cell, _)| cell.len() >= 3)
        .filter_map(|(cell, p)| {
            let mut ring: Vec<Coord<f64>> = cell.iter().map(|c| proj.to_lonlat(*c)).collect();
            ring.push(ring[0]);
            let attrs = EntityAttrs::Community(CommunityAttrs {
                population_est: 0.0,
                admin_level: None,
                source: CommunitySource::Voronoi,
            });
            let e = Entity::new(
                eid(format!("community:{}", slug(&p.name))),
                Geometry::Polygon(Polygon::new(LineString(ring), vec![])),
                attrs,
            )
            .ok()?;
            Some(
                e.with_name(p.name.clone())
                    .with_tag("place", p.place.clone())
                    .with_tag("seed_node", p.node.to_string()),
            )
        })
        .collect()
}

/// Every H3 cell at `res` whose area meets `area` becomes a community.
fn h3_communities(area: Rect<f64>, res: Resolution) -> Vec<Entity> {
    use h3o::geom::{ContainmentMode, TilerBuilder};
    let mut tiler = TilerBuilder::new(res)
        .containment_mode(ContainmentMode::Covers)
        .build();
    if tiler.add(area.to_polygon()).is_err() {
        return Vec::new();
    }
    let mut cells: Vec<h3o::CellIndex> = tiler.into_coverage().collect();
    cells.sort_unstable();
    cells
        .into_iter()
        .filter_map(|c| {
            let poly = geo::MultiPolygon::from(c).0.into_iter().next()?;
            let attrs = EntityAttrs::Community(CommunityAttrs {
                population_est: 0.0,
                admin_level: None,
                source: CommunitySource::H3Partition,
            });
            let e = Entity::new(
                eid(format!("community:h3-{c}")),
                Geometry::Polygon(poly),
                attrs,
            )
            .ok()?;
            Some(e.with_name(format!("District {c}")))
        })
        .collect()
}

/// Feeders: per community, buildings by bearing from the substation, in
/// groups of at most `buildings_per_feeder`.
fn feeders(city: &mut City, opts: &DemoOptions) {
    let comms: Vec<(EntityId, String, Point<f64>)> = city
        .entities
        .iter()
        .filter(|e| e.kind == EntityKind::Community)
        .map(|e| {
            (
                e.id.clone(),
                e.name.clone().unwrap_or_else(|| e.id.to_string()),
                e.representative_point(),
            )
        })
        .collect();
    let mut new = Vec::new();
    for (cid, cname, sub) in comms {
        let proj = LocalProjection::new(sub);
        let mut members: Vec<(f64, usize)> = city
            .entities
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == EntityKind::Building && e.community.as_ref() == Some(&cid))
            .map(|(i, e)| {
                let p = proj.to_local(e.representative_point().0);
                (p.y.atan2(p.x), i)
            })
            .collect();
        members.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let cslug = cid.as_str().trim_start_matches("community:").to_owned();
        for (k, group) in members.chunks(opts.buildings_per_feeder.max(1)).enumerate() {
            let fid = eid(format!("feeder:{cslug}-{}", k + 1));
            let mut stops: Vec<(f64, usize)> = group
                .iter()
                .map(|&(_, i)| {
                    (
                        geom::distance_m(sub, city.entities[i].representative_point()),
                        i,
                    )
                })
                .collect();
            stops.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut line = vec![sub.0];
            line.extend(
                stops
                    .iter()
                    .map(|&(_, i)| city.entities[i].representative_point().0),
            );
            let floor: f64 = group
                .iter()
                .filter_map(|&(_, i)| city.entities[i].building().map(|b| b.floor_area_m2))
                .sum();
            for &(_, i) in group {
                if let EntityAttrs::Building(b) = &mut city.entities[i].attrs {
                    b.feeder = Some(fid.clone());
                }
            }
            let attrs = EntityAttrs::Feeder(FeederAttrs {
                voltage_kv: 10.0,
                rated_kva: (floor * 0.030 * 1.3).round(),
                substation: Some(format!("{cname} substation")),
            });
            if let Ok(e) = Entity::new(fid, Geometry::LineString(LineString(line)), attrs) {
                new.push(
                    e.with_name(format!("{cname} feeder {}", k + 1))
                        .with_community(cid.clone()),
                );
            }
        }
    }
    city.entities.extend(new);
}

#[derive(Default)]
struct Deployment {
    sensors: Vec<(SensorSpec, String)>,
    gateways: BTreeMap<GatewayId, GatewaySpec>,
}

fn metrics(names: &[&str]) -> Vec<Metric> {
    names
        .iter()
        .map(|m| Metric::new(m).expect("metric names are valid"))
        .collect()
}

fn latlon(p: Point<f64>) -> LatLon {
    LatLon {
        lat: p.y(),
        lon: p.x(),
    }
}

fn spec(
    id: String,
    kind: SensorKind,
    gateway: GatewayId,
    at: Point<f64>,
    observes: Option<EntityId>,
    m: &[&str],
) -> SensorSpec {
    SensorSpec {
        id: SensorId::new(id).expect("demo ids use the id grammar"),
        kind,
        gateway,
        location: latlon(at),
        observes,
        metrics: metrics(m),
    }
}

/// `building:w123` -> `w123`, `intersection:n5` -> `n5`.
fn suffix(id: &EntityId) -> &str {
    id.as_str().rsplit(':').next().unwrap_or(id.as_str())
}

impl Deployment {
    fn gateway(&mut self, id: String, name: String) -> GatewayId {
        let gid = GatewayId::new(id).expect("demo ids use the id grammar");
        self.gateways
            .entry(gid.clone())
            .or_insert_with(|| GatewaySpec {
                id: gid.clone(),
                name,
            });
        gid
    }

    fn add(&mut self, spec: SensorSpec, name: String) {
        self.sensors.push((spec, name));
    }

    /// A detector 20 m before the stop line of every approach of every
    /// signalised intersection; one controller gateway per intersection.
    fn detectors(&mut self, city: &City) {
        let mut approaches: BTreeMap<&EntityId, Vec<&Entity>> = BTreeMap::new();
        for e in &city.entities {
            if let Some(r) = e.road() {
                approaches.entry(&r.to).or_default().push(e);
            }
        }
        for j in city
            .entities
            .iter()
            .filter(|e| e.intersection().is_some_and(|i| i.signalised))
        {
            let Some(list) = approaches.get(&j.id) else {
                continue;
            };
            let mut list = list.clone();
            list.sort_by(|a, b| a.id.cmp(&b.id));
            let jname = j.name.clone().unwrap_or_else(|| j.id.to_string());
            let gw = self.gateway(
                format!("gw-tsc-{}", suffix(&j.id)),
                format!("Signal controller, {jname}"),
            );
            for (k, road) in list.iter().enumerate() {
                let Geometry::LineString(ls) = &road.geometry else {
                    continue;
                };
                let len = road.road().map_or(0.0, |r| r.length_m);
                let at = geom::point_along(ls, (len - 20.0).max(len / 2.0))
                    .unwrap_or_else(|| road.representative_point());
                let street = road.name.clone().unwrap_or_else(|| "unnamed road".into());
                self.add(
                    spec(
                        format!("det-{}-{}", suffix(&j.id), k + 1),
                        SensorKind::TrafficDetector,
                        gw.clone(),
                        at,
                        Some(road.id.clone()),
                        &["flow", "count", "speed", "occupancy"],
                    ),
                    format!("Detector on {street} approaching {jname}"),
                );
            }
        }
    }

    /// One station per community (at its representative point) and roadside
    /// stations at randomly chosen signalised intersections.
    fn air_quality(&mut self, city: &City, opts: &DemoOptions, rng: &mut rand_chacha::ChaCha8Rng) {
        let mut sites: Vec<(Point<f64>, Option<EntityId>, String)> = city
            .entities
            .iter()
            .filter(|e| e.kind == EntityKind::Community)
            .map(|e| {
                let n = e.name.clone().unwrap_or_else(|| e.id.to_string());
                (
                    e.representative_point(),
                    Some(e.id.clone()),
                    format!("Air quality, {n}"),
                )
            })
            .collect();
        let mut junctions: Vec<&Entity> = city
            .entities
            .iter()
            .filter(|e| e.intersection().is_some_and(|i| i.signalised))
            .collect();
        for _ in 0..opts.roadside_air_quality.min(junctions.len()) {
            let j = junctions.remove(rng.random_range(0..junctions.len()));
            let n = j.name.clone().unwrap_or_else(|| j.id.to_string());
            sites.push((
                j.representative_point(),
                j.community.clone(),
                format!("Roadside air quality, {n}"),
            ));
        }
        for (k, (at, observes, name)) in sites.into_iter().enumerate() {
            let gw = self.gateway(
                format!("gw-aq-{:02}", k + 1),
                format!("{name} (station modem)"),
            );
            self.add(
                spec(
                    format!("aq-{:02}", k + 1),
                    SensorKind::AirQuality,
                    gw,
                    at,
                    observes,
                    &[
                        "pm25",
                        "pm10",
                        "no2",
                        "o3",
                        "aqi",
                        "temperature",
                        "humidity",
                    ],
                ),
                name,
            );
        }
    }

    /// A smart meter on every building that people use, a data concentrator
    /// per community; PV on a share of large roofs; a head meter per feeder.
    fn meters(&mut self, city: &City, opts: &DemoOptions, rng: &mut rand_chacha::ChaCha8Rng) {
        for b in city
            .entities
            .iter()
            .filter(|e| e.kind == EntityKind::Building)
        {
            let Some(attrs) = b.building() else { continue };
            if attrs.building_use == BuildingUse::Ancillary {
                continue;
            }
            let comm = b
                .community
                .as_ref()
                .map_or("outside", |c| suffix(c))
                .to_owned();
            let gw = self.gateway(
                format!("gw-ami-{comm}"),
                format!("Meter data concentrator, {comm}"),
            );
            let at = b.representative_point();
            let name = b.name.clone().unwrap_or_else(|| b.id.to_string());
            self.add(
                spec(
                    format!("em-{}", suffix(&b.id)),
                    SensorKind::EnergyMeter,
                    gw,
                    at,
                    Some(b.id.clone()),
                    &["power", "energy", "voltage"],
                ),
                format!("Smart meter, {name}"),
            );
            if attrs.footprint_m2 >= 200.0 && rng.random_bool(opts.pv_share.clamp(0.0, 1.0)) {
                let gw = self.gateway(format!("gw-pv-{comm}"), format!("PV monitoring, {comm}"));
                self.add(
                    spec(
                        format!("pv-{}", suffix(&b.id)),
                        SensorKind::PvInverter,
                        gw,
                        at,
                        Some(b.id.clone()),
                        &["pv_power", "irradiance"],
                    ),
                    format!("PV inverter, {name}"),
                );
            }
        }
        for f in city
            .entities
            .iter()
            .filter(|e| e.kind == EntityKind::Feeder)
        {
            let Geometry::LineString(ls) = &f.geometry else {
                continue;
            };
            let Some(head) = ls.0.first() else { continue };
            let comm = f
                .community
                .as_ref()
                .map_or("outside", |c| suffix(c))
                .to_owned();
            let gw = self.gateway(
                format!("gw-substation-{comm}"),
                format!("Substation RTU, {comm}"),
            );
            self.add(
                spec(
                    format!("fm-{}", suffix(&f.id)),
                    SensorKind::EnergyMeter,
                    gw,
                    Point(*head),
                    Some(f.id.clone()),
                    &["power", "voltage", "current"],
                ),
                format!(
                    "Feeder head meter, {}",
                    f.name.clone().unwrap_or_else(|| f.id.to_string())
                ),
            );
        }
    }

    /// Gauges every `gauge_spacing_m` along each shoreline piece (at least
    /// one per piece); one at the centre of the city if it has no shore.
    fn gauges(&mut self, city: &City, shorelines: &[LineString<f64>], opts: &DemoOptions) {
        let gw = self.gateway("gw-hydro".into(), "Hydrology network".into());
        let mut points = Vec::new();
        for ls in shorelines {
            let len = geom::length_m(ls);
            let spacing = opts.gauge_spacing_m.max(1.0);
            let mut d = (len % spacing) / 2.0 + spacing.min(len) / 2.0;
            while d <= len {
                if let Some(p) = geom::point_along(ls, d) {
                    points.push(p);
                }
                d += spacing;
            }
        }
        if points.is_empty() {
            let area = clip_area(city);
            points.push(geo::Centroid::centroid(&area));
        }
        for (k, p) in points.into_iter().enumerate() {
            self.add(
                spec(
                    format!("wl-{:02}", k + 1),
                    SensorKind::WaterLevel,
                    gw.clone(),
                    p,
                    None,
                    &["water_level", "rainfall"],
                ),
                format!("Water-level gauge {}", k + 1),
            );
        }
    }

    /// Per community: a citizen-app reporter, an alarm panel and a noise
    /// monitor (sensor kind `other`).
    fn per_community(&mut self, city: &City) {
        let app = self.gateway("gw-events".into(), "Citizen reporting platform".into());
        let noise = self.gateway("gw-noise".into(), "Noise monitoring network".into());
        for c in city
            .entities
            .iter()
            .filter(|e| e.kind == EntityKind::Community)
        {
            let s = suffix(&c.id).to_owned();
            let n = c.name.clone().unwrap_or_else(|| c.id.to_string());
            let at = c.representative_point();
            let alarm = self.gateway(format!("gw-alarm-{s}"), format!("Alarm panel gateway, {n}"));
            self.add(
                spec(
                    format!("ev-{s}-app"),
                    SensorKind::EventReporter,
                    app.clone(),
                    at,
                    Some(c.id.clone()),
                    &[],
                ),
                format!("Citizen reports, {n}"),
            );
            self.add(
                spec(
                    format!("ev-{s}-alarm"),
                    SensorKind::EventReporter,
                    alarm,
                    at,
                    Some(c.id.clone()),
                    &[],
                ),
                format!("IoT alarm panel, {n}"),
            );
            self.add(
                spec(
                    format!("nz-{s}"),
                    SensorKind::Other,
                    noise.clone(),
                    at,
                    Some(c.id.clone()),
                    &["noise_db", "battery"],
                ),
                format!("Noise monitor, {n}"),
            );
        }
    }
}
