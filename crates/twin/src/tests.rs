//! Unit tests of the live twin: apply paths, health, events, entity edits,
//! the spatial index and snapshots.

use domain::{
    EntityId, EntityKind, EventChannel, EventReport, GatewayId, LatLon, Metric, Observation,
    Priority, QualityFlags, SensorId, SensorKind, SensorSpec, StatusChange, Timestamp,
};
use geo::{Coord, Geometry, Intersects, Point, Rect};
use h3o::Resolution;

use crate::synthetic::{SyntheticSpec, generate};
use crate::*;

const MIN: i64 = 60_000;

fn twin() -> Twin {
    Twin::new(generate(&SyntheticSpec::small(3)), TwinConfig::default()).unwrap()
}

fn obs(sensor: &str, metric: &str, ts: i64, value: f64) -> Observation {
    Observation {
        sensor: SensorId::new(sensor).unwrap(),
        metric: Metric::new(metric).unwrap(),
        ts: Timestamp(ts),
        value,
    }
}

/// A sensor of the given kind in the small city.
fn sensor_of(t: &Twin, kind: SensorKind) -> String {
    t.snapshot()
        .sensors()
        .find(|s| s.spec().kind == kind)
        .map(|s| s.spec().id.to_string())
        .unwrap()
}

#[test]
fn an_observation_lands_in_its_cell_at_every_rollup_resolution() {
    let mut t = twin();
    let s = sensor_of(&t, SensorKind::AirQuality);
    let stats = t.apply_observations(&[
        obs(&s, "pm25", 10 * MIN, 12.0),
        obs(&s, "pm25", 10 * MIN + 5_000, 14.0),
    ]);
    assert_eq!(stats.applied, 2);
    let snap = t.snapshot();
    let cell = snap.sensor(&s).unwrap().cell();
    assert_eq!(cell.resolution(), Resolution::Ten);
    for res in [
        Resolution::Seven,
        Resolution::Eight,
        Resolution::Nine,
        Resolution::Ten,
    ] {
        let parent = cell.parent(res).unwrap();
        let agg = snap.cell("pm25", parent).unwrap().unwrap();
        assert_eq!(agg.total.count(), 2, "res {res}");
        assert_eq!(agg.current.stats.mean(), Some(13.0));
        assert_eq!(
            agg.current.stats.last(),
            Some((14.0, Timestamp(10 * MIN + 5_000)))
        );
        let all = snap.cells(res, "pm25", None).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].cell, parent);
    }
    assert!(matches!(
        snap.cells(Resolution::Eleven, "pm25", None),
        Err(QueryError::ResolutionNotKept { res: 11, .. })
    ));
    assert!(
        snap.cells(Resolution::Nine, "no_such_metric", None)
            .unwrap()
            .is_empty()
    );
    assert_eq!(snap.metrics(), &[Metric::new("pm25").unwrap()]);
    assert_eq!(snap.sensor(&s).unwrap().latest("pm25").unwrap().value, 14.0);
}

#[test]
fn windows_are_reported_relative_to_as_of() {
    let mut t = twin();
    let s = sensor_of(&t, SensorKind::AirQuality);
    t.apply_observations(&[obs(&s, "pm25", 10 * MIN + 1, 10.0)]);
    let cell = t.snapshot().sensor(&s).unwrap().cell();
    let agg = t.snapshot().cell("pm25", cell).unwrap().unwrap();
    assert_eq!(
        (agg.current.stats.count(), agg.previous.stats.count()),
        (1, 0)
    );
    // data time moves on a minute: the reading is now in the previous window
    t.apply(Change::Tick(Timestamp(11 * MIN + 1))).unwrap();
    let agg = t.snapshot().cell("pm25", cell).unwrap().unwrap();
    assert_eq!(
        (agg.current.stats.count(), agg.previous.stats.count()),
        (0, 1)
    );
    assert_eq!(agg.previous.start, Timestamp(10 * MIN));
    // and then it is gone from both, but not from the totals
    t.apply(Change::Tick(Timestamp(13 * MIN))).unwrap();
    let agg = t.snapshot().cell("pm25", cell).unwrap().unwrap();
    assert!(agg.current.stats.is_empty() && agg.previous.stats.is_empty());
    assert_eq!(agg.total.count(), 1);
}

