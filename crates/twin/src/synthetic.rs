//! Seeded synthetic cities of any size, for scale and load tests.
//!
//! A synthetic city is a grid: `grid_x × grid_y` intersections `block_m`
//! apart, two-way streets between neighbours (two directed segments each),
//! buildings and POIs inside the blocks, square communities of
//! `community_blocks × community_blocks` blocks with one feeder each, and a
//! sensor deployment like the demo city's. The same spec always gives the
//! same city.
//!
//! ```
//! use twin::synthetic::{generate, SyntheticSpec};
//! let city = generate(&SyntheticSpec::small(1));
//! assert_eq!(city, generate(&SyntheticSpec::small(1)));
//! assert!(city.check().is_ok());
//! ```

use std::collections::BTreeMap;

use domain::{
    EntityId, GatewayId, GatewaySpec, LatLon, Metric, Registry, SensorId, SensorKind, SensorSpec,
};
use geo::{Coord, Geometry, LineString, Point, Polygon};
use rand::RngExt as _;
use rand_chacha::ChaCha8Rng;

use crate::city::{City, sensor_entity};
use crate::entity::{
    BuildingAttrs, BuildingUse, CommunityAttrs, CommunitySource, Entity, EntityAttrs, FeederAttrs,
    IntersectionAttrs, PoiAttrs, PoiCategory, RoadAttrs, RoadClass, road_capacity_veh_h,
};
use crate::geom::LocalProjection;
use crate::rng;

/// Which sensors a synthetic city gets.
#[derive(Debug, Clone, PartialEq)]
pub struct SensorMix {
    /// One traffic detector per approach of every signalised intersection.
    pub detectors: bool,
    /// Share of buildings with a smart meter (0-1).
    pub meter_share: f64,
    /// Share of buildings with a PV inverter (0-1).
    pub pv_share: f64,
    /// Air-quality stations per community.
    pub air_quality_per_community: u32,
    /// Water-level gauges along the southern edge (the "river bank").
    pub water_gauges: u32,
    /// Event reporters (citizen app, alarm panel) per community.
    pub event_reporters_per_community: u32,
    /// Noise monitors (sensor kind `other`) per community.
    pub other_per_community: u32,
}

impl Default for SensorMix {
    fn default() -> Self {
        Self {
            detectors: true,
            meter_share: 0.5,
            pv_share: 0.05,
            air_quality_per_community: 2,
            water_gauges: 3,
            event_reporters_per_community: 1,
            other_per_community: 1,
        }
    }
}

/// The shape of a synthetic city.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticSpec {
    /// Seed of every random choice.
    pub seed: u64,
    /// South-west corner.
    pub origin: LatLon,
    /// Intersections west to east (at least 2).
    pub grid_x: u32,
    /// Intersections south to north (at least 2).
    pub grid_y: u32,
    /// Distance between neighbouring intersections, metres.
    pub block_m: f64,
    /// Buildings per block.
    pub buildings_per_block: u32,
    /// Points of interest per block.
    pub pois_per_block: u32,
    /// Every n-th intersection along each axis is signalised (0: none).
    pub signal_every: u32,
    /// Side of a square community, in blocks.
    pub community_blocks: u32,
    /// Sensors.
    pub sensors: SensorMix,
    /// Smart meters and PV inverters per data-concentrator gateway.
    pub sensors_per_gateway: u32,
}

impl SyntheticSpec {
    /// A 4 × 4 grid with every sensor kind: a few hundred entities.
    pub fn small(seed: u64) -> Self {
        Self {
            seed,
            origin: LatLon {
                lat: 60.16,
                lon: 24.93,
            },
            grid_x: 4,
            grid_y: 4,
            block_m: 120.0,
            buildings_per_block: 4,
            pois_per_block: 1,
            signal_every: 1,
            community_blocks: 2,
            sensors: SensorMix {
                meter_share: 1.0,
                pv_share: 0.25,
                ..SensorMix::default()
            },
            sensors_per_gateway: 16,
        }
    }

