//! The Helsinki extract imported and counted against the figures in its
//! SOURCE.md (counted there with pyosmium 4.3.2 and osmpbf 0.3.8).

use std::collections::{BTreeMap, BTreeSet};

use domain::EntityKind;
use twin::import::{ImportWarning, OsmImport, OsmOptions, osm};
use twin::{EntityAttrs, PoiCategory, RoadClass, road_capacity_veh_h};

/// The import, done once for all tests of this module.
fn import() -> Option<&'static OsmImport> {
    static IMPORT: std::sync::OnceLock<Option<OsmImport>> = std::sync::OnceLock::new();
    IMPORT
        .get_or_init(|| {
            let pbf = testkit::twin::helsinki_pbf()?;
            Some(osm(&pbf, &OsmOptions::default()).expect("the extract imports"))
        })
        .as_ref()
}

#[test]
fn element_counts_match_the_source_figures() {
    let Some(imp) = import() else { return };
    let s = &imp.stats;
    // "Elements: 24,260 nodes, 5,130 ways, 620 relations."
    assert_eq!((s.nodes, s.ways, s.relations), (24_260, 5_130, 620));
    // "4,525 of 38,026 way-node references point to nodes that are not in the file."
    assert_eq!((s.way_refs, s.missing_refs), (38_026, 4_525));
    assert!(imp.warnings.iter().any(|w| matches!(
        w,
        ImportWarning::ClippedWays {
            missing_refs: 4_525,
            ..
        }
    )));
    // "Highways: 2,650 ways."
    assert_eq!(s.highway_ways, 2_650);
    // header bbox "24.9351762, 60.1641550, 24.9534145, 60.1791130"
    let b = s.header_bbox.expect("the header has a bbox");
    for (got, want) in [
        (b.min().x, 24.935_176_2),
        (b.min().y, 60.164_155_0),
        (b.max().x, 24.953_414_5),
        (b.max().y, 60.179_113_0),
    ] {
        assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    }
    assert_eq!(imp.city.bounds, Some(b));
    assert_eq!(
        imp.city.attribution.as_deref(),
        Some("© OpenStreetMap contributors")
    );
    imp.city.check().expect("the imported city is consistent");
}

#[test]
fn buildings_match_the_assembled_areas() {
    let Some(imp) = import() else { return };
    let s = &imp.stats;
    // "Building, landuse and amenity areas do assemble: 446, ..." and
    // "Buildings: 433 ways, 67 relations and 36 nodes."
    assert_eq!(s.buildings_from_ways + s.buildings_from_relations, 446);
    assert_eq!(s.buildings_from_nodes, 36);
    assert_eq!(
        s.buildings_from_ways + s.buildings_from_relations + s.buildings_incomplete,
        433 + 67
    );
    assert_eq!(imp.city.count(EntityKind::Building), 446 + 36);
    let mut tagged_levels = 0;
    for e in imp
        .city
        .entities
        .iter()
        .filter(|e| e.kind == EntityKind::Building)
    {
        let b = e.building().unwrap();
        tagged_levels += usize::from(b.levels.is_some() || b.height_m.is_some());
        if matches!(e.geometry, geo::Geometry::Point(_)) {
            assert_eq!(b.footprint_m2, 0.0);
        } else {
            assert!(
                b.footprint_m2 > 1.0,
                "{} has footprint {}",
                e.id,
                b.footprint_m2
            );
            assert!(b.floor_area_m2 >= b.footprint_m2);
        }
    }
    // "176 carry building:levels or height" (some of them are incomplete areas)
    assert!((150..=176).contains(&tagged_levels), "{tagged_levels}");
}

#[test]
fn civic_pois_match_the_amenity_counts() {
    let Some(imp) = import() else { return };
    let p = |c| imp.stats.pois.get(&c).copied().unwrap_or(0);
    // "pharmacy 6", "dentist 5", "school 3", "library 7", "marketplace 2",
    // "fire_station 1", "place_of_worship 8"
    assert_eq!(p(PoiCategory::Pharmacy), 6);
    assert_eq!(p(PoiCategory::Dentist), 5);
    assert_eq!(p(PoiCategory::School), 3);
    assert_eq!(p(PoiCategory::Library), 7);
    assert_eq!(p(PoiCategory::Market), 2);
    assert_eq!(p(PoiCategory::FireStation), 1);
    assert_eq!(p(PoiCategory::PlaceOfWorship), 8);
    // "university 6, college 1"; "community_centre 3, social_facility 2"
    assert_eq!(p(PoiCategory::University), 7);
    assert_eq!(p(PoiCategory::CommunityCentre), 5);
    // "clinic 3, doctors 3" plus healthcare-only objects
    assert!((6..=9).contains(&p(PoiCategory::Clinic)));
    // "restaurant 214, cafe 89"
    assert_eq!(p(PoiCategory::Cafe), 89);
    assert_eq!(
        imp.city.count(EntityKind::PointOfInterest),
        imp.stats.poi_count()
    );
}

