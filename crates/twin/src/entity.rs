//! Twin entities: identity, WGS-84 geometry, H3 placement and per-kind attributes.

use std::collections::BTreeMap;

use domain::{EntityId, EntityKind, SensorSpec};
use geo::{Geometry, Point, Rect};
use h3o::{CellIndex, Resolution};
use serde::{Deserialize, Serialize};

use crate::geom;

/// The resolution at which entities are placed unless a twin is configured
/// otherwise (res 10: cells of about 15,000 m², edge about 66 m).
pub const DEFAULT_BASE_RESOLUTION: Resolution = Resolution::Ten;

/// One thing in the city: a road segment, intersection, building, point of
/// interest, community, feeder or sensor.
///
/// Invariants (checked by [`Entity::check`], kept by [`Entity::new`]):
/// `kind == attrs.kind()`; the geometry is non-empty with valid lon/lat
/// coordinates; `cell` holds the representative point; a sensor's entity id
/// equals its sensor id.
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    /// Unique id within the city.
    pub id: EntityId,
    /// What it is; always equal to `attrs.kind()`.
    pub kind: EntityKind,
    /// Display name (street names for roads, `A / B` for intersections).
    pub name: Option<String>,
    /// WGS-84 geometry, x = longitude, y = latitude (degrees).
    pub geometry: Geometry<f64>,
    /// The H3 cell of the representative point, at the base resolution.
    pub cell: CellIndex,
    /// The community (district, ward) the entity lies in, if known.
    pub community: Option<EntityId>,
    /// Kind-specific attributes.
    pub attrs: EntityAttrs,
    /// Free-form source tags (OSM tags, GeoJSON extra properties).
    pub tags: BTreeMap<String, String>,
}

/// Why an entity is malformed. Each variant names the entity.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EntityError {
    /// The geometry has no coordinates.
    #[error("entity {0} has an empty geometry")]
    EmptyGeometry(EntityId),
    /// A coordinate is not a valid lon/lat.
    #[error("entity {id} has an invalid coordinate lon={lon}, lat={lat}")]
    BadCoordinate {
        /// The entity.
        id: EntityId,
        /// Longitude found.
        lon: f64,
        /// Latitude found.
        lat: f64,
    },
    /// `kind` disagrees with the attributes.
    #[error("entity {id} is declared {kind} but carries {attrs} attributes")]
    KindMismatch {
        /// The entity.
        id: EntityId,
        /// The declared kind.
        kind: EntityKind,
        /// The kind of the attributes.
        attrs: EntityKind,
    },
    /// A sensor entity whose id differs from its sensor id.
    #[error("sensor entity {id} carries the spec of sensor {sensor}")]
    SensorIdMismatch {
        /// The entity.
        id: EntityId,
        /// The sensor id in the spec.
        sensor: String,
    },
    /// `cell` does not hold the representative point at its resolution.
    #[error("entity {id} is placed in cell {cell}, expected {expected}")]
    WrongCell {
        /// The entity.
        id: EntityId,
        /// The cell found.
        cell: CellIndex,
        /// The cell of the representative point.
        expected: CellIndex,
    },
}

impl Entity {
    /// Builds an entity placed at [`DEFAULT_BASE_RESOLUTION`]; the kind follows
    /// from the attributes.
    pub fn new(
        id: EntityId,
        geometry: Geometry<f64>,
        attrs: EntityAttrs,
    ) -> Result<Self, EntityError> {
        Self::at_resolution(id, geometry, attrs, DEFAULT_BASE_RESOLUTION)
    }

    /// Builds an entity placed at `res`.
    pub fn at_resolution(
        id: EntityId,
        geometry: Geometry<f64>,
        attrs: EntityAttrs,
        res: Resolution,
    ) -> Result<Self, EntityError> {
        let cell = place(&id, &geometry, res)?;
        let e = Self {
            kind: attrs.kind(),
            id,
            name: None,
            geometry,
            cell,
            community: None,
            attrs,
            tags: BTreeMap::new(),
        };
        e.check_attrs()?;
        Ok(e)
    }

