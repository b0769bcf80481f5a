//! GeoJSON import: defaults, errors and the export/import round trip.

use domain::{EntityKind, SensorKind};
use twin::import::{FeatureError, ImportError, geojson};
use twin::{BuildingUse, CommunitySource, Entity, RoadClass, export};

const MINIMAL: &str = include_str!("../fixtures/minimal.geojson");

#[test]
fn minimal_features_get_the_documented_defaults() {
    let es = geojson(MINIMAL).unwrap();
    assert_eq!(es.len(), 8);
    let get = |id: &str| es.iter().find(|e| e.id.as_str() == id).unwrap();
    let road = get("road-ab").road().unwrap();
    assert_eq!(road.class, RoadClass::Primary);
    assert_eq!(road.lanes, 2);
    assert_eq!(road.capacity_veh_h, 3000.0); // 2 lanes x 1,500
    assert_eq!(road.speed_limit_kmh, 50.0);
    assert!(!road.oneway);
    // 0.0018 degrees of longitude at 60.17 N is about 100 m
    assert!((road.length_m - 99.9).abs() < 0.5, "{}", road.length_m);
    assert_eq!(get("road-ab").name.as_deref(), Some("Esimerkkikatu"));
    assert!(get("junction-a").intersection().unwrap().signalised);
    assert!(!get("junction-b").intersection().unwrap().signalised);
    let house = get("house-1");
    let b = house.building().unwrap();
    assert_eq!(b.building_use, BuildingUse::Residential);
    assert_eq!(b.levels, Some(4.0));
    // about 11 m x 11 m, four storeys, 40 m² per resident
    assert!((b.footprint_m2 - 123.0).abs() < 3.0, "{}", b.footprint_m2);
    assert!((b.floor_area_m2 - 4.0 * b.footprint_m2).abs() < 1e-9);
    assert_eq!(b.residents_est, (b.floor_area_m2 / 40.0).round());
    assert_eq!(house.community.as_ref().map(|c| c.as_str()), Some("ward-1"));
    // unknown scalar properties become tags
    assert_eq!(house.tags.get("heritage").map(String::as_str), Some("yes"));
    assert_eq!(house.tags.get("year").map(String::as_str), Some("1911"));
    let ward = get("ward-1").community_attrs().unwrap();
    assert_eq!(
        (ward.population_est, ward.source),
        (1200.0, CommunitySource::Imported)
    );
    let feeder = get("feeder-1").feeder().unwrap();
    assert_eq!((feeder.voltage_kv, feeder.rated_kva), (10.0, 800.0));
    assert_eq!(
        get("pharmacy-1")
            .tags
            .get("opening_hours")
            .map(String::as_str),
        Some("Mo-Fr 08:00-20:00")
    );
    let spec = get("aq-1").sensor().unwrap();
    assert_eq!(spec.kind, SensorKind::AirQuality);
    assert_eq!(spec.gateway.as_str(), "gw-aq");
    assert_eq!(spec.metrics.len(), 2);
    assert_eq!((spec.location.lon, spec.location.lat), (24.9405, 60.1703));
    // the entities make a consistent city
    twin::City::from_entities("fixture", es, []).unwrap();
}