    /// A square city of roughly `n` entities (sensors excluded), with 20
    /// buildings and one POI per 100 m block: `n = 10^6` gives a 200 × 200
    /// grid.
    pub fn with_entities(n: usize, seed: u64) -> Self {
        // per grid point: 1 intersection + 4 segments + 21 block entities
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let side = ((n as f64 / 26.0).sqrt().ceil() as u32).max(2);
        Self {
            seed,
            origin: LatLon {
                lat: 60.0,
                lon: 24.0,
            },
            grid_x: side,
            grid_y: side,
            block_m: 100.0,
            buildings_per_block: 20,
            pois_per_block: 1,
            signal_every: 4,
            community_blocks: 10,
            sensors: SensorMix {
                meter_share: 0.0,
                pv_share: 0.0,
                ..SensorMix::default()
            },
            sensors_per_gateway: 500,
        }
    }

    /// Number of blocks.
    pub fn blocks(&self) -> u64 {
        u64::from(self.grid_x.saturating_sub(1)) * u64::from(self.grid_y.saturating_sub(1))
    }

    /// Number of buildings.
    pub fn buildings(&self) -> u64 {
        self.blocks() * u64::from(self.buildings_per_block)
    }
}

/// Generates the city described by `spec`.
///
/// # Panics
/// If the grid is smaller than 2 × 2, or the block or community size is not
/// positive.
pub fn generate(spec: &SyntheticSpec) -> City {
    assert!(
        spec.grid_x >= 2 && spec.grid_y >= 2,
        "a grid needs at least 2 × 2 intersections"
    );
    assert!(
        spec.block_m > 0.0 && spec.community_blocks > 0,
        "block and community sizes must be positive"
    );
    let mut g = Gen::new(spec);
    g.communities();
    g.streets();
    g.blocks();
    g.feeders();
    g.sensors();
    g.finish()
}

struct Gen<'a> {
    spec: &'a SyntheticSpec,
    proj: LocalProjection,
    master: ChaCha8Rng,
    entities: Vec<Entity>,
    specs: Vec<SensorSpec>,
    gateways: BTreeMap<GatewayId, GatewaySpec>,
    /// community ids by (cx, cy)
    comm_ids: Vec<EntityId>,
    comms_x: u32,
    /// buildings (index into `entities`) per community
    comm_buildings: Vec<Vec<usize>>,
    population: Vec<f64>,
}

fn eid(s: String) -> EntityId {
    EntityId::new(s).expect("generated ids use the id grammar")
}

fn sid(s: String) -> SensorId {
    SensorId::new(s).expect("generated ids use the id grammar")
}

fn metrics(names: &[&str]) -> Vec<Metric> {
    names
        .iter()
        .map(|m| Metric::new(m).expect("metric names are valid"))
        .collect()
}

impl<'a> Gen<'a> {
    fn new(spec: &'a SyntheticSpec) -> Self {
        let comms_x = (spec.grid_x - 1).div_ceil(spec.community_blocks);
        let comms_y = (spec.grid_y - 1).div_ceil(spec.community_blocks);
        let n = (comms_x * comms_y) as usize;
        Self {
            spec,
            proj: LocalProjection::new(Point::new(spec.origin.lon, spec.origin.lat)),
            master: rng::seeded(spec.seed),
            entities: Vec::new(),
            specs: Vec::new(),
            gateways: BTreeMap::new(),
            comm_ids: Vec::with_capacity(n),
            comms_x,
            comm_buildings: vec![Vec::new(); n],
            population: vec![0.0; n],
        }
    }

    fn at(&self, x: f64, y: f64) -> Coord<f64> {
        self.proj.to_lonlat(Coord { x, y })
    }

    fn grid(&self, ix: u32, iy: u32) -> Coord<f64> {
        self.at(
            f64::from(ix) * self.spec.block_m,
            f64::from(iy) * self.spec.block_m,
        )
    }

    /// The community index of a point in local metres.
    fn community_at(&self, x: f64, y: f64) -> usize {
        let side = f64::from(self.spec.community_blocks) * self.spec.block_m;
        let comms_y = (self.spec.grid_y - 1).div_ceil(self.spec.community_blocks);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let cx = ((x / side).floor().max(0.0) as u32).min(self.comms_x - 1);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let cy = ((y / side).floor().max(0.0) as u32).min(comms_y - 1);
        (cy * self.comms_x + cx) as usize
    }