    /// Sets the display name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the community.
    #[must_use]
    pub fn with_community(mut self, community: EntityId) -> Self {
        self.community = Some(community);
        self
    }

    /// Adds a tag.
    #[must_use]
    pub fn with_tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// Re-places the entity at another resolution.
    pub fn place_at(&mut self, res: Resolution) -> Result<(), EntityError> {
        self.cell = place(&self.id, &self.geometry, res)?;
        Ok(())
    }

    /// Checks every invariant listed on [`Entity`].
    pub fn check(&self) -> Result<(), EntityError> {
        self.check_attrs()?;
        let expected = place(&self.id, &self.geometry, self.cell.resolution())?;
        if expected != self.cell {
            return Err(EntityError::WrongCell {
                id: self.id.clone(),
                cell: self.cell,
                expected,
            });
        }
        Ok(())
    }

    fn check_attrs(&self) -> Result<(), EntityError> {
        if self.kind != self.attrs.kind() {
            return Err(EntityError::KindMismatch {
                id: self.id.clone(),
                kind: self.kind,
                attrs: self.attrs.kind(),
            });
        }
        if let EntityAttrs::Sensor(spec) = &self.attrs
            && spec.id.as_str() != self.id.as_str()
        {
            return Err(EntityError::SensorIdMismatch {
                id: self.id.clone(),
                sensor: spec.id.to_string(),
            });
        }
        Ok(())
    }

    /// The point that stands for the entity (see [`geom::representative_point`]).
    pub fn representative_point(&self) -> Point<f64> {
        geom::representative_point(&self.geometry).unwrap_or_else(|| geom::cell_center(self.cell))
    }

    /// The bounding rectangle of the geometry.
    pub fn bounds(&self) -> Rect<f64> {
        geom::bounds(&self.geometry).unwrap_or_else(|| {
            let p = self.representative_point();
            Rect::new(p.0, p.0)
        })
    }

    /// The road attributes, if this is a road segment.
    pub fn road(&self) -> Option<&RoadAttrs> {
        match &self.attrs {
            EntityAttrs::Road(r) => Some(r),
            _ => None,
        }
    }

    /// The intersection attributes, if this is an intersection.
    pub fn intersection(&self) -> Option<&IntersectionAttrs> {
        match &self.attrs {
            EntityAttrs::Intersection(i) => Some(i),
            _ => None,
        }
    }

    /// The building attributes, if this is a building.
    pub fn building(&self) -> Option<&BuildingAttrs> {
        match &self.attrs {
            EntityAttrs::Building(b) => Some(b),
            _ => None,
        }
    }

    /// The POI attributes, if this is a point of interest.
    pub fn poi(&self) -> Option<&PoiAttrs> {
        match &self.attrs {
            EntityAttrs::Poi(p) => Some(p),
            _ => None,
        }
    }

    /// The community attributes, if this is a community.
    pub fn community_attrs(&self) -> Option<&CommunityAttrs> {
        match &self.attrs {
            EntityAttrs::Community(c) => Some(c),
            _ => None,
        }
    }

    /// The feeder attributes, if this is a feeder.
    pub fn feeder(&self) -> Option<&FeederAttrs> {
        match &self.attrs {
            EntityAttrs::Feeder(f) => Some(f),
            _ => None,
        }
    }

    /// The sensor spec, if this is a sensor.
    pub fn sensor(&self) -> Option<&SensorSpec> {
        match &self.attrs {
            EntityAttrs::Sensor(s) => Some(s),
            _ => None,
        }
    }
}

fn place(id: &EntityId, g: &Geometry<f64>, res: Resolution) -> Result<CellIndex, EntityError> {
    if let Some(c) = geom::first_invalid_coord(g) {
        return Err(EntityError::BadCoordinate {
            id: id.clone(),
            lon: c.x,
            lat: c.y,
        });
    }
    let p = geom::representative_point(g).ok_or_else(|| EntityError::EmptyGeometry(id.clone()))?;
    geom::cell_of(p, res).ok_or(EntityError::BadCoordinate {
        id: id.clone(),
        lon: p.x(),
        lat: p.y(),
    })
}