#[test]
fn once_ticked_only_ticks_move_data_time() {
    let mut t = twin();
    let s = sensor_of(&t, SensorKind::AirQuality);
    t.apply_observations(&[obs(&s, "pm25", 5 * MIN, 1.0)]);
    assert_eq!(t.snapshot().as_of(), Timestamp(5 * MIN));
    t.apply(Change::Tick(Timestamp(6 * MIN))).unwrap();
    // a reading stamped ahead of the clock does not move it
    t.apply_observations(&[obs(&s, "pm25", 9 * MIN, 2.0)]);
    assert_eq!(t.snapshot().as_of(), Timestamp(6 * MIN));
    // a tick back in time does not either
    t.apply(Change::Tick(Timestamp(MIN))).unwrap();
    assert_eq!(t.snapshot().as_of(), Timestamp(6 * MIN));
    // non-finite values are dropped
    let st = t.apply_observations(&[obs(&s, "pm25", 7 * MIN, f64::NAN)]);
    assert_eq!((st.invalid, st.applied), (1, 0));
    assert_eq!(t.snapshot().totals().invalid, 1);
}

#[test]
fn unknown_duplicate_and_late_observations_are_counted_apart() {
    let mut t = twin();
    let s = sensor_of(&t, SensorKind::TrafficDetector);
    let stats = t.apply_observations(&[
        obs(&s, "flow", 5 * MIN, 300.0),
        obs(&s, "flow", 5 * MIN, 300.0),     // redelivery
        obs(&s, "flow", 4 * MIN, 280.0),     // late
        obs("nobody", "flow", 5 * MIN, 1.0), // unknown
    ]);
    assert_eq!(
        (
            stats.applied,
            stats.duplicates,
            stats.late,
            stats.unknown_sensor
        ),
        (2, 1, 1, 1)
    );
    let snap = t.snapshot();
    let tot = snap.totals();
    assert_eq!(
        (
            tot.observations,
            tot.duplicates,
            tot.late,
            tot.unknown_sensor
        ),
        (2, 1, 1, 1)
    );
    assert_eq!(tot.observations_of(SensorKind::TrafficDetector), 2);
    assert_eq!(tot.observations_of(SensorKind::AirQuality), 0);
    let h = snap.sensor(&s).unwrap().health();
    assert!(h.flags.contains(QualityFlags::LATE));
    assert_eq!(h.last_seen, Some(Timestamp(5 * MIN)));
    assert_eq!(
        snap.sensor(&s).unwrap().latest("flow").unwrap().value,
        300.0
    );
    // the late reading is aggregated in its (previous) window
    let cell = snap.sensor(&s).unwrap().cell();
    let agg = snap.cell("flow", cell).unwrap().unwrap();
    assert_eq!(
        (agg.current.stats.count(), agg.previous.stats.count()),
        (1, 1)
    );
}

#[test]
fn sensors_go_stale_on_tick_and_come_back_with_fresh_data() {
    let mut t = twin();
    let n = t.snapshot().totals().sensors();
    assert_eq!(t.snapshot().totals().sensors_with(SensorStatus::Unseen), n);
    let s = sensor_of(&t, SensorKind::WaterLevel);
    t.apply_observations(&[obs(&s, "water_level", 0, 1.2)]);
    let snap = t.snapshot();
    assert_eq!(
        snap.sensor(&s).unwrap().health().status,
        SensorStatus::Online
    );
    assert_eq!(snap.totals().sensors_with(SensorStatus::Online), 1);
    // 15 minutes is not yet stale; a moment later it is
    t.apply(Change::Tick(Timestamp(15 * MIN))).unwrap();
    assert_eq!(
        t.snapshot().sensor(&s).unwrap().health().status,
        SensorStatus::Online
    );
    let stats = t.apply(Change::Tick(Timestamp(15 * MIN + 1))).unwrap();
    assert_eq!(stats.status_changes, 1);
    let h = t.snapshot().sensor(&s).unwrap().health();
    assert_eq!(h.status, SensorStatus::Stale);
    assert!(h.flags.contains(QualityFlags::STALE));
    assert_eq!(t.snapshot().totals().sensors_with(SensorStatus::Stale), 1);
    // old buffered data does not revive it; fresh data does
    t.apply_observations(&[obs(&s, "water_level", 0, 1.1)]);
    assert_eq!(
        t.snapshot().sensor(&s).unwrap().health().status,
        SensorStatus::Stale
    );
    t.apply_observations(&[obs(&s, "water_level", 16 * MIN, 1.3)]);
    let h = t.snapshot().sensor(&s).unwrap().health();
    assert_eq!(h.status, SensorStatus::Online);
    assert!(!h.flags.contains(QualityFlags::STALE));
    assert_eq!(t.snapshot().totals().sensors_with(SensorStatus::Online), 1);
    assert_eq!(t.snapshot().totals().sensors(), n);
}