    fn communities(&mut self) {
        let cb = self.spec.community_blocks;
        let comms_y = (self.spec.grid_y - 1).div_ceil(cb);
        for cy in 0..comms_y {
            for cx in 0..self.comms_x {
                let x0 = cx * cb;
                let y0 = cy * cb;
                let x1 = (x0 + cb).min(self.spec.grid_x - 1);
                let y1 = (y0 + cb).min(self.spec.grid_y - 1);
                let ring = vec![
                    self.grid(x0, y0),
                    self.grid(x1, y0),
                    self.grid(x1, y1),
                    self.grid(x0, y1),
                    self.grid(x0, y0),
                ];
                let id = eid(format!("c-{cx}-{cy}"));
                let e = Entity::new(
                    id.clone(),
                    Geometry::Polygon(Polygon::new(LineString(ring), vec![])),
                    EntityAttrs::Community(CommunityAttrs {
                        population_est: 0.0,
                        admin_level: None,
                        source: CommunitySource::Synthetic,
                    }),
                )
                .expect("generated coordinates are valid")
                .with_name(format!("District {cx}-{cy}"));
                self.comm_ids.push(id);
                self.entities.push(e);
            }
        }
    }

    /// Interior intersections whose both indices are multiples of
    /// `signal_every` are signalised.
    fn signalised(&self, ix: u32, iy: u32) -> bool {
        let n = self.spec.signal_every;
        let interior = ix > 0 && iy > 0 && ix < self.spec.grid_x - 1 && iy < self.spec.grid_y - 1;
        n > 0 && interior && ix.is_multiple_of(n) && iy.is_multiple_of(n)
    }

    fn streets(&mut self) {
        let (gx, gy) = (self.spec.grid_x, self.spec.grid_y);
        let b = self.spec.block_m;
        for iy in 0..gy {
            for ix in 0..gx {
                let id = eid(format!("i-{ix}-{iy}"));
                let sig = self.signalised(ix, iy);
                let c = self.community_at(f64::from(ix) * b, f64::from(iy) * b);
                let e = Entity::new(
                    id,
                    Geometry::Point(Point(self.grid(ix, iy))),
                    EntityAttrs::Intersection(IntersectionAttrs {
                        signalised: sig,
                        signal_nodes: u32::from(sig),
                        boundary: false,
                    }),
                )
                .expect("generated coordinates are valid")
                .with_community(self.comm_ids[c].clone());
                self.entities.push(e);
            }
        }
        // every 5th row and column is a secondary street, the rest residential
        for iy in 0..gy {
            for ix in 0..gx {
                if ix + 1 < gx {
                    let class = if iy % 5 == 0 {
                        RoadClass::Secondary
                    } else {
                        RoadClass::Residential
                    };
                    self.street((ix, iy), (ix + 1, iy), class);
                }
                if iy + 1 < gy {
                    let class = if ix % 5 == 0 {
                        RoadClass::Secondary
                    } else {
                        RoadClass::Residential
                    };
                    self.street((ix, iy), (ix, iy + 1), class);
                }
            }
        }
    }

    fn street(&mut self, a: (u32, u32), b: (u32, u32), class: RoadClass) {
        let bm = self.spec.block_m;
        let mid = (
            f64::from(a.0 + b.0) * bm / 2.0,
            f64::from(a.1 + b.1) * bm / 2.0,
        );
        let comm = self.comm_ids[self.community_at(mid.0, mid.1)].clone();
        let name = if a.1 == b.1 {
            format!("Street {}", a.1)
        } else {
            format!("Avenue {}", a.0)
        };
        for (from, to) in [(a, b), (b, a)] {
            let dir = match (
                i64::from(to.0) - i64::from(from.0),
                i64::from(to.1) - i64::from(from.1),
            ) {
                (1, _) => 'e',
                (-1, _) => 'w',
                (_, 1) => 'n',
                _ => 's',
            };
            let lanes = class.default_lanes();
            let e = Entity::new(
                eid(format!("r-{}-{}-{dir}", from.0, from.1)),
                Geometry::LineString(LineString(vec![
                    self.grid(from.0, from.1),
                    self.grid(to.0, to.1),
                ])),
                EntityAttrs::Road(RoadAttrs {
                    from: eid(format!("i-{}-{}", from.0, from.1)),
                    to: eid(format!("i-{}-{}", to.0, to.1)),
                    length_m: bm,
                    lanes,
                    speed_limit_kmh: class.default_speed_kmh(),
                    capacity_veh_h: road_capacity_veh_h(class, lanes),
                    oneway: false,
                    class,
                }),
            )
            .expect("generated coordinates are valid")
            .with_name(name.clone())
            .with_community(comm.clone());
            self.entities.push(e);
        }
    }