/// Kind-specific attributes. The JSON form is tagged with `type`, the NGSI-LD
/// entity type name (`{"type": "RoadSegment", "from": ..., ...}`), so it can be
/// stored as one JSON column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum EntityAttrs {
    /// A directed road segment.
    #[serde(rename = "RoadSegment")]
    Road(RoadAttrs),
    /// A junction.
    Intersection(IntersectionAttrs),
    /// A building.
    Building(BuildingAttrs),
    /// A point of interest.
    #[serde(rename = "PointOfInterest")]
    Poi(PoiAttrs),
    /// A community or district.
    Community(CommunityAttrs),
    /// An electrical feeder.
    Feeder(FeederAttrs),
    /// A sensor.
    Sensor(SensorSpec),
}

impl EntityAttrs {
    /// The entity kind these attributes describe.
    pub const fn kind(&self) -> EntityKind {
        match self {
            EntityAttrs::Road(_) => EntityKind::RoadSegment,
            EntityAttrs::Intersection(_) => EntityKind::Intersection,
            EntityAttrs::Building(_) => EntityKind::Building,
            EntityAttrs::Poi(_) => EntityKind::PointOfInterest,
            EntityAttrs::Community(_) => EntityKind::Community,
            EntityAttrs::Feeder(_) => EntityKind::Feeder,
            EntityAttrs::Sensor(_) => EntityKind::Sensor,
        }
    }
}

/// A directed road segment from one intersection to the next.
///
/// A two-way street becomes two segments, one per direction, each with its
/// own lanes and capacity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoadAttrs {
    /// The intersection it leaves.
    pub from: EntityId,
    /// The intersection it enters.
    pub to: EntityId,
    /// Length along the geometry, metres.
    pub length_m: f64,
    /// Lanes in the direction of travel (at least 1).
    pub lanes: u8,
    /// Speed limit, km/h (tagged `maxspeed`, else the class default).
    pub speed_limit_kmh: f64,
    /// Capacity in vehicles per hour: `lanes × class.lane_capacity_veh_h()`.
    pub capacity_veh_h: f64,
    /// Whether the street is one-way (no segment runs the other way).
    pub oneway: bool,
    /// Road class (OSM `highway=*`).
    pub class: RoadClass,
}

impl RoadAttrs {
    /// Free-flow travel time in seconds at the speed limit.
    pub fn free_flow_s(&self) -> f64 {
        self.length_m / (self.speed_limit_kmh.max(1.0) / 3.6)
    }
}

/// Road classes, named as OSM `highway=*` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum RoadClass {
    Motorway,
    MotorwayLink,
    Trunk,
    TrunkLink,
    Primary,
    PrimaryLink,
    Secondary,
    SecondaryLink,
    Tertiary,
    TertiaryLink,
    Unclassified,
    Residential,
    LivingStreet,
    Service,
    /// `highway=road`: class unknown.
    Road,
}

impl RoadClass {
    /// Every class, most important first.
    pub const ALL: [RoadClass; 15] = [
        RoadClass::Motorway,
        RoadClass::MotorwayLink,
        RoadClass::Trunk,
        RoadClass::TrunkLink,
        RoadClass::Primary,
        RoadClass::PrimaryLink,
        RoadClass::Secondary,
        RoadClass::SecondaryLink,
        RoadClass::Tertiary,
        RoadClass::TertiaryLink,
        RoadClass::Unclassified,
        RoadClass::Residential,
        RoadClass::LivingStreet,
        RoadClass::Service,
        RoadClass::Road,
    ];

