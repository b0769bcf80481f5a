//! The walking graph built from a twin city.

use engine_community::{access_report, nearest_distances, walk_from_city};
use twin::EntityAttrs;

#[test]
fn a_synthetic_twin_city_becomes_a_walking_graph_with_snapped_places() {
    let city = testkit::twin::small_city(3);
    let w = walk_from_city(&city).unwrap();
    let count = |f: fn(&EntityAttrs) -> bool| city.entities.iter().filter(|e| f(&e.attrs)).count();
    assert_eq!(
        w.graph.nodes(),
        count(|a| matches!(a, EntityAttrs::Intersection(_)))
    );
    assert_eq!(
        w.graph.edges(),
        count(|a| matches!(a, EntityAttrs::Road(_)))
    );
    assert_eq!(
        w.buildings.len(),
        count(|a| matches!(a, EntityAttrs::Building(_)))
    );
    assert_eq!(w.pois.len(), count(|a| matches!(a, EntityAttrs::Poi(_))));
    assert!(!w.buildings.is_empty() && !w.pois.is_empty());
    // synthetic blocks are 100 m: nothing is far from a street corner
    assert!(w.max_snap_m < 150.0, "{}", w.max_snap_m);
    // every building is snapped to its nearest intersection (brute force check)
    let pos: Vec<(f64, f64)> = city
        .entities
        .iter()
        .filter(|e| matches!(e.attrs, EntityAttrs::Intersection(_)))
        .map(|e| (e.representative_point().x(), e.representative_point().y()))
        .collect();
    for (b, e) in w.buildings.iter().zip(
        city.entities
            .iter()
            .filter(|e| matches!(e.attrs, EntityAttrs::Building(_))),
    ) {
        let p = e.representative_point();
        let k = (p.y().to_radians()).cos();
        let d = |i: usize| ((pos[i].0 - p.x()) * k).powi(2) + (pos[i].1 - p.y()).powi(2);
        let best = (0..pos.len())
            .min_by(|&a, &c| d(a).total_cmp(&d(c)))
            .unwrap();
        assert!(
            d(b.node as usize) <= d(best) * (1.0 + 1e-9),
            "building {} snapped to {} not {best}",
            b.id,
            b.node
        );
    }
    // the report runs and the multi-source distances are minima of single sources
    let report = access_report(&w.graph, &w.buildings, &w.pois, &[400.0, 800.0, 1200.0]).unwrap();
    for (cat, a) in &report.categories {
        let nodes: Vec<u32> = w
            .pois
            .iter()
            .filter(|p| &p.category == cat)
            .map(|p| p.node)
            .collect();
        let singles: Vec<Vec<f64>> = nodes
            .iter()
            .map(|&n| nearest_distances(&w.graph, &[n]).unwrap())
            .collect();
        for (b, d) in w.buildings.iter().zip(&report.distances_m[cat]) {
            let m = singles
                .iter()
                .map(|s| s[b.node as usize])
                .fold(f64::INFINITY, f64::min);
            assert_eq!(d.unwrap_or(f64::INFINITY), m);
        }
        assert!(a.city.building_share.windows(2).all(|s| s[0] <= s[1]));
        assert!(!a.by_cell.is_empty());
    }
}