    fn blocks(&mut self) {
        let mut rng = rng::fork(&mut self.master);
        let spec = self.spec;
        let b = spec.block_m;
        let per = spec.buildings_per_block;
        let k = f64::from(per).sqrt().ceil().max(1.0);
        let margin = (b * 0.08).min(10.0);
        let lot = (b - 2.0 * margin) / k;
        let mut n_b = 0u64;
        let mut n_p = 0u64;
        for by in 0..spec.grid_y - 1 {
            for bx in 0..spec.grid_x - 1 {
                let (x0, y0) = (f64::from(bx) * b + margin, f64::from(by) * b + margin);
                let c = self.community_at(x0 + b / 2.0 - margin, y0 + b / 2.0 - margin);
                for i in 0..per {
                    let (col, row) = (f64::from(i) % k, (f64::from(i) / k).floor());
                    let (lx, ly) = (x0 + col * lot, y0 + row * lot);
                    let w = lot * rng.random_range(0.55..0.85);
                    let h = lot * rng.random_range(0.55..0.85);
                    let (ox, oy) = (lx + (lot - w) / 2.0, ly + (lot - h) / 2.0);
                    let ring = vec![
                        self.at(ox, oy),
                        self.at(ox + w, oy),
                        self.at(ox + w, oy + h),
                        self.at(ox, oy + h),
                        self.at(ox, oy),
                    ];
                    let levels = f64::from(rng.random_range(2u32..9));
                    let u = match rng.random_range(0u32..20) {
                        0..12 => BuildingUse::Residential,
                        12..16 => BuildingUse::Commercial,
                        16..19 => BuildingUse::Mixed,
                        _ => BuildingUse::Public,
                    };
                    let footprint = w * h;
                    let floor = footprint * levels;
                    let residents = (floor * u.residential_share() / 40.0).round();
                    self.population[c] += residents;
                    let e = Entity::new(
                        eid(format!("b-{n_b}")),
                        Geometry::Polygon(Polygon::new(LineString(ring), vec![])),
                        EntityAttrs::Building(BuildingAttrs {
                            levels: Some(levels),
                            height_m: Some(levels * 3.0),
                            building_use: u,
                            footprint_m2: footprint,
                            floor_area_m2: floor,
                            residents_est: residents,
                            feeder: None,
                        }),
                    )
                    .expect("generated coordinates are valid")
                    .with_community(self.comm_ids[c].clone());
                    self.comm_buildings[c].push(self.entities.len());
                    self.entities.push(e);
                    n_b += 1;
                }
                for _ in 0..spec.pois_per_block {
                    let cat = PoiCategory::ALL[rng.random_range(0..PoiCategory::ALL.len())];
                    let (px, py) = (
                        x0 + rng.random_range(0.0..b - 2.0 * margin),
                        y0 + rng.random_range(0.0..b - 2.0 * margin),
                    );
                    let e = Entity::new(
                        eid(format!("p-{n_p}")),
                        Geometry::Point(Point(self.at(px, py))),
                        EntityAttrs::Poi(PoiAttrs { category: cat }),
                    )
                    .expect("generated coordinates are valid")
                    .with_community(self.comm_ids[c].clone());
                    self.entities.push(e);
                    n_p += 1;
                }
            }
        }
    }