    /// The OSM `highway=*` value.
    pub const fn as_str(self) -> &'static str {
        match self {
            RoadClass::Motorway => "motorway",
            RoadClass::MotorwayLink => "motorway_link",
            RoadClass::Trunk => "trunk",
            RoadClass::TrunkLink => "trunk_link",
            RoadClass::Primary => "primary",
            RoadClass::PrimaryLink => "primary_link",
            RoadClass::Secondary => "secondary",
            RoadClass::SecondaryLink => "secondary_link",
            RoadClass::Tertiary => "tertiary",
            RoadClass::TertiaryLink => "tertiary_link",
            RoadClass::Unclassified => "unclassified",
            RoadClass::Residential => "residential",
            RoadClass::LivingStreet => "living_street",
            RoadClass::Service => "service",
            RoadClass::Road => "road",
        }
    }

    /// Parses an OSM `highway=*` value; `None` for ways that are not drivable
    /// roads (footway, cycleway, path, steps, pedestrian, track, ...).
    pub fn from_osm(highway: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == highway)
    }

    /// Capacity of one lane in vehicles per hour.
    ///
    /// The per-lane rule follows the highway defaults of MATSim's OSM network
    /// reader: motorway and trunk 2,000; their links and primary roads 1,500;
    /// secondary 1,000; tertiary, unclassified and residential 600; living
    /// streets 300. Links take their parent's value except motorway/trunk links
    /// (1,500). Service roads and `highway=road`, which MATSim does not list,
    /// get 300 and 600.
    pub const fn lane_capacity_veh_h(self) -> f64 {
        match self {
            RoadClass::Motorway | RoadClass::Trunk => 2000.0,
            RoadClass::MotorwayLink | RoadClass::TrunkLink => 1500.0,
            RoadClass::Primary | RoadClass::PrimaryLink => 1500.0,
            RoadClass::Secondary | RoadClass::SecondaryLink => 1000.0,
            RoadClass::Tertiary
            | RoadClass::TertiaryLink
            | RoadClass::Unclassified
            | RoadClass::Residential
            | RoadClass::Road => 600.0,
            RoadClass::LivingStreet | RoadClass::Service => 300.0,
        }
    }

    /// Speed limit assumed when `maxspeed` is absent, km/h (European urban
    /// limits: 50 on main streets, 40 on tertiary and minor roads, 30 in
    /// residential streets, 20 in living streets and service roads).
    pub const fn default_speed_kmh(self) -> f64 {
        match self {
            RoadClass::Motorway => 100.0,
            RoadClass::Trunk => 80.0,
            RoadClass::MotorwayLink | RoadClass::TrunkLink => 60.0,
            RoadClass::Primary
            | RoadClass::PrimaryLink
            | RoadClass::Secondary
            | RoadClass::SecondaryLink => 50.0,
            RoadClass::Tertiary
            | RoadClass::TertiaryLink
            | RoadClass::Unclassified
            | RoadClass::Road => 40.0,
            RoadClass::Residential => 30.0,
            RoadClass::LivingStreet | RoadClass::Service => 20.0,
        }
    }

    /// Lanes per direction assumed when `lanes` is absent: 2 on motorways and
    /// trunk roads, else 1.
    pub const fn default_lanes(self) -> u8 {
        match self {
            RoadClass::Motorway | RoadClass::Trunk => 2,
            _ => 1,
        }
    }

    /// Whether the class is one-way unless tagged otherwise (motorways and
    /// motorway links, as in OSM practice).
    pub const fn implies_oneway(self) -> bool {
        matches!(self, RoadClass::Motorway | RoadClass::MotorwayLink)
    }
}

/// Capacity of a road segment: lanes times the class's per-lane capacity.
pub fn road_capacity_veh_h(class: RoadClass, lanes: u8) -> f64 {
    f64::from(lanes.max(1)) * class.lane_capacity_veh_h()
}

/// A junction of road segments (or the end of one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntersectionAttrs {
    /// Whether traffic signals control it.
    pub signalised: bool,
    /// How many `highway=traffic_signals` nodes were attached to it (0 when
    /// not imported from OSM or not signalised).
    #[serde(default)]
    pub signal_nodes: u32,
    /// Whether a road was cut here by the edge of the extract (not a real
    /// junction or dead end).
    #[serde(default)]
    pub boundary: bool,
}