#[test]
fn gateway_death_takes_its_sensors_offline_until_birth_or_newer_data() {
    let mut t = twin();
    let s = sensor_of(&t, SensorKind::TrafficDetector);
    let gw = t.snapshot().sensor(&s).unwrap().spec().gateway.clone();
    let members: Vec<SensorId> = t
        .snapshot()
        .gateway(gw.as_str())
        .unwrap()
        .sensors()
        .cloned()
        .collect();
    assert!(members.len() > 1);
    let status = |online, ts| {
        Change::Status(StatusChange {
            gateway: gw.clone(),
            sensor: None,
            online,
            ts: Timestamp(ts),
            reason: "test".into(),
        })
    };
    let stats = t.apply(status(false, 10 * MIN)).unwrap();
    assert_eq!(stats.status_changes, members.len() as u64);
    let snap = t.snapshot();
    assert!(
        members
            .iter()
            .all(|m| snap.sensor(m.as_str()).unwrap().health().status == SensorStatus::Offline)
    );
    assert_eq!(snap.gateway(gw.as_str()).unwrap().online(), Some(false));
    // an older birth (reordered message) is ignored
    t.apply(status(true, 9 * MIN)).unwrap();
    assert_eq!(
        t.snapshot().sensor(&s).unwrap().health().status,
        SensorStatus::Offline
    );
    // data from before the death does not revive; data after it does
    t.apply_observations(&[obs(&s, "flow", 9 * MIN, 100.0)]);
    assert_eq!(
        t.snapshot().sensor(&s).unwrap().health().status,
        SensorStatus::Offline
    );
    t.apply_observations(&[obs(&s, "flow", 11 * MIN, 100.0)]);
    assert_eq!(
        t.snapshot().sensor(&s).unwrap().health().status,
        SensorStatus::Online
    );
    // a birth brings the rest back
    t.apply(status(true, 12 * MIN)).unwrap();
    let snap = t.snapshot();
    assert!(
        members
            .iter()
            .all(|m| snap.sensor(m.as_str()).unwrap().health().status == SensorStatus::Online)
    );
    assert_eq!(snap.totals().sensors_with(SensorStatus::Offline), 0);
    // unknown gateways and foreign devices are ignored
    let stray = t
        .apply(Change::Status(StatusChange {
            gateway: GatewayId::new("gw-nobody").unwrap(),
            sensor: None,
            online: false,
            ts: Timestamp(13 * MIN),
            reason: "test".into(),
        }))
        .unwrap();
    assert_eq!(stray.unknown_status, 1);
    let other = sensor_of(&t, SensorKind::WaterLevel);
    let foreign = t
        .apply(Change::Status(StatusChange {
            gateway: gw.clone(),
            sensor: Some(SensorId::new(other).unwrap()),
            online: false,
            ts: Timestamp(13 * MIN),
            reason: "test".into(),
        }))
        .unwrap();
    assert_eq!(foreign.unknown_status, 1);
}

fn report(reporter: &str, ts: i64, location: Option<LatLon>) -> EventReport {
    EventReport {
        id: format!("r-{ts}"),
        reporter: SensorId::new(reporter).unwrap(),
        channel: EventChannel::App,
        category: "pothole".into(),
        priority: Priority::P3,
        ts: Timestamp(ts),
        location,
        text: String::new(),
    }
}

