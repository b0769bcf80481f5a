//! Geometry helpers on WGS-84 lon/lat coordinates: representative points,
//! lengths and areas in metres, H3 placement and a local metric projection.

use geo::{
    Area, BoundingRect, Centroid, Coord, Distance, GeodesicArea, Geometry, Haversine,
    InteriorPoint, InterpolateLine, Length, LineString, Point, Rect,
};
use h3o::{CellIndex, LatLng, Resolution};

/// Whether a lon/lat coordinate is finite and within the valid ranges.
pub(crate) fn valid_coord(c: Coord<f64>) -> bool {
    c.x.is_finite()
        && c.y.is_finite()
        && (-180.0..=180.0).contains(&c.x)
        && (-90.0..=90.0).contains(&c.y)
}

/// The first coordinate of a geometry that is invalid, if any.
pub(crate) fn first_invalid_coord(g: &Geometry<f64>) -> Option<Coord<f64>> {
    use geo::CoordsIter;
    g.coords_iter().find(|c| !valid_coord(*c))
}

/// A point that stands for the geometry: the point itself, the midpoint along
/// a line (so it lies on the road), for a polygon its centroid if inside it,
/// else an interior point (so it lies inside the footprint), else the
/// centroid. `None` for an empty geometry.
pub fn representative_point(g: &Geometry<f64>) -> Option<Point<f64>> {
    match g {
        Geometry::Point(p) => Some(*p),
        Geometry::LineString(ls) => Haversine.point_at_ratio_from_start(ls, 0.5),
        Geometry::Line(l) => Some(l.centroid()),
        Geometry::MultiLineString(mls) => {
            // the midpoint of the longest part
            mls.0
                .iter()
                .max_by(|a, b| Haversine.length(*a).total_cmp(&Haversine.length(*b)))
                .and_then(|ls| Haversine.point_at_ratio_from_start(ls, 0.5))
        }
        Geometry::Polygon(p) => polygon_point(p),
        Geometry::MultiPolygon(mp) => {
            mp.0.iter()
                .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
                .and_then(polygon_point)
        }
        Geometry::Rect(r) => Some(r.centroid()),
        Geometry::Triangle(t) => Some(t.centroid()),
        Geometry::MultiPoint(mp) => mp.centroid(),
        Geometry::GeometryCollection(gc) => gc.centroid(),
    }
}

/// The centroid when it lies inside the polygon (the usual case, and cheap),
/// else an interior point.
fn polygon_point(p: &geo::Polygon<f64>) -> Option<Point<f64>> {
    use geo::Contains;
    match p.centroid() {
        Some(c) if p.contains(&c) => Some(c),
        _ => p.interior_point(),
    }
}

/// The H3 cell holding a lon/lat point, or `None` when the point is invalid.
pub fn cell_of(p: Point<f64>, res: Resolution) -> Option<CellIndex> {
    if !valid_coord(p.0) {
        return None;
    }
    LatLng::new(p.y(), p.x()).ok().map(|ll| ll.to_cell(res))
}

/// The centre of a cell as a lon/lat point.
pub fn cell_center(cell: CellIndex) -> Point<f64> {
    let ll = LatLng::from(cell);
    Point::new(ll.lng(), ll.lat())
}

/// Length of a lon/lat line in metres (haversine on the mean sphere; within
/// about 0.5 % of the ellipsoidal length).
pub fn length_m(ls: &LineString<f64>) -> f64 {
    Haversine.length(ls)
}

/// Great-circle distance between two lon/lat points in metres.
pub fn distance_m(a: Point<f64>, b: Point<f64>) -> f64 {
    Haversine.distance(a, b)
}