/// What a building is mostly used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildingUse {
    /// Dwellings (apartments, houses, dormitories).
    Residential,
    /// Offices, shops, hotels.
    Commercial,
    /// Schools, hospitals, government, churches, stations.
    Public,
    /// Factories, warehouses.
    Industrial,
    /// Unknown or mixed (`building=yes`): in a city centre, typically shops
    /// below and flats or offices above.
    Mixed,
    /// Not a place people stay (garages, roofs, sheds, kiosks).
    Ancillary,
}

impl BuildingUse {
    /// Every use.
    pub const ALL: [BuildingUse; 6] = [
        BuildingUse::Residential,
        BuildingUse::Commercial,
        BuildingUse::Public,
        BuildingUse::Industrial,
        BuildingUse::Mixed,
        BuildingUse::Ancillary,
    ];

    /// The snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            BuildingUse::Residential => "residential",
            BuildingUse::Commercial => "commercial",
            BuildingUse::Public => "public",
            BuildingUse::Industrial => "industrial",
            BuildingUse::Mixed => "mixed",
            BuildingUse::Ancillary => "ancillary",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.as_str() == s)
    }

    /// Classifies an OSM `building=*` value.
    pub fn from_osm(building: &str) -> Self {
        match building {
            "apartments" | "residential" | "house" | "detached" | "semidetached_house"
            | "terrace" | "dormitory" | "bungalow" | "cabin" | "farm" => BuildingUse::Residential,
            "commercial" | "office" | "retail" | "supermarket" | "hotel" | "warehouse_retail" => {
                BuildingUse::Commercial
            }
            "public" | "civic" | "government" | "school" | "university" | "college"
            | "kindergarten" | "hospital" | "church" | "cathedral" | "chapel" | "mosque"
            | "synagogue" | "temple" | "religious" | "train_station" | "transportation"
            | "museum" | "library" | "fire_station" | "sports_hall" | "stadium" | "theatre"
            | "parliament" => BuildingUse::Public,
            "industrial" | "warehouse" | "factory" | "manufacture" | "service" => {
                BuildingUse::Industrial
            }
            "garage" | "garages" | "roof" | "shed" | "kiosk" | "carport" | "parking" | "hut"
            | "bunker" | "construction" | "ruins" | "container" | "toilets"
            | "transformer_tower" => BuildingUse::Ancillary,
            _ => BuildingUse::Mixed,
        }
    }

    /// Share of the floor area assumed to be dwellings when estimating
    /// residents: 1 for residential, 0.5 for mixed/unknown, 0 otherwise.
    pub const fn residential_share(self) -> f64 {
        match self {
            BuildingUse::Residential => 1.0,
            BuildingUse::Mixed => 0.5,
            _ => 0.0,
        }
    }
}

/// A building footprint with size and occupancy estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildingAttrs {
    /// Storeys above ground as tagged (`building:levels`), if tagged.
    pub levels: Option<f64>,
    /// Height in metres as tagged (`height`), if tagged.
    pub height_m: Option<f64>,
    /// Main use.
    #[serde(rename = "use")]
    pub building_use: BuildingUse,
    /// Footprint area, m² (0 for buildings mapped as points).
    pub footprint_m2: f64,
    /// Gross floor area, m²: footprint × levels (tagged, else from the height
    /// at 3 m per storey, else the importer's default).
    pub floor_area_m2: f64,
    /// Estimated residents: floor area × residential share / m² per resident.
    pub residents_est: f64,
    /// The electrical feeder that supplies it, if known.
    #[serde(default)]
    pub feeder: Option<EntityId>,
}