#[test]
fn events_are_kept_counted_per_cell_and_bounded() {
    let cfg = TwinConfig {
        recent_events: 3,
        ..TwinConfig::default()
    };
    let mut t = Twin::new(generate(&SyntheticSpec::small(3)), cfg).unwrap();
    let r = sensor_of(&t, SensorKind::EventReporter);
    for i in 0..5 {
        t.apply(Change::Event(report(&r, i * 1000, None))).unwrap();
    }
    let snap = t.snapshot();
    assert_eq!(snap.totals().events, 5);
    let ids: Vec<&str> = snap.recent_events().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["r-2000", "r-3000", "r-4000"]);
    // placed at the reporter's location when the report has none
    let cell = snap.sensor(&r).unwrap().cell();
    let agg = snap.cell(EVENT_METRIC, cell).unwrap().unwrap();
    assert_eq!(agg.total.count(), 5);
    assert_eq!(agg.total.sum(), 5.0);
    assert_eq!(
        snap.sensor(&r).unwrap().health().status,
        SensorStatus::Online
    );
    // an unknown reporter with a location still counts where it happened
    let loc = LatLon {
        lat: 60.2,
        lon: 25.0,
    };
    t.apply(Change::Event(report("citizen-x", 6000, Some(loc))))
        .unwrap();
    let c = geom::cell_of(Point::new(loc.lon, loc.lat), Resolution::Ten).unwrap();
    assert_eq!(
        t.snapshot()
            .cell(EVENT_METRIC, c)
            .unwrap()
            .unwrap()
            .total
            .count(),
        1
    );
}