    /// One feeder per community, drawn through its buildings in generation
    /// order (block by block), rated 1.3 × an assumed 30 W/m² peak.
    fn feeders(&mut self) {
        for (c, members) in self.comm_buildings.clone().iter().enumerate() {
            if members.is_empty() {
                continue;
            }
            let step = (members.len() / 64).max(1);
            let coords: Vec<Coord<f64>> = members
                .iter()
                .step_by(step)
                .map(|&i| self.entities[i].representative_point().0)
                .collect();
            let coords = if coords.len() < 2 {
                vec![coords[0], self.entities[c].representative_point().0]
            } else {
                coords
            };
            let floor: f64 = members
                .iter()
                .filter_map(|&i| self.entities[i].building().map(|b| b.floor_area_m2))
                .sum();
            let id = eid(format!("f-{}", &self.comm_ids[c].as_str()[2..]));
            let e = Entity::new(
                id.clone(),
                Geometry::LineString(LineString(coords)),
                EntityAttrs::Feeder(FeederAttrs {
                    voltage_kv: 10.0,
                    rated_kva: (floor * 0.030 * 1.3).round(),
                    substation: Some(format!("substation {}", &self.comm_ids[c].as_str()[2..])),
                }),
            )
            .expect("generated coordinates are valid")
            .with_community(self.comm_ids[c].clone());
            for &i in members {
                if let EntityAttrs::Building(b) = &mut self.entities[i].attrs {
                    b.feeder = Some(id.clone());
                }
            }
            self.entities.push(e);
        }
        for (i, &pop) in self.population.iter().enumerate() {
            if let EntityAttrs::Community(c) = &mut self.entities[i].attrs {
                c.population_est = pop;
            }
        }
    }

    fn gateway(&mut self, id: String, name: String) -> GatewayId {
        let gid = GatewayId::new(id).expect("generated ids use the id grammar");
        self.gateways
            .entry(gid.clone())
            .or_insert_with(|| GatewaySpec {
                id: gid.clone(),
                name,
            });
        gid
    }

    #[allow(clippy::too_many_arguments)]
    fn sensor(
        &mut self,
        id: String,
        kind: SensorKind,
        gw: GatewayId,
        at: Coord<f64>,
        observes: Option<EntityId>,
        m: &[&str],
    ) {
        self.specs.push(SensorSpec {
            id: sid(id),
            kind,
            gateway: gw,
            location: LatLon {
                lat: at.y,
                lon: at.x,
            },
            observes,
            metrics: metrics(m),
        });
    }