/// Normalised point-of-interest categories. OSM `amenity`, `shop` and
/// `healthcare` values map onto these (see [`PoiCategory::from_osm_tags`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PoiCategory {
    /// Clinic or doctor's practice.
    Clinic,
    /// Dentist.
    Dentist,
    /// Hospital.
    Hospital,
    /// Pharmacy.
    Pharmacy,
    /// Kindergarten or childcare.
    Kindergarten,
    /// School.
    School,
    /// University or college.
    University,
    /// Library.
    Library,
    /// Open-air or covered marketplace.
    Market,
    /// Food shop (supermarket, convenience, greengrocer, bakery, butcher).
    Grocery,
    /// Community centre or social facility.
    CommunityCentre,
    /// Town hall, courthouse, post office and other public offices.
    PublicService,
    /// Fire station.
    FireStation,
    /// Police.
    Police,
    /// Restaurant or fast food.
    Restaurant,
    /// Cafe.
    Cafe,
    /// Bar, pub or nightclub.
    Bar,
    /// Bank or ATM.
    Bank,
    /// Place of worship.
    PlaceOfWorship,
    /// Theatre, cinema, arts centre, museum.
    Culture,
    /// Bus station, ferry terminal, taxi rank.
    Transit,
    /// Car or bicycle parking.
    Parking,
    /// Charging station.
    ChargingStation,
    /// Bicycle rental or car sharing.
    SharedMobility,
    /// Any other shop.
    Shop,
}

impl PoiCategory {
    /// Every category.
    pub const ALL: [PoiCategory; 25] = [
        PoiCategory::Clinic,
        PoiCategory::Dentist,
        PoiCategory::Hospital,
        PoiCategory::Pharmacy,
        PoiCategory::Kindergarten,
        PoiCategory::School,
        PoiCategory::University,
        PoiCategory::Library,
        PoiCategory::Market,
        PoiCategory::Grocery,
        PoiCategory::CommunityCentre,
        PoiCategory::PublicService,
        PoiCategory::FireStation,
        PoiCategory::Police,
        PoiCategory::Restaurant,
        PoiCategory::Cafe,
        PoiCategory::Bar,
        PoiCategory::Bank,
        PoiCategory::PlaceOfWorship,
        PoiCategory::Culture,
        PoiCategory::Transit,
        PoiCategory::Parking,
        PoiCategory::ChargingStation,
        PoiCategory::SharedMobility,
        PoiCategory::Shop,
    ];

    /// The snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            PoiCategory::Clinic => "clinic",
            PoiCategory::Dentist => "dentist",
            PoiCategory::Hospital => "hospital",
            PoiCategory::Pharmacy => "pharmacy",
            PoiCategory::Kindergarten => "kindergarten",
            PoiCategory::School => "school",
            PoiCategory::University => "university",
            PoiCategory::Library => "library",
            PoiCategory::Market => "market",
            PoiCategory::Grocery => "grocery",
            PoiCategory::CommunityCentre => "community_centre",
            PoiCategory::PublicService => "public_service",
            PoiCategory::FireStation => "fire_station",
            PoiCategory::Police => "police",
            PoiCategory::Restaurant => "restaurant",
            PoiCategory::Cafe => "cafe",
            PoiCategory::Bar => "bar",
            PoiCategory::Bank => "bank",
            PoiCategory::PlaceOfWorship => "place_of_worship",
            PoiCategory::Culture => "culture",
            PoiCategory::Transit => "transit",
            PoiCategory::Parking => "parking",
            PoiCategory::ChargingStation => "charging_station",
            PoiCategory::SharedMobility => "shared_mobility",
            PoiCategory::Shop => "shop",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether the category is a daily-life service counted by the
    /// 15-minute-city accessibility indicators (health, education, food,
    /// community).
    pub const fn is_essential_service(self) -> bool {
        matches!(
            self,
            PoiCategory::Clinic
                | PoiCategory::Dentist
                | PoiCategory::Hospital
                | PoiCategory::Pharmacy
                | PoiCategory::Kindergarten
                | PoiCategory::School
                | PoiCategory::Library
                | PoiCategory::Market
                | PoiCategory::Grocery
                | PoiCategory::CommunityCentre
        )
    }