fn poi(id: &str, lon: f64, lat: f64) -> Entity {
    Entity::new(
        EntityId::new(id).unwrap(),
        Geometry::Point(Point::new(lon, lat)),
        EntityAttrs::Poi(PoiAttrs {
            category: PoiCategory::Pharmacy,
        }),
    )
    .unwrap()
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Rect<f64> {
    Rect::new(Coord { x: x0, y: y0 }, Coord { x: x1, y: y1 })
}

#[test]
fn upserts_and_removals_keep_the_bbox_query_and_registry_right() {
    let mut t = twin();
    let before = t.snapshot();
    // a spot just outside the small city
    let area = rect(24.8999, 60.1499, 24.9001, 60.1501);
    assert!(before.entities_in_bbox(area, &[]).is_empty());
    t.apply(Change::UpsertEntity(poi("poi-new", 24.90, 60.15)))
        .unwrap();
    let snap = t.snapshot();
    let got: Vec<&str> = snap
        .entities_in_bbox(area, &[EntityKind::PointOfInterest])
        .iter()
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(got, ["poi-new"]);
    // moving it away
    t.apply(Change::UpsertEntity(poi("poi-new", 24.95, 60.17)))
        .unwrap();
    assert!(t.snapshot().entities_in_bbox(area, &[]).is_empty());
    assert_eq!(
        t.snapshot().entity_count(EntityKind::PointOfInterest),
        before.entity_count(EntityKind::PointOfInterest) + 1
    );
    // a new sensor entity registers the sensor, and its data is accepted
    let spec = SensorSpec {
        id: SensorId::new("aq-new").unwrap(),
        kind: SensorKind::AirQuality,
        gateway: GatewayId::new("gw-new").unwrap(),
        location: LatLon {
            lat: 60.1605,
            lon: 24.9305,
        },
        observes: None,
        metrics: vec![Metric::new("pm25").unwrap()],
    };
    t.apply(Change::UpsertEntity(sensor_entity(spec).unwrap()))
        .unwrap();
    assert_eq!(
        t.apply_observations(&[obs("aq-new", "pm25", 0, 5.0)])
            .applied,
        1
    );
    assert!(
        t.snapshot()
            .gateway("gw-new")
            .unwrap()
            .sensors()
            .any(|s| s.as_str() == "aq-new")
    );
    assert!(t.snapshot().to_registry().sensor("aq-new").is_some());
    // removing it unregisters it
    t.apply(Change::RemoveEntity(EntityId::new("aq-new").unwrap()))
        .unwrap();
    assert_eq!(
        t.apply_observations(&[obs("aq-new", "pm25", 1, 5.0)])
            .unknown_sensor,
        1
    );
    assert!(t.snapshot().entity("aq-new").is_none());
    assert_eq!(t.snapshot().totals().sensors(), before.totals().sensors());
    // removing an unknown id changes nothing
    let v = t.version();
    assert_eq!(
        t.apply(Change::RemoveEntity(EntityId::new("nothing").unwrap()))
            .unwrap()
            .removed,
        0
    );
    assert_eq!(t.version(), v);
    // a malformed entity is refused and changes nothing
    let mut bad = poi("poi-bad", 24.93, 60.16);
    bad.kind = EntityKind::Building;
    assert!(t.apply(Change::UpsertEntity(bad)).is_err());
    assert!(t.snapshot().entity("poi-bad").is_none());
}

#[test]
fn bbox_queries_match_a_brute_force_scan_through_index_rebuilds() {
    let mut t = twin();
    // enough upserts to force at least one rebuild of the tree
    for i in 0..1500 {
        let (dx, dy) = (f64::from(i % 50) * 0.0002, f64::from(i / 50) * 0.0001);
        t.apply(Change::UpsertEntity(poi(
            &format!("poi-x{i}"),
            24.93 + dx,
            60.16 + dy,
        )))
        .unwrap();
    }
    for i in (0..1500).step_by(7) {
        t.apply(Change::RemoveEntity(
            EntityId::new(format!("poi-x{i}")).unwrap(),
        ))
        .unwrap();
    }
    let snap = t.snapshot();
    for area in [
        rect(24.93, 60.16, 24.935, 60.162),
        rect(24.0, 60.0, 25.0, 61.0),
        rect(24.9305, 60.1603, 24.9306, 60.1604),
    ] {
        for kinds in [
            &[][..],
            &[EntityKind::PointOfInterest, EntityKind::RoadSegment][..],
        ] {
            let got: Vec<&EntityId> = snap
                .entities_in_bbox(area, kinds)
                .iter()
                .map(|e| &e.id)
                .collect();
            let mut want: Vec<&EntityId> = snap
                .entities()
                .filter(|e| kinds.is_empty() || kinds.contains(&e.kind))
                .filter(|e| e.geometry.intersects(&area))
                .map(|e| &e.id)
                .collect();
            want.sort();
            assert_eq!(got, want);
        }
    }
}

#[test]
fn snapshots_and_the_twin_can_cross_threads() {
    fn shareable<T: Clone + Send + Sync + 'static>() {}
    fn movable<T: Send + 'static>() {}
    shareable::<TwinSnapshot>();
    movable::<Twin>();
    movable::<City>();
}

#[test]
fn snapshots_do_not_see_later_changes() {
    let mut t = twin();
    let s = sensor_of(&t, SensorKind::EnergyMeter);
    t.apply_observations(&[obs(&s, "power", 0, 1.0)]);
    let snap = t.snapshot();
    let v = snap.version();
    t.apply_observations(&[obs(&s, "power", MIN, 2.0)]);
    t.apply(Change::RemoveEntity(EntityId::new(s.as_str()).unwrap()))
        .unwrap();
    t.apply(Change::Tick(Timestamp(60 * MIN))).unwrap();
    assert_eq!(snap.version(), v);
    assert_eq!(snap.totals().observations, 1);
    assert_eq!(snap.sensor(&s).unwrap().latest("power").unwrap().value, 1.0);
    assert!(snap.entity(&s).is_some());
    assert_eq!(snap.as_of(), Timestamp(0));
    assert!(t.version() > v);
    // snapshots can be sent to and read on other threads
    let copy = snap.clone();
    let n = std::thread::spawn(move || copy.totals().observations)
        .join()
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn bad_configs_and_cities_are_refused() {
    let cfg = TwinConfig {
        window_ms: -1,
        ..TwinConfig::default()
    };
    assert!(matches!(
        Twin::new(generate(&SyntheticSpec::small(1)), cfg),
        Err(TwinError::Config(ConfigError::NotPositive { .. }))
    ));
    let mut city = generate(&SyntheticSpec::small(1));
    let dup = city.entities[0].clone();
    city.entities.push(dup);
    assert!(matches!(
        Twin::new(city, TwinConfig::default()),
        Err(TwinError::City(CityError::DuplicateId(_)))
    ));
}

#[test]
fn a_coarser_base_resolution_replaces_entities() {
    let cfg = TwinConfig {
        base_resolution: Resolution::Nine,
        rollup_resolutions: vec![Resolution::Eight, Resolution::Nine],
        ..TwinConfig::default()
    };
    let t = Twin::new(generate(&SyntheticSpec::small(1)), cfg).unwrap();
    let snap = t.snapshot();
    assert!(
        snap.entities()
            .all(|e| e.cell.resolution() == Resolution::Nine)
    );
    assert!(
        snap.sensors()
            .all(|s| s.cell().resolution() == Resolution::Nine)
    );
}