/// Area of a lon/lat geometry in square metres (geodesic, on the WGS-84
/// ellipsoid): outer rings minus holes, whatever the rings' winding; 0 for
/// points and lines.
pub fn area_m2(g: &Geometry<f64>) -> f64 {
    fn ring(ls: &LineString<f64>) -> f64 {
        // signed, then absolute: an unsigned area of a clockwise ring is the
        // rest of the Earth
        geo::Polygon::new(ls.clone(), vec![])
            .geodesic_area_signed()
            .abs()
    }
    fn poly(p: &geo::Polygon<f64>) -> f64 {
        (ring(p.exterior()) - p.interiors().iter().map(ring).sum::<f64>()).max(0.0)
    }
    match g {
        Geometry::Polygon(p) => poly(p),
        Geometry::MultiPolygon(mp) => mp.0.iter().map(poly).sum(),
        Geometry::Rect(r) => poly(&r.to_polygon()),
        Geometry::Triangle(t) => poly(&t.to_polygon()),
        _ => 0.0,
    }
}

/// The bounding rectangle of a geometry (lon/lat), if it has coordinates.
pub fn bounds(g: &Geometry<f64>) -> Option<Rect<f64>> {
    g.bounding_rect()
}

/// Grows `acc` to cover `r`.
pub(crate) fn union_rect(acc: Option<Rect<f64>>, r: Rect<f64>) -> Rect<f64> {
    match acc {
        None => r,
        Some(a) => Rect::new(
            Coord {
                x: a.min().x.min(r.min().x),
                y: a.min().y.min(r.min().y),
            },
            Coord {
                x: a.max().x.max(r.max().x),
                y: a.max().y.max(r.max().y),
            },
        ),
    }
}

/// An equirectangular projection to metres around an origin, scaled by the
/// WGS-84 ellipsoid's radii of curvature at the origin's latitude: distances
/// within a city (a few kilometres) are right to about 0.1 %, which is all it
/// is used for (placing generated objects, walking along lines, drawing
/// Voronoi cells).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalProjection {
    lon0: f64,
    lat0: f64,
    /// metres per degree of longitude at `lat0`
    kx: f64,
    /// metres per degree of latitude
    ky: f64,
}

impl LocalProjection {
    /// A projection centred on `origin` (lon/lat).
    pub fn new(origin: Point<f64>) -> Self {
        const A: f64 = 6_378_137.0; // WGS-84 semi-major axis
        const E2: f64 = 0.006_694_379_990_14; // first eccentricity squared
        let phi = origin.y().to_radians();
        let w = 1.0 - E2 * phi.sin().powi(2);
        let meridional = A * (1.0 - E2) / w.powf(1.5);
        let normal = A / w.sqrt();
        let deg = std::f64::consts::PI / 180.0;
        Self {
            lon0: origin.x(),
            lat0: origin.y(),
            kx: normal * phi.cos() * deg,
            ky: meridional * deg,
        }
    }

    /// Lon/lat to local metres (x east, y north).
    pub fn to_local(&self, c: Coord<f64>) -> Coord<f64> {
        Coord {
            x: (c.x - self.lon0) * self.kx,
            y: (c.y - self.lat0) * self.ky,
        }
    }

    /// Local metres to lon/lat.
    pub fn to_lonlat(&self, c: Coord<f64>) -> Coord<f64> {
        Coord {
            x: self.lon0 + c.x / self.kx,
            y: self.lat0 + c.y / self.ky,
        }
    }

    /// The point `dx` metres east and `dy` metres north of the origin.
    pub fn offset(&self, dx: f64, dy: f64) -> Point<f64> {
        Point(self.to_lonlat(Coord { x: dx, y: dy }))
    }
}

/// The point at `dist_m` metres along a line from its start (clamped to the
/// line), measured with the local projection of the line's first point.
pub(crate) fn point_along(ls: &LineString<f64>, dist_m: f64) -> Option<Point<f64>> {
    let first = *ls.0.first()?;
    let proj = LocalProjection::new(Point(first));
    let mut left = dist_m.max(0.0);
    for w in ls.0.windows(2) {
        let (a, b) = (proj.to_local(w[0]), proj.to_local(w[1]));
        let seg = ((b.x - a.x).powi(2) + (b.y - a.y).powi(2)).sqrt();
        if seg >= left && seg > 0.0 {
            let t = left / seg;
            return Some(Point(proj.to_lonlat(Coord {
                x: a.x + t * (b.x - a.x),
                y: a.y + t * (b.y - a.y),
            })));
        }
        left -= seg;
    }
    ls.0.last().map(|c| Point(*c))
}