#[test]
fn admin_boundaries_are_all_incomplete_and_reported() {
    let Some(imp) = import() else { return };
    // "Administrative boundary relations (14, all partial)"
    assert_eq!(imp.stats.boundaries_complete, 0);
    assert_eq!(imp.stats.boundaries_incomplete, 14);
    let named: BTreeSet<&str> = imp
        .warnings
        .iter()
        .filter_map(|w| match w {
            ImportWarning::IncompleteRelation { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    for ward in [
        "Punavuori",
        "Kaartinkaupunki",
        "Kruununhaka",
        "Kluuvi",
        "Kamppi",
        "Kallio",
    ] {
        assert!(named.contains(ward), "{ward}");
    }
    assert_eq!(imp.city.count(EntityKind::Community), 0);
    // the place labels the demo uses instead: "5 place=suburb"
    let suburbs = imp.places.iter().filter(|p| p.place == "suburb").count();
    assert_eq!(suburbs, 5);
    assert!(!imp.shorelines.is_empty());
}

#[test]
fn the_road_graph_is_consistent() {
    let Some(imp) = import() else { return };
    let city = &imp.city;
    let s = &imp.stats;
    // "135 highway=traffic_signals nodes": each is attached, mid-block, or off the road network
    assert_eq!(s.signal_nodes, 135);
    assert!(s.signal_nodes_attached + s.signal_nodes_midblock <= 135);
    assert!(
        s.signal_nodes_attached >= 120,
        "{}",
        s.signal_nodes_attached
    );
    let junctions: BTreeMap<&str, &twin::Entity> = city
        .entities
        .iter()
        .filter(|e| e.kind == EntityKind::Intersection)
        .map(|e| (e.id.as_str(), e))
        .collect();
    let signal_sum: u32 = junctions
        .values()
        .map(|e| e.intersection().unwrap().signal_nodes)
        .sum();
    assert_eq!(
        signal_sum as usize,
        s.signal_nodes_attached + s.signal_nodes_midblock
    );
    assert_eq!(
        junctions
            .values()
            .filter(|e| e.intersection().unwrap().signalised)
            .count(),
        s.signalised_intersections
    );
    let mut ids = BTreeSet::new();
    let mut used = BTreeSet::new();
    let mut speeds: BTreeMap<u32, usize> = BTreeMap::new();
    for e in city
        .entities
        .iter()
        .filter(|e| e.kind == EntityKind::RoadSegment)
    {
        let EntityAttrs::Road(r) = &e.attrs else {
            unreachable!()
        };
        assert!(
            junctions.contains_key(r.from.as_str()) && junctions.contains_key(r.to.as_str()),
            "{}",
            e.id
        );
        assert_ne!(r.from, r.to, "{} is a self-loop", e.id);
        used.insert(r.from.as_str());
        used.insert(r.to.as_str());
        assert!(r.lanes >= 1);
        assert_eq!(r.capacity_veh_h, road_capacity_veh_h(r.class, r.lanes));
        assert!(
            r.length_m > 0.0 && r.length_m < 2_000.0,
            "{} is {} m",
            e.id,
            r.length_m
        );
        let geo::Geometry::LineString(ls) = &e.geometry else {
            panic!("{} is not a line", e.id)
        };
        // the geometry runs from `from` to `to`
        let start = junctions[r.from.as_str()].representative_point();
        assert!(twin::geom::distance_m(start, geo::Point(ls.0[0])) < 0.01);
        // a numeric maxspeed is used as tagged, else the class default
        let want = match e.tags.get("maxspeed").and_then(|v| v.parse::<f64>().ok()) {
            Some(v)
                if !e.tags.contains_key("maxspeed:forward")
                    && !e.tags.contains_key("maxspeed:backward") =>
            {
                v
            }
            Some(_) => r.speed_limit_kmh,
            None if e.tags.contains_key("maxspeed") => r.speed_limit_kmh,
            None => r.class.default_speed_kmh(),
        };
        assert_eq!(r.speed_limit_kmh, want, "{}", e.id);
        *speeds.entry(r.speed_limit_kmh.round() as u32).or_insert(0) += 1;
        ids.insert(e.id.as_str());
        // two-way streets have both directions, one-way streets one
        let (base, dir) = e.id.as_str().rsplit_once(':').unwrap();
        let other = format!("{base}:{}", if dir == "f" { "b" } else { "f" });
        let twin_exists = city.entities.iter().any(|x| x.id.as_str() == other);
        assert_eq!(twin_exists, !r.oneway, "{}", e.id);
    }
    // every intersection is the end of some segment
    assert_eq!(used.len(), junctions.len());
    // "Maxspeed on the same ways: 30 = 590, 40 = 180, ...": both are common
    assert!(speeds.get(&30).copied().unwrap_or(0) > 500, "{speeds:?}");
    assert!(speeds.get(&40).copied().unwrap_or(0) > 100, "{speeds:?}");
    assert_eq!(ids.len(), s.road_segments);
    assert!(
        city.entities
            .iter()
            .filter_map(|e| e.road())
            .any(|r| r.class == RoadClass::Primary)
    );
}