    fn sensors(&mut self) {
        let mut rng = rng::fork(&mut self.master);
        let spec = self.spec;
        let b = spec.block_m;
        let mix = spec.sensors.clone();
        if mix.detectors {
            for iy in 0..spec.grid_y {
                for ix in 0..spec.grid_x {
                    if !self.signalised(ix, iy) {
                        continue;
                    }
                    let gw = self.gateway(
                        format!("gw-tsc-{ix}-{iy}"),
                        format!("Signal controller {ix}-{iy}"),
                    );
                    // approaches: from west (e), south (n), east (w), north (s)
                    for (dx, dy, dir) in
                        [(-1i64, 0i64, 'e'), (0, -1, 'n'), (1, 0, 'w'), (0, 1, 's')]
                    {
                        let (fx, fy) = (i64::from(ix) + dx, i64::from(iy) + dy);
                        #[allow(clippy::cast_precision_loss)]
                        let at = self.at(
                            f64::from(ix) * b + (dx as f64) * 20.0,
                            f64::from(iy) * b + (dy as f64) * 20.0,
                        );
                        let road = eid(format!("r-{fx}-{fy}-{dir}"));
                        self.sensor(
                            format!("det-{ix}-{iy}-{dir}"),
                            SensorKind::TrafficDetector,
                            gw.clone(),
                            at,
                            Some(road),
                            &["flow", "count", "speed", "occupancy"],
                        );
                    }
                }
            }
        }
        let comm_count = self.comm_ids.len();
        for c in 0..comm_count {
            let members = self.comm_buildings[c].clone();
            let cname = self.comm_ids[c].as_str()[2..].to_owned();
            let mut meters = 0u32;
            let mut gw_meter = None;
            for &i in &members {
                let (bid, at) = (
                    self.entities[i].id.clone(),
                    self.entities[i].representative_point().0,
                );
                let n = bid.as_str()[2..].to_owned();
                let want_meter = rng.random_bool(mix.meter_share.clamp(0.0, 1.0));
                let want_pv = rng.random_bool(mix.pv_share.clamp(0.0, 1.0));
                for (want, kind, prefix, m) in [
                    (
                        want_meter,
                        SensorKind::EnergyMeter,
                        "em",
                        &["power", "energy", "voltage"][..],
                    ),
                    (
                        want_pv,
                        SensorKind::PvInverter,
                        "pv",
                        &["pv_power", "irradiance"][..],
                    ),
                ] {
                    if !want {
                        continue;
                    }
                    if meters.is_multiple_of(spec.sensors_per_gateway.max(1)) {
                        let k = meters / spec.sensors_per_gateway.max(1);
                        gw_meter = Some(self.gateway(
                            format!("gw-ami-{cname}-{k}"),
                            format!("Data concentrator {cname}/{k}"),
                        ));
                    }
                    meters += 1;
                    let gw = gw_meter.clone().expect("set above");
                    self.sensor(format!("{prefix}-{n}"), kind, gw, at, Some(bid.clone()), m);
                }
            }
            let cx = (c as u32 % self.comms_x) * spec.community_blocks;
            let cy = (c as u32 / self.comms_x) * spec.community_blocks;
            let span_x = f64::from(spec.community_blocks.min(spec.grid_x - 1 - cx)) * b;
            let span_y = f64::from(spec.community_blocks.min(spec.grid_y - 1 - cy)) * b;
            let (x0, y0) = (f64::from(cx) * b, f64::from(cy) * b);
            let place = |rng: &mut ChaCha8Rng| {
                self.proj.to_lonlat(Coord {
                    x: x0 + rng.random_range(0.0..span_x),
                    y: y0 + rng.random_range(0.0..span_y),
                })
            };
            let mut todo = Vec::new();
            for k in 0..mix.air_quality_per_community {
                todo.push((
                    format!("aq-{cname}-{k}"),
                    SensorKind::AirQuality,
                    Some(format!("gw-aq-{cname}-{k}")),
                    place(&mut rng),
                ));
            }
            for k in 0..mix.event_reporters_per_community {
                todo.push((
                    format!("ev-{cname}-{k}"),
                    SensorKind::EventReporter,
                    None,
                    place(&mut rng),
                ));
            }
            for k in 0..mix.other_per_community {
                todo.push((
                    format!("nz-{cname}-{k}"),
                    SensorKind::Other,
                    None,
                    place(&mut rng),
                ));
            }
            for (id, kind, gw, at) in todo {
                let gw = match (kind, gw) {
                    (_, Some(g)) => self.gateway(g, format!("Air-quality station {id}")),
                    (SensorKind::EventReporter, None) => {
                        self.gateway("gw-events".into(), "Citizen reports".into())
                    }
                    _ => self.gateway("gw-noise".into(), "Noise network".into()),
                };
                let m: &[&str] = match kind {
                    SensorKind::AirQuality => &[
                        "pm25",
                        "pm10",
                        "no2",
                        "o3",
                        "aqi",
                        "temperature",
                        "humidity",
                    ],
                    SensorKind::EventReporter => &[],
                    _ => &["noise_db", "battery"],
                };
                self.sensor(id, kind, gw, at, Some(self.comm_ids[c].clone()), m);
            }
        }
        if mix.water_gauges > 0 {
            let gw = self.gateway("gw-hydro".into(), "Hydrology network".into());
            let width = f64::from(spec.grid_x - 1) * b;
            for k in 0..mix.water_gauges {
                let x = width * (f64::from(k) + 0.5) / f64::from(mix.water_gauges);
                let at = self.at(x, -15.0);
                self.sensor(
                    format!("wl-{k}"),
                    SensorKind::WaterLevel,
                    gw.clone(),
                    at,
                    None,
                    &["water_level", "water_flow", "rainfall"],
                );
            }
        }
    }

    fn finish(mut self) -> City {
        let specs = std::mem::take(&mut self.specs);
        for s in &specs {
            let local = self.proj.to_local(Coord {
                x: s.location.lon,
                y: s.location.lat,
            });
            let c = self.community_at(local.x, local.y);
            let e = sensor_entity(s.clone())
                .expect("generated coordinates are valid")
                .with_community(self.comm_ids[c].clone());
            self.entities.push(e);
        }
        let registry = Registry::new(self.gateways.into_values(), specs);
        let mut city = City {
            name: format!(
                "Synthetic {}×{} (seed {})",
                self.spec.grid_x, self.spec.grid_y, self.spec.seed
            ),
            entities: self.entities,
            registry,
            attribution: None,
            bounds: None,
        };
        city.bounds = city.entity_bounds();
        city
    }
}