#[track_caller]
fn check_error(features: &str, want: fn(&FeatureError) -> bool) {
    let text = format!(r#"{{"type":"FeatureCollection","features":[{features}]}}"#);
    match geojson(&text) {
        Err(ImportError::Feature { reason, .. }) => {
            assert!(want(&reason), "unexpected reason {reason:?}")
        }
        other => panic!("expected a feature error, got {other:?}"),
    }
}

#[test]
fn malformed_features_are_refused_with_the_reason() {
    let point = r#""geometry":{"type":"Point","coordinates":[24.94,60.17]}"#;
    check_error(
        &format!(r#"{{"type":"Feature",{point},"properties":{{"kind":"Intersection"}}}}"#),
        |r| matches!(r, FeatureError::MissingId),
    );
    check_error(
        &format!(
            r#"{{"type":"Feature","id":"a/b",{point},"properties":{{"kind":"Intersection"}}}}"#
        ),
        |r| matches!(r, FeatureError::BadId(_)),
    );
    check_error(
        &format!(r#"{{"type":"Feature","id":"x",{point},"properties":{{"kind":"Tree"}}}}"#),
        |r| matches!(r, FeatureError::UnknownKind(k) if k == "Tree"),
    );
    check_error(
        &format!(
            r#"{{"type":"Feature","id":"x",{point},"properties":{{"kind":"PointOfInterest"}}}}"#
        ),
        |r| matches!(r, FeatureError::MissingProperty("category")),
    );
    check_error(
        &format!(
            r#"{{"type":"Feature","id":"x",{point},"properties":{{"kind":"PointOfInterest","category":"spaceport"}}}}"#
        ),
        |r| matches!(r, FeatureError::BadProperty { .. }),
    );
    check_error(
        r#"{"type":"Feature","id":"s","geometry":{"type":"LineString","coordinates":[[24.94,60.17],[24.95,60.17]]},"properties":{"kind":"Sensor","sensor_kind":"air_quality","gateway":"g"}}"#,
        |r| matches!(r, FeatureError::BadGeometry(_)),
    );
    check_error(
        &format!(
            r#"{{"type":"Feature","id":"s",{point},"properties":{{"kind":"Sensor","gateway":"g"}}}}"#
        ),
        |r| matches!(r, FeatureError::MissingProperty("sensor_kind")),
    );
    check_error(
        &format!(
            r#"{{"type":"Feature","id":"r",{point},"properties":{{"kind":"RoadSegment","from":"a","to":"b","lanes":-1}}}}"#
        ),
        |r| matches!(r, FeatureError::BadProperty { key, .. } if key == "lanes"),
    );
    check_error(
        r#"{"type":"Feature","id":"x","geometry":null,"properties":{"kind":"Intersection"}}"#,
        |r| matches!(r, FeatureError::MissingGeometry),
    );
    check_error(
        r#"{"type":"Feature","id":"x","geometry":{"type":"Point","coordinates":[24.9,95.0]},"properties":{"kind":"Intersection"}}"#,
        |r| matches!(r, FeatureError::Entity(_)),
    );
    let dup =
        format!(r#"{{"type":"Feature","id":"x",{point},"properties":{{"kind":"Intersection"}}}}"#);
    let text = format!(r#"{{"type":"FeatureCollection","features":[{dup},{dup}]}}"#);
    assert!(matches!(geojson(&text), Err(ImportError::DuplicateId(_))));
    assert!(matches!(geojson("{"), Err(ImportError::Json(_))));
    assert!(matches!(
        geojson(r#"{"type":"Point","coordinates":[1,2]}"#),
        Err(ImportError::NotFeatures("Geometry"))
    ));
}

/// Entities equal up to float noise of the JSON round trip (1e-9 relative).
fn assert_close(a: &Entity, b: &Entity) {
    assert_eq!(
        (&a.id, a.kind, &a.name, &a.community, &a.tags, a.cell),
        (&b.id, b.kind, &b.name, &b.community, &b.tags, b.cell)
    );
    let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(1.0);
    use geo::CoordsIter;
    assert_eq!(
        a.geometry.coords_count(),
        b.geometry.coords_count(),
        "{}",
        a.id
    );
    for (p, q) in a.geometry.coords_iter().zip(b.geometry.coords_iter()) {
        assert!(
            close(p.x, q.x) && close(p.y, q.y),
            "{}: {p:?} vs {q:?}",
            a.id
        );
    }
    let (ja, jb) = (
        serde_json::to_value(&a.attrs).unwrap(),
        serde_json::to_value(&b.attrs).unwrap(),
    );
    fn walk(
        a: &serde_json::Value,
        b: &serde_json::Value,
        close: &dyn Fn(f64, f64) -> bool,
    ) -> bool {
        use serde_json::Value::*;
        match (a, b) {
            (Number(x), Number(y)) => close(x.as_f64().unwrap(), y.as_f64().unwrap()),
            (Array(x), Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| walk(p, q, close))
            }
            (Object(x), Object(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .all(|(k, v)| y.get(k).is_some_and(|w| walk(v, w, close)))
            }
            _ => a == b,
        }
    }
    assert!(walk(&ja, &jb, &close), "{}: {ja} vs {jb}", a.id);
}

#[test]
fn every_kind_round_trips_through_export_and_import() {
    let city = testkit::twin::small_city(11);
    let text = export::geojson(&city.entities);
    let back = geojson(&text).unwrap();
    assert_eq!(back.len(), city.entities.len());
    for kind in EntityKind::ALL {
        assert!(back.iter().any(|e| e.kind == kind), "{kind} is covered");
    }
    for (a, b) in city.entities.iter().zip(&back) {
        assert_close(a, b);
    }
    // and the fixture too (defaults filled on the first import are kept)
    let first = geojson(MINIMAL).unwrap();
    let second = geojson(&export::geojson(&first)).unwrap();
    for (a, b) in first.iter().zip(&second) {
        assert_close(a, b);
    }
}

#[test]
fn an_entity_round_trips_through_store_columns() {
    // what a store keeps: id, kind, geometry as GeoJSON text, attrs as JSON
    let city = testkit::twin::small_city(4);
    for e in &city.entities {
        let geometry = twin::export::geometry(&e.geometry);
        let attrs = serde_json::to_string(&e.attrs).unwrap();
        let back = Entity::new(
            e.id.clone(),
            twin::import::geometry(&geometry).unwrap(),
            serde_json::from_str(&attrs).unwrap(),
        )
        .unwrap();
        let mut back = back;
        back.name.clone_from(&e.name);
        back.community.clone_from(&e.community);
        back.tags.clone_from(&e.tags);
        assert_close(e, &back);
    }
    assert!(matches!(
        twin::import::geometry("{\"type\":\"Nope\"}"),
        Err(ImportError::Json(_))
    ));
}

#[test]
fn osm_entities_round_trip_too() {
    let Some(pbf) = testkit::twin::helsinki_pbf() else {
        return;
    };
    let city = twin::demo::helsinki(&pbf, 1).unwrap();
    let back = geojson(&export::geojson(&city.entities)).unwrap();
    assert_eq!(back.len(), city.entities.len());
    for (a, b) in city.entities.iter().zip(&back) {
        assert_close(a, b);
    }
    // a multipolygon building survives
    assert!(
        back.iter()
            .any(|e| matches!(e.geometry, geo::Geometry::MultiPolygon(_))
                || e.id.as_str().starts_with("building:r"))
    );
}