/// Voronoi cells of `sites` clipped to the convex polygon `clip`, one per
/// site in site order, all in one planar (metric) coordinate system. Each
/// cell is the clip region cut by the half-planes closer to its site than to
/// each other site (exact for few sites: O(n²) clips). Sites must be
/// distinct.
pub fn voronoi_cells(sites: &[Coord<f64>], clip: &[Coord<f64>]) -> Vec<Vec<Coord<f64>>> {
    sites
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut poly: Vec<Coord<f64>> = clip.to_vec();
            for (j, b) in sites.iter().enumerate() {
                if i == j || poly.is_empty() {
                    continue;
                }
                // keep x with (b - a)·x <= (|b|² - |a|²) / 2
                let n = Coord {
                    x: b.x - a.x,
                    y: b.y - a.y,
                };
                let c = (b.x * b.x + b.y * b.y - a.x * a.x - a.y * a.y) / 2.0;
                poly = clip_half_plane(&poly, n, c);
            }
            poly
        })
        .collect()
}

/// Sutherland-Hodgman: the part of a closed-or-open ring (no repeated last
/// point) with `n·x <= c`.
fn clip_half_plane(poly: &[Coord<f64>], n: Coord<f64>, c: f64) -> Vec<Coord<f64>> {
    let side = |p: Coord<f64>| n.x * p.x + n.y * p.y - c;
    let mut out = Vec::with_capacity(poly.len() + 1);
    for (k, &cur) in poly.iter().enumerate() {
        let prev = poly[(k + poly.len() - 1) % poly.len()];
        let (sp, sc) = (side(prev), side(cur));
        if sc <= 0.0 {
            if sp > 0.0 {
                out.push(lerp(prev, cur, sp / (sp - sc)));
            }
            out.push(cur);
        } else if sp <= 0.0 {
            out.push(lerp(prev, cur, sp / (sp - sc)));
        }
    }
    out
}

