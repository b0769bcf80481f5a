//! NGSI-LD geo-queries (`georel`, `geometry`, `coordinates`, `geoproperty`),
//! ETSI GS CIM 009 §4.10, evaluated with `geo` on WGS-84 geometries.
//!
//! Distances for `near` are metres on a local equirectangular projection
//! centred on the query point: exact to well under 0.5% within tens of
//! kilometres, which is the scale of a city.

use geo::{Contains, Distance, Euclidean, Geometry, Intersects, Point, Within};
use serde_json::Value;

/// A parsed geo-query.
#[derive(Debug, Clone, PartialEq)]
pub struct GeoQuery {
    /// The relation.
    pub rel: GeoRel,
    /// The reference geometry.
    pub geometry: Geometry<f64>,
    /// The entity property that holds the geometry (default `location`).
    pub property: String,
}

/// A spatial relation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GeoRel {
    /// Within `max` metres of the reference (and at least `min`).
    Near {
        /// Minimum distance, m.
        min: Option<f64>,
        /// Maximum distance, m.
        max: Option<f64>,
    },
    /// The entity lies within the reference.
    Within,
    /// The entity contains the reference.
    Contains,
    /// They intersect.
    Intersects,
    /// They do not intersect.
    Disjoint,
    /// They are equal.
    Equals,
    /// They overlap: intersect, and neither contains the other.
    Overlaps,
}

/// Why a geo-query is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeoQueryError {
    /// Some of `georel`, `geometry`, `coordinates` are present, not all.
    #[error("georel, geometry and coordinates must be given together")]
    Incomplete,
    /// `georel` is not understood.
    #[error("unknown georel {0:?}")]
    BadRel(String),
    /// `geometry` + `coordinates` do not form a valid GeoJSON geometry.
    #[error("invalid geometry: {0}")]
    BadGeometry(String),
}

impl GeoQuery {
    /// Parses the query parameters; `Ok(None)` when no geo-query is given.
    pub fn parse(
        georel: Option<&str>,
        geometry: Option<&str>,
        coordinates: Option<&str>,
        geoproperty: Option<&str>,
    ) -> Result<Option<Self>, GeoQueryError> {
        let (georel, geometry, coordinates) = match (georel, geometry, coordinates) {
            (None, None, None) => return Ok(None),
            (Some(r), Some(g), Some(c)) => (r, g, c),
            _ => return Err(GeoQueryError::Incomplete),
        };
        let rel = parse_rel(georel)?;
        let coords: Value = serde_json::from_str(coordinates)
            .map_err(|e| GeoQueryError::BadGeometry(format!("coordinates: {e}")))?;
        let geometry = geometry_from(geometry, &coords)?;
        if matches!(rel, GeoRel::Near { .. }) && !matches!(geometry, Geometry::Point(_)) {
            return Err(GeoQueryError::BadGeometry("near needs a Point".into()));
        }
        Ok(Some(Self {
            rel,
            geometry,
            property: geoproperty.unwrap_or("location").to_owned(),
        }))
    }

    /// Whether an entity geometry satisfies the query.
    pub fn matches(&self, g: &Geometry<f64>) -> bool {
        match self.rel {
            GeoRel::Near { min, max } => {
                let Geometry::Point(p) = self.geometry else {
                    return false;
                };
                let d = distance_m(p, g);
                max.is_none_or(|m| d <= m) && min.is_none_or(|m| d >= m)
            }
            GeoRel::Within => g.is_within(&self.geometry),
            GeoRel::Contains => g.contains(&self.geometry),
            GeoRel::Intersects => g.intersects(&self.geometry),
            GeoRel::Disjoint => !g.intersects(&self.geometry),
            GeoRel::Equals => *g == self.geometry,
            GeoRel::Overlaps => {
                g.intersects(&self.geometry)
                    && !g.is_within(&self.geometry)
                    && !g.contains(&self.geometry)
            }
        }
    }