    /// Classifies OSM tags (`healthcare`, then `amenity`, then `shop`);
    /// `None` when nothing maps (benches, waste baskets, vending machines...).
    pub fn from_osm_tags<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Option<Self> {
        if let Some(h) = get("healthcare") {
            let c = match h {
                "clinic" | "doctor" | "centre" => Some(PoiCategory::Clinic),
                "dentist" => Some(PoiCategory::Dentist),
                "hospital" => Some(PoiCategory::Hospital),
                "pharmacy" => Some(PoiCategory::Pharmacy),
                _ => None,
            };
            if c.is_some() {
                return c;
            }
        }
        if let Some(a) = get("amenity") {
            let c = match a {
                "clinic" | "doctors" => Some(PoiCategory::Clinic),
                "dentist" => Some(PoiCategory::Dentist),
                "hospital" => Some(PoiCategory::Hospital),
                "pharmacy" => Some(PoiCategory::Pharmacy),
                "kindergarten" | "childcare" => Some(PoiCategory::Kindergarten),
                "school" => Some(PoiCategory::School),
                "university" | "college" => Some(PoiCategory::University),
                "library" => Some(PoiCategory::Library),
                "marketplace" => Some(PoiCategory::Market),
                "community_centre" | "social_facility" | "social_centre" => {
                    Some(PoiCategory::CommunityCentre)
                }
                "townhall" | "courthouse" | "post_office" => Some(PoiCategory::PublicService),
                "fire_station" => Some(PoiCategory::FireStation),
                "police" => Some(PoiCategory::Police),
                "restaurant" | "fast_food" | "food_court" => Some(PoiCategory::Restaurant),
                "cafe" | "ice_cream" => Some(PoiCategory::Cafe),
                "bar" | "pub" | "nightclub" | "biergarten" => Some(PoiCategory::Bar),
                "bank" | "atm" | "bureau_de_change" => Some(PoiCategory::Bank),
                "place_of_worship" => Some(PoiCategory::PlaceOfWorship),
                "theatre" | "cinema" | "arts_centre" => Some(PoiCategory::Culture),
                "bus_station" | "ferry_terminal" | "taxi" => Some(PoiCategory::Transit),
                "parking" | "bicycle_parking" | "motorcycle_parking" => Some(PoiCategory::Parking),
                "charging_station" => Some(PoiCategory::ChargingStation),
                "bicycle_rental" | "car_sharing" | "car_rental" => {
                    Some(PoiCategory::SharedMobility)
                }
                _ => None,
            };
            if c.is_some() {
                return c;
            }
        }
        if get("tourism") == Some("museum") {
            return Some(PoiCategory::Culture);
        }
        match get("shop") {
            Some(
                "supermarket" | "convenience" | "greengrocer" | "grocery" | "bakery" | "butcher"
                | "deli" | "seafood" | "general" | "health_food",
            ) => Some(PoiCategory::Grocery),
            Some("chemist") => Some(PoiCategory::Shop),
            Some("no" | "vacant") | None => None,
            Some(_) => Some(PoiCategory::Shop),
        }
    }
}

/// A point of interest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoiAttrs {
    /// Normalised category.
    pub category: PoiCategory,
}

/// Where a community's boundary comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommunitySource {
    /// A complete OSM administrative boundary.
    AdminBoundary,
    /// A Voronoi cell of a place label, clipped to the extract.
    Voronoi,
    /// An H3 cell used as a district.
    H3Partition,
    /// Given by the user (GeoJSON).
    Imported,
    /// Generated by the synthetic city generator.
    Synthetic,
}

/// A community or district: the unit of grassroots governance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommunityAttrs {
    /// Estimated population (sum of the residents of its buildings, or given).
    pub population_est: f64,
    /// OSM `admin_level`, when it comes from an administrative boundary.
    #[serde(default)]
    pub admin_level: Option<u8>,
    /// Where the boundary comes from.
    pub source: CommunitySource,
}

