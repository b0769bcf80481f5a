//! Synthetic cities: sizes, determinism, consistency.

use domain::{EntityKind, SensorKind};
use twin::synthetic::{SyntheticSpec, generate};
use twin::{Twin, TwinConfig};

#[test]
fn a_small_city_has_the_counts_its_spec_implies() {
    let spec = SyntheticSpec::small(5);
    let city = generate(&spec);
    city.check().unwrap();
    let (gx, gy) = (u64::from(spec.grid_x), u64::from(spec.grid_y));
    let count = |k| city.count(k) as u64;
    assert_eq!(count(EntityKind::Intersection), gx * gy);
    assert_eq!(
        count(EntityKind::RoadSegment),
        2 * ((gx - 1) * gy + gx * (gy - 1))
    );
    assert_eq!(count(EntityKind::Building), spec.buildings());
    assert_eq!(
        count(EntityKind::PointOfInterest),
        spec.blocks() * u64::from(spec.pois_per_block)
    );
    assert_eq!(count(EntityKind::Community), 4); // 3 x 3 blocks in 2 x 2 communities
    assert_eq!(count(EntityKind::Feeder), 4);
    for kind in SensorKind::ALL {
        assert!(city.registry.sensors().any(|s| s.kind == kind), "{kind}");
    }
    // 4 interior intersections, each with 4 approaches
    let detectors = city
        .registry
        .sensors()
        .filter(|s| s.kind == SensorKind::TrafficDetector)
        .count();
    assert_eq!(detectors, 16);
    // every building is metered (meter_share = 1) and belongs to a feeder
    let meters = city
        .registry
        .sensors()
        .filter(|s| s.kind == SensorKind::EnergyMeter)
        .count() as u64;
    assert_eq!(meters, spec.buildings());
    assert!(
        city.entities
            .iter()
            .filter_map(|e| e.building())
            .all(|b| b.feeder.is_some())
    );
}

#[test]
fn same_spec_same_city_other_seed_other_city() {
    assert_eq!(
        generate(&SyntheticSpec::small(1)),
        generate(&SyntheticSpec::small(1))
    );
    assert_ne!(
        generate(&SyntheticSpec::small(1)),
        generate(&SyntheticSpec::small(2))
    );
}

#[test]
fn with_entities_sizes_the_grid() {
    let city = generate(&SyntheticSpec::with_entities(20_000, 1));
    let n = city.entities.len() - city.count(EntityKind::Sensor);
    assert!((19_000..=23_000).contains(&n), "{n}");
    let t = Twin::new(city, TwinConfig::default()).unwrap();
    assert_eq!(
        t.snapshot().entities().count(),
        n + t.snapshot().entity_count(EntityKind::Sensor)
    );
}

/// The full-size city of the benchmarks. Run with
/// `cargo test -p twin --release --test it -- --ignored a_million`.
#[test]
#[ignore = "full size: run in release"]
fn a_million_entities_generate_and_load() {
    let city = generate(&SyntheticSpec::with_entities(1_000_000, 1));
    assert!(city.entities.len() >= 1_000_000, "{}", city.entities.len());
    let t = Twin::new(city, TwinConfig::default()).unwrap();
    assert!(t.snapshot().entities().count() >= 1_000_000);
}
