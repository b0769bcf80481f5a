//! The live twin through its public API, fed by a deterministic stream.

use domain::SensorKind;
use h3o::Resolution;
use testkit::twin::{CityBuilder, observation_stream, small_city};
use twin::{Change, SensorStatus, Twin, TwinConfig};

#[test]
fn totals_and_cells_account_for_every_observation() {
    let city = small_city(9);
    let stream = observation_stream(&city, 3, 1_000_000, 250, 20_000);
    let mut want_by_kind = std::collections::BTreeMap::new();
    for o in &stream {
        let kind = city.registry.sensor(o.sensor.as_str()).unwrap().kind;
        *want_by_kind.entry(kind).or_insert(0u64) += 1;
    }
    let mut t = Twin::new(city, TwinConfig::default()).unwrap();
    let mut applied = 0;
    for batch in stream.chunks(1000) {
        applied += t.apply_observations(batch).applied;
    }
    assert_eq!(applied, stream.len() as u64);
    let snap = t.snapshot();
    for (kind, n) in &want_by_kind {
        assert_eq!(snap.totals().observations_of(*kind), *n, "{kind}");
    }
    // each observation is counted once per roll-up resolution
    for res in [
        Resolution::Seven,
        Resolution::Eight,
        Resolution::Nine,
        Resolution::Ten,
    ] {
        let total: u64 = snap
            .metrics()
            .iter()
            .map(|m| {
                snap.cells(res, m.as_str(), None)
                    .unwrap()
                    .iter()
                    .map(|c| c.total.count())
                    .sum::<u64>()
            })
            .sum();
        assert_eq!(total, stream.len() as u64, "res {res}");
    }
    // every sensor that reported is online; the others were never seen
    let reporting = snap
        .sensors()
        .filter(|s| !s.spec().metrics.is_empty())
        .count() as u64;
    assert_eq!(snap.totals().sensors_with(SensorStatus::Online), reporting);
    assert_eq!(snap.totals().observations_of(SensorKind::EventReporter), 0);
}

#[test]
fn a_city_wide_bbox_returns_every_cell() {
    let city = small_city(9);
    let stream = observation_stream(&city, 4, 0, 1000, 5_000);
    let mut t = Twin::new(city, TwinConfig::default()).unwrap();
    t.apply_observations(&stream);
    let snap = t.snapshot();
    let bbox = snap.bounds().unwrap();
    let grown = geo::Rect::new(
        geo::coord! { x: bbox.min().x - 0.01, y: bbox.min().y - 0.01 },
        geo::coord! { x: bbox.max().x + 0.01, y: bbox.max().y + 0.01 },
    );
    let all = snap.cells(Resolution::Nine, "pm25", None).unwrap();
    assert!(!all.is_empty());
    assert_eq!(
        snap.cells(Resolution::Nine, "pm25", Some(grown)).unwrap(),
        all
    );
    // an empty corner of the world has none
    let far = geo::Rect::new(
        geo::coord! { x: 0.0, y: 0.0 },
        geo::coord! { x: 1.0, y: 1.0 },
    );
    assert!(
        snap.cells(Resolution::Nine, "pm25", Some(far))
            .unwrap()
            .is_empty()
    );
    // results are in cell order
    let cells: Vec<_> = all.iter().map(|c| u64::from(c.cell)).collect();
    let mut sorted = cells.clone();
    sorted.sort_unstable();
    assert_eq!(cells, sorted);
}

#[test]
fn the_builder_makes_cities_of_the_asked_shape() {
    let b = CityBuilder::grid(6, 3)
        .seed(2)
        .buildings_per_block(2)
        .meters(0.0)
        .pv(0.0)
        .signal_every(0);
    assert_eq!(b.spec().buildings(), 5 * 2 * 2);
    let t = b.clone().twin();
    let snap = t.snapshot();
    assert_eq!(snap.entity_count(domain::EntityKind::Building), 20);
    assert!(snap.sensors().all(|s| !matches!(
        s.spec().kind,
        SensorKind::TrafficDetector | SensorKind::EnergyMeter | SensorKind::PvInverter
    )));
    assert!(
        snap.sensors()
            .any(|s| s.spec().kind == SensorKind::AirQuality)
    );
    assert_eq!(
        b.build(),
        CityBuilder::grid(6, 3)
            .seed(2)
            .buildings_per_block(2)
            .meters(0.0)
            .pv(0.0)
            .signal_every(0)
            .build()
    );
}

#[test]
fn ticks_without_data_make_every_reporting_sensor_stale() {
    let city = small_city(9);
    let stream = observation_stream(&city, 5, 0, 10, 2_000);
    let mut t = Twin::new(city, TwinConfig::default()).unwrap();
    t.apply_observations(&stream);
    let online = t.snapshot().totals().sensors_with(SensorStatus::Online);
    assert!(online > 0);
    let stats = t.apply(Change::Tick(domain::Timestamp(3_600_000))).unwrap();
    assert_eq!(stats.status_changes, online);
    assert_eq!(
        t.snapshot().totals().sensors_with(SensorStatus::Stale),
        online
    );
}