    /// A bounding box that holds every match, for index pre-filtering
    /// (`None` for relations that can match anywhere).
    pub fn bbox(&self) -> Option<geo::Rect<f64>> {
        use geo::BoundingRect;
        match self.rel {
            GeoRel::Disjoint => None,
            GeoRel::Near { max, .. } => {
                let Geometry::Point(p) = self.geometry else {
                    return None;
                };
                let m = max?;
                let dlat = m / 111_320.0;
                let dlon = m / (111_320.0 * p.y().to_radians().cos().max(1e-6));
                Some(geo::Rect::new(
                    (p.x() - dlon, p.y() - dlat),
                    (p.x() + dlon, p.y() + dlat),
                ))
            }
            _ => self.geometry.bounding_rect(),
        }
    }
}

fn parse_rel(s: &str) -> Result<GeoRel, GeoQueryError> {
    let mut parts = s.split(';');
    let head = parts.next().unwrap_or_default();
    let rel = match head {
        "near" => {
            let (mut min, mut max) = (None, None);
            for p in parts {
                let (k, v) = p
                    .split_once("==")
                    .ok_or_else(|| GeoQueryError::BadRel(s.to_owned()))?;
                let v: f64 = v
                    .parse()
                    .ok()
                    .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                    .ok_or_else(|| GeoQueryError::BadRel(s.to_owned()))?;
                match k {
                    "maxDistance" => max = Some(v),
                    "minDistance" => min = Some(v),
                    _ => return Err(GeoQueryError::BadRel(s.to_owned())),
                }
            }
            if min.is_none() && max.is_none() {
                return Err(GeoQueryError::BadRel(s.to_owned()));
            }
            return Ok(GeoRel::Near { min, max });
        }
        "within" => GeoRel::Within,
        "contains" => GeoRel::Contains,
        "intersects" => GeoRel::Intersects,
        "disjoint" => GeoRel::Disjoint,
        "equals" => GeoRel::Equals,
        "overlaps" => GeoRel::Overlaps,
        _ => return Err(GeoQueryError::BadRel(s.chars().take(64).collect())),
    };
    if parts.next().is_some() {
        return Err(GeoQueryError::BadRel(s.chars().take(64).collect()));
    }
    Ok(rel)
}

/// Builds a geometry from a GeoJSON type name and coordinates, checking ranges.
pub fn geometry_from(kind: &str, coords: &Value) -> Result<Geometry<f64>, GeoQueryError> {
    let obj = serde_json::json!({"type": kind, "coordinates": coords});
    let g: geojson::Geometry =
        serde_json::from_value(obj).map_err(|e| GeoQueryError::BadGeometry(e.to_string()))?;
    let g: Geometry<f64> = g
        .try_into()
        .map_err(|e: geojson::Error| GeoQueryError::BadGeometry(e.to_string()))?;
    check_ranges(&g)?;
    Ok(g)
}

fn check_ranges(g: &Geometry<f64>) -> Result<(), GeoQueryError> {
    use geo::CoordsIter;
    for c in g.coords_iter() {
        if !(c.x.is_finite()
            && c.y.is_finite()
            && (-180.0..=180.0).contains(&c.x)
            && (-90.0..=90.0).contains(&c.y))
        {
            return Err(GeoQueryError::BadGeometry(format!(
                "coordinate [{}, {}] is not a WGS-84 lon/lat",
                c.x, c.y
            )));
        }
    }
    Ok(())
}

