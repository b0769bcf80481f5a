//! City import: OpenStreetMap extracts (`.osm.pbf` bytes) and GeoJSON text.
//! Pure: the caller reads the files. The formats are specified in
//! `docs/specs/city-import.md`.

mod geojson;
mod osm;
mod rings;

pub use self::geojson::{geojson, geometry};
pub use osm::{OsmImport, OsmOptions, OsmPlace, OsmStats, osm};

use domain::EntityId;

/// Why an import failed as a whole.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    /// The PBF data could not be decoded.
    #[error("cannot decode OSM PBF data: {0}")]
    Pbf(String),
    /// The text is not JSON or not GeoJSON.
    #[error("invalid GeoJSON: {0}")]
    Json(String),
    /// GeoJSON that is not a FeatureCollection or Feature.
    #[error("expected a GeoJSON FeatureCollection or Feature, found a {0}")]
    NotFeatures(&'static str),
    /// One feature is malformed.
    #[error("feature {index} ({id}): {reason}")]
    Feature {
        /// Position in the collection.
        index: usize,
        /// Its id, or `?` when it has none.
        id: String,
        /// What is wrong.
        reason: FeatureError,
    },
    /// Two features share an id.
    #[error("entity id {0} is used by two features")]
    DuplicateId(EntityId),
}

/// What is wrong with one GeoJSON feature.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FeatureError {
    /// No `id` (feature id or `id` property).
    #[error("no id")]
    MissingId,
    /// The id breaks the id grammar.
    #[error("bad id: {0}")]
    BadId(domain::IdError),
    /// No geometry.
    #[error("no geometry")]
    MissingGeometry,
    /// The geometry cannot be used.
    #[error("bad geometry: {0}")]
    BadGeometry(String),
    /// No `kind` property, or an unknown one.
    #[error(
        "unknown kind {0:?} (expected RoadSegment, Intersection, Building, PointOfInterest, Community, Feeder or Sensor)"
    )]
    UnknownKind(String),
    /// A required property is missing.
    #[error("missing property {0:?}")]
    MissingProperty(&'static str),
    /// A property has the wrong type or value.
    #[error("property {key:?} has an invalid value {value}: {reason}")]
    BadProperty {
        /// The property.
        key: String,
        /// Its value as JSON text (truncated).
        value: String,
        /// Why it is invalid.
        reason: String,
    },
    /// The entity breaks an invariant.
    #[error(transparent)]
    Entity(#[from] crate::entity::EntityError),
}

/// Something an import skipped or guessed; the import still succeeded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportWarning {
    /// Ways that reference nodes missing from the extract (it was clipped);
    /// they were cut at the missing nodes.
    #[error(
        "{ways} ways reference {missing_refs} nodes that are not in the extract; they were cut there"
    )]
    ClippedWays {
        /// Ways affected.
        ways: usize,
        /// Missing node references.
        missing_refs: usize,
    },
    /// A relation whose members are not all in the extract, or whose rings
    /// do not close: no area was built from it.
    #[error("relation {relation} ({name}) is incomplete: {reason}")]
    IncompleteRelation {
        /// OSM relation id.
        relation: i64,
        /// Its name, or its type when unnamed.
        name: String,
        /// What is missing.
        reason: String,
    },
    /// Closed building or area ways with missing nodes: skipped.
    #[error("{count} {what} areas could not be assembled (missing nodes or unclosed rings)")]
    IncompleteAreas {
        /// What they were (`building`, `poi`).
        what: &'static str,
        /// How many.
        count: usize,
    },
    /// A tag value that could not be parsed; the default was used.
    #[error("OSM {element} has {key}={value:?}, which cannot be parsed; the default was used")]
    BadTag {
        /// `way 123` or `node 456`.
        element: String,
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
}

/// Assumptions used to estimate building floor area and residents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuildingDefaults {
    /// Storeys assumed when neither `building:levels` nor `height` is known.
    pub levels: f64,
    /// Storey height used to turn a height into storeys, metres.
    pub storey_height_m: f64,
    /// Gross floor area per resident, m² (Finland: about 40 m² of dwelling
    /// space per person).
    pub m2_per_resident: f64,
}

impl Default for BuildingDefaults {
    fn default() -> Self {
        Self {
            levels: 3.0,
            storey_height_m: 3.0,
            m2_per_resident: 40.0,
        }
    }
}

impl BuildingDefaults {
    /// Storeys used for the floor area: tagged levels, else height divided
    /// by the storey height (at least 1), else the default.
    pub fn effective_levels(&self, levels: Option<f64>, height_m: Option<f64>) -> f64 {
        levels
            .filter(|l| *l > 0.0)
            .or_else(|| {
                height_m
                    .filter(|h| *h > 0.0)
                    .map(|h| (h / self.storey_height_m).round().max(1.0))
            })
            .unwrap_or(self.levels)
    }

    /// Estimated residents of a floor area with a residential share.
    pub fn residents(&self, floor_area_m2: f64, residential_share: f64) -> f64 {
        (floor_area_m2 * residential_share / self.m2_per_resident).round()
    }
}