/// An electrical distribution feeder (medium voltage), drawn along the
/// buildings it supplies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeederAttrs {
    /// Nominal voltage, kV.
    pub voltage_kv: f64,
    /// Rated capacity, kVA.
    pub rated_kva: f64,
    /// The primary substation it leaves from.
    #[serde(default)]
    pub substation: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{GatewayId, LatLon, SensorId, SensorKind};
    use geo::point;

    fn id(s: &str) -> EntityId {
        EntityId::new(s).unwrap()
    }

    #[test]
    fn capacity_is_lanes_times_the_class_lane_capacity() {
        assert_eq!(road_capacity_veh_h(RoadClass::Primary, 2), 3000.0);
        assert_eq!(road_capacity_veh_h(RoadClass::Residential, 1), 600.0);
        // zero lanes is treated as one lane
        assert_eq!(road_capacity_veh_h(RoadClass::Motorway, 0), 2000.0);
        for c in RoadClass::ALL {
            assert_eq!(RoadClass::from_osm(c.as_str()), Some(c));
            assert!(c.lane_capacity_veh_h() >= 300.0);
        }
        assert_eq!(RoadClass::from_osm("footway"), None);
    }

    #[test]
    fn entity_kind_follows_attrs_and_sensor_ids_must_match() {
        let spec = SensorSpec {
            id: SensorId::new("aq-1").unwrap(),
            kind: SensorKind::AirQuality,
            gateway: GatewayId::new("gw").unwrap(),
            location: LatLon {
                lat: 60.17,
                lon: 24.94,
            },
            observes: None,
            metrics: vec![],
        };
        let g = Geometry::Point(point!(x: 24.94, y: 60.17));
        let e = Entity::new(id("aq-1"), g.clone(), EntityAttrs::Sensor(spec.clone())).unwrap();
        assert_eq!(e.kind, EntityKind::Sensor);
        assert!(e.check().is_ok());
        assert!(matches!(
            Entity::new(id("aq-2"), g.clone(), EntityAttrs::Sensor(spec)),
            Err(EntityError::SensorIdMismatch { .. })
        ));
        let mut bad = e.clone();
        bad.kind = EntityKind::Building;
        assert!(matches!(bad.check(), Err(EntityError::KindMismatch { .. })));
        let mut moved = e;
        moved.geometry = Geometry::Point(point!(x: 25.5, y: 60.5));
        assert!(matches!(moved.check(), Err(EntityError::WrongCell { .. })));
    }

    #[test]
    fn invalid_and_empty_geometries_are_rejected() {
        let attrs = EntityAttrs::Poi(PoiAttrs {
            category: PoiCategory::Cafe,
        });
        assert!(matches!(
            Entity::new(
                id("p"),
                Geometry::Point(point!(x: 24.9, y: 95.0)),
                attrs.clone()
            ),
            Err(EntityError::BadCoordinate { .. })
        ));
        let empty = Geometry::LineString(geo::LineString::new(vec![]));
        assert!(matches!(
            Entity::new(id("p"), empty, attrs),
            Err(EntityError::EmptyGeometry(_))
        ));
    }

    #[test]
    fn osm_tags_map_to_categories() {
        let cat = |pairs: &'static [(&'static str, &'static str)]| {
            PoiCategory::from_osm_tags(|k| pairs.iter().find(|(kk, _)| *kk == k).map(|(_, v)| *v))
        };
        assert_eq!(cat(&[("amenity", "doctors")]), Some(PoiCategory::Clinic));
        assert_eq!(
            cat(&[("healthcare", "pharmacy"), ("amenity", "pharmacy")]),
            Some(PoiCategory::Pharmacy)
        );
        assert_eq!(cat(&[("shop", "convenience")]), Some(PoiCategory::Grocery));
        assert_eq!(cat(&[("shop", "clothes")]), Some(PoiCategory::Shop));
        assert_eq!(cat(&[("amenity", "bench")]), None);
        assert_eq!(
            cat(&[("amenity", "bench"), ("shop", "kiosk")]),
            Some(PoiCategory::Shop)
        );
        for c in PoiCategory::ALL {
            assert_eq!(PoiCategory::parse(c.as_str()), Some(c));
        }
    }

    #[test]
    fn attrs_serialise_with_the_ngsi_type_name() {
        let a = EntityAttrs::Intersection(IntersectionAttrs {
            signalised: true,
            signal_nodes: 2,
            boundary: false,
        });
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["type"], "Intersection");
        assert_eq!(serde_json::from_value::<EntityAttrs>(json).unwrap(), a);
        let p = EntityAttrs::Poi(PoiAttrs {
            category: PoiCategory::CommunityCentre,
        });
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            r#"{"type":"PointOfInterest","category":"community_centre"}"#
        );
    }
}