/// Distance in metres from `p` to the nearest point of `g`.
pub fn distance_m(p: Point<f64>, g: &Geometry<f64>) -> f64 {
    use geo::MapCoords;
    let kx = 111_320.0 * p.y().to_radians().cos();
    let ky = 110_574.0;
    let local = g.map_coords(|c| geo::coord! { x: (c.x - p.x()) * kx, y: (c.y - p.y()) * ky });
    Euclidean.distance(&local, &Point::new(0.0, 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{line_string, point, polygon};

    fn q(rel: &str, geom: &str, coords: &str) -> GeoQuery {
        GeoQuery::parse(Some(rel), Some(geom), Some(coords), None)
            .unwrap()
            .unwrap()
    }

    #[test]
    fn near_uses_metres() {
        let g = q("near;maxDistance==200", "Point", "[24.9384, 60.1699]");
        // ~111 m north
        assert!(g.matches(&Geometry::Point(point!(x: 24.9384, y: 60.1709))));
        // ~555 m east (1° lon ≈ 55.5 km at 60°N)
        assert!(!g.matches(&Geometry::Point(point!(x: 24.9484, y: 60.1699))));
        let d = distance_m(
            point!(x: 24.9384, y: 60.1699),
            &Geometry::Point(point!(x: 24.9484, y: 60.1699)),
        );
        assert!((d - 555.3).abs() < 2.0, "{d}");
        let far = q("near;minDistance==300", "Point", "[24.9384, 60.1699]");
        assert!(far.matches(&Geometry::Point(point!(x: 24.9484, y: 60.1699))));
        // a line passing 100 m away is near even if its ends are far
        let line =
            Geometry::LineString(line_string![(x: 24.90, y: 60.1708), (x: 24.98, y: 60.1708)]);
        assert!(g.matches(&line));
    }

    #[test]
    fn topological_relations() {
        let area = q(
            "within",
            "Polygon",
            "[[[24.93,60.16],[24.96,60.16],[24.96,60.18],[24.93,60.18],[24.93,60.16]]]",
        );
        assert!(area.matches(&Geometry::Point(point!(x: 24.94, y: 60.17))));
        assert!(!area.matches(&Geometry::Point(point!(x: 24.99, y: 60.17))));
        let inter = q(
            "intersects",
            "Polygon",
            "[[[24.93,60.16],[24.96,60.16],[24.96,60.18],[24.93,60.18],[24.93,60.16]]]",
        );
        let crossing =
            Geometry::LineString(line_string![(x: 24.90, y: 60.17), (x: 24.95, y: 60.17)]);
        assert!(inter.matches(&crossing));
        let disj = q(
            "disjoint",
            "Polygon",
            "[[[24.93,60.16],[24.96,60.16],[24.96,60.18],[24.93,60.18],[24.93,60.16]]]",
        );
        assert!(!disj.matches(&crossing));
        let contains = q("contains", "Point", "[24.94, 60.17]");
        let block = Geometry::Polygon(
            polygon![(x: 24.93, y: 60.16), (x: 24.96, y: 60.16), (x: 24.96, y: 60.18), (x: 24.93, y: 60.18)],
        );
        assert!(contains.matches(&block));
        let overlaps = q(
            "overlaps",
            "Polygon",
            "[[[24.95,60.17],[24.99,60.17],[24.99,60.19],[24.95,60.19],[24.95,60.17]]]",
        );
        assert!(overlaps.matches(&block));
    }

    #[test]
    fn invalid_queries_are_explained() {
        assert_eq!(
            GeoQuery::parse(Some("near;maxDistance==10"), None, None, None),
            Err(GeoQueryError::Incomplete)
        );
        assert!(matches!(
            GeoQuery::parse(Some("nearby"), Some("Point"), Some("[0,0]"), None),
            Err(GeoQueryError::BadRel(_))
        ));
        assert!(matches!(
            GeoQuery::parse(Some("near"), Some("Point"), Some("[0,0]"), None),
            Err(GeoQueryError::BadRel(_))
        ));
        assert!(matches!(
            GeoQuery::parse(
                Some("near;maxDistance==-1"),
                Some("Point"),
                Some("[0,0]"),
                None
            ),
            Err(GeoQueryError::BadRel(_))
        ));
        assert!(matches!(
            GeoQuery::parse(Some("within"), Some("Point"), Some("[200,0]"), None),
            Err(GeoQueryError::BadGeometry(_))
        ));
        assert!(matches!(
            GeoQuery::parse(Some("within"), Some("Polygon"), Some("[1,2"), None),
            Err(GeoQueryError::BadGeometry(_))
        ));
        assert!(matches!(
            GeoQuery::parse(
                Some("near;maxDistance==5"),
                Some("Polygon"),
                Some("[[[0,0],[1,0],[1,1],[0,0]]]"),
                None
            ),
            Err(GeoQueryError::BadGeometry(_))
        ));
        assert_eq!(GeoQuery::parse(None, None, None, None), Ok(None));
    }

    #[test]
    fn bbox_prefilter_contains_the_near_circle() {
        let g = q("near;maxDistance==1000", "Point", "[24.94, 60.17]");
        let b = g.bbox().unwrap();
        // 1 km is 0.01797° of longitude at 60°N, on each side
        assert!(b.width() > 0.0355 && b.width() < 0.0365, "{b:?}");
    }
}