fn lerp(a: Coord<f64>, b: Coord<f64>, t: f64) -> Coord<f64> {
    Coord {
        x: a.x + t * (b.x - a.x),
        y: a.y + t * (b.y - a.y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, Polygon, point, polygon};

    #[test]
    fn representative_point_of_a_line_lies_halfway_along_it() {
        let ls = LineString::from(vec![(24.0, 60.0), (24.0, 60.001), (24.002, 60.001)]);
        let p = representative_point(&Geometry::LineString(ls.clone())).unwrap();
        let total = length_m(&ls);
        let first = length_m(&LineString::from(vec![(24.0, 60.0), (p.x(), p.y())]));
        // the point is on the first leg (111 m of 222 m)
        assert!((first - total / 2.0).abs() < 1.0, "{first} vs {total}");
    }

    #[test]
    fn representative_point_of_a_concave_polygon_is_inside_it() {
        use geo::Contains;
        // a U shape whose centroid lies outside
        let u: Polygon<f64> = polygon![
            (x: 0.0, y: 0.0), (x: 3.0, y: 0.0), (x: 3.0, y: 3.0), (x: 2.0, y: 3.0),
            (x: 2.0, y: 1.0), (x: 1.0, y: 1.0), (x: 1.0, y: 3.0), (x: 0.0, y: 3.0),
        ];
        let p = representative_point(&Geometry::Polygon(u.clone())).unwrap();
        assert!(u.contains(&p));
    }

    #[test]
    fn area_of_a_projected_100m_square_is_10000_m2_on_the_ellipsoid() {
        let proj = LocalProjection::new(point!(x: 24.94, y: 60.17));
        let ring: Vec<Coord<f64>> = [
            (0.0, 0.0),
            (100.0, 0.0),
            (100.0, 100.0),
            (0.0, 100.0),
            (0.0, 0.0),
        ]
        .iter()
        .map(|&(x, y)| proj.to_lonlat(Coord { x, y }))
        .collect();
        let a = area_m2(&Geometry::Polygon(Polygon::new(LineString(ring), vec![])));
        assert!((a - 10_000.0).abs() < 10.0, "{a}");
    }

    #[test]
    fn holes_are_subtracted_whatever_the_winding() {
        let proj = LocalProjection::new(point!(x: 24.94, y: 60.17));
        let sq = |x0: f64, y0: f64, s: f64, ccw: bool| {
            let mut pts = [
                (x0, y0),
                (x0 + s, y0),
                (x0 + s, y0 + s),
                (x0, y0 + s),
                (x0, y0),
            ];
            if !ccw {
                pts.reverse();
            }
            LineString(
                pts.iter()
                    .map(|&(x, y)| proj.to_lonlat(Coord { x, y }))
                    .collect(),
            )
        };
        for (outer_ccw, hole_ccw) in [(true, false), (true, true), (false, false), (false, true)] {
            let p = Polygon::new(
                sq(0.0, 0.0, 100.0, outer_ccw),
                vec![sq(25.0, 25.0, 50.0, hole_ccw)],
            );
            let a = area_m2(&Geometry::Polygon(p));
            assert!((a - 7_500.0).abs() < 10.0, "{a}");
        }
    }

    #[test]
    fn local_projection_round_trips_and_matches_haversine() {
        let proj = LocalProjection::new(point!(x: 24.94, y: 60.17));
        let p = proj.offset(300.0, 400.0);
        let back = proj.to_local(p.0);
        assert!((back.x - 300.0).abs() < 1e-6 && (back.y - 400.0).abs() < 1e-6);
        let d = geo::Geodesic.distance(point!(x: 24.94, y: 60.17), p);
        assert!((d - 500.0).abs() < 0.5, "{d}");
    }

    #[test]
    fn point_along_walks_the_line_and_clamps() {
        let proj = LocalProjection::new(point!(x: 24.94, y: 60.17));
        let ls = LineString(vec![proj.offset(0.0, 0.0).0, proj.offset(100.0, 0.0).0]);
        let p = point_along(&ls, 25.0).unwrap();
        assert!((proj.to_local(p.0).x - 25.0).abs() < 1e-6);
        let end = point_along(&ls, 1e9).unwrap();
        assert!((proj.to_local(end.0).x - 100.0).abs() < 1e-6);
    }

    #[test]
    fn voronoi_cells_tile_the_clip_region() {
        let sq = [
            Coord { x: 0.0, y: 0.0 },
            Coord { x: 10.0, y: 0.0 },
            Coord { x: 10.0, y: 10.0 },
            Coord { x: 0.0, y: 10.0 },
        ];
        let sites = [
            Coord { x: 2.0, y: 5.0 },
            Coord { x: 8.0, y: 5.0 },
            Coord { x: 5.0, y: 9.0 },
        ];
        let cells = voronoi_cells(&sites, &sq);
        let area = |ring: &Vec<Coord<f64>>| {
            let mut r = ring.clone();
            r.push(r[0]);
            Polygon::new(LineString(r), vec![]).unsigned_area()
        };
        let total: f64 = cells.iter().map(area).sum();
        assert!((total - 100.0).abs() < 1e-9, "{total}");
        // each site lies in its own cell, and the two lower sites split at x = 5
        for (s, c) in sites.iter().zip(&cells) {
            let mut r = c.clone();
            r.push(r[0]);
            assert!(geo::Contains::contains(
                &Polygon::new(LineString(r), vec![]),
                &Point(*s)
            ));
        }
        assert!(cells[0].iter().all(|p| p.x <= 5.0 + 1e-9));
        // collinear sites work too
        let line = [
            Coord { x: 1.0, y: 1.0 },
            Coord { x: 5.0, y: 5.0 },
            Coord { x: 9.0, y: 9.0 },
        ];
        let cells = voronoi_cells(&line, &sq);
        let total: f64 = cells.iter().map(area).sum();
        assert!((total - 100.0).abs() < 1e-9, "{total}");
    }

    #[test]
    fn invalid_points_have_no_cell() {
        assert!(cell_of(point!(x: 200.0, y: 0.0), Resolution::Ten).is_none());
        assert!(cell_of(point!(x: f64::NAN, y: 0.0), Resolution::Ten).is_none());
        let c = cell_of(point!(x: 24.94, y: 60.17), Resolution::Nine).unwrap();
        assert_eq!(c.resolution(), Resolution::Nine);
    }
}
