use std::collections::BTreeMap;

use super::*;
use crate::kpi::Limits;
use crate::live::{LiveFeeder, LiveReadings};
use crate::powerflow::{PfOptions, run_pf};

fn small() -> Vec<TwinFeeder> {
    let city = testkit::twin::small_city(7);
    feeder_networks(&city.entities)
}

/// Every building at `kw` of metered load.
fn readings(f: &TwinFeeder, kw: f64) -> LiveReadings {
    LiveReadings {
        load_kw_by_building: f.building_bus.keys().map(|b| (b.clone(), kw)).collect(),
        ..LiveReadings::default()
    }
}

#[track_caller]
fn check_shape(f: &TwinFeeder) {
    let n = f.building_bus.len();
    // MV busbar, LV busbar, one bus per building
    assert_eq!(f.net.bus.len(), n + 2, "{}", f.id);
    // a tree over the LV busbar and the buildings
    assert_eq!(f.net.line.len(), n, "{}", f.id);
    assert_eq!(f.net.trafo.len(), 1);
    assert_eq!(f.bus_lonlat.len(), n + 2);
    let buses: std::collections::BTreeSet<i64> = f.building_bus.values().copied().collect();
    assert_eq!(buses.len(), n, "one bus per building");
    for l in &f.net.line {
        assert!(
            l.length_km >= MIN_LINE_M / 1000.0 && l.length_km < 5.0,
            "{l:?}"
        );
        assert!(l.parallel >= 1.0);
    }
}

#[test]
fn every_feeder_of_the_small_city_gets_a_tree_that_solves() {
    let city = testkit::twin::small_city(7);
    let feeders = feeder_networks(&city.entities);
    let expected = city
        .entities
        .iter()
        .filter(|e| e.kind == domain::EntityKind::Feeder)
        .count();
    assert!(expected > 0);
    assert_eq!(feeders.len(), expected);
    for f in &feeders {
        check_shape(f);
        let r = run_pf(&f.net, PfOptions::default()).unwrap();
        assert!(r.isolated_buses.is_empty(), "{}", f.id);
    }
}

#[test]
fn networks_repeat_for_the_same_city() {
    assert_eq!(small(), small());
}

#[test]
fn doubling_the_load_raises_loading_and_losses() {
    for f in small() {
        let mut live =
            LiveFeeder::new(&f.net, Limits::default(), 0.5, f.building_bus.clone()).unwrap();
        let a = live.update(&readings(&f, 5.0)).unwrap();
        let b = live.update(&readings(&f, 10.0)).unwrap();
        let max = |s: &crate::LiveState| {
            s.trafo_loading_percent
                .iter()
                .chain(&s.line_loading_percent)
                .map(|x| x.1)
                .fold(0.0, f64::max)
        };
        assert!(
            max(&b) > 1.9 * max(&a),
            "{}: {} -> {}",
            f.id,
            max(&a),
            max(&b)
        );
        assert!(b.losses_kw > a.losses_kw);
        let vmin = |s: &crate::LiveState| s.vm_pu.iter().map(|x| x.1).fold(2.0, f64::min);
        assert!(vmin(&b) < vmin(&a));
        assert!((b.load_kw - 10.0 * f.building_bus.len() as f64).abs() < 1e-6);
    }
}

#[test]
fn cables_are_sized_for_the_design_load_without_violations() {
    let city = testkit::twin::small_city(7);
    for f in feeder_networks(&city.entities) {
        // every building at its own design load
        let load: BTreeMap<String, f64> = city
            .entities
            .iter()
            .filter(|e| f.building_bus.contains_key(e.id.as_str()))
            .map(|e| (e.id.to_string(), building_design_kw(e)))
            .collect();
        assert_eq!(load.len(), f.building_bus.len());
        assert!((load.values().sum::<f64>() - f.design_kw).abs() < 1e-6);
        let mut live =
            LiveFeeder::new(&f.net, Limits::default(), 0.5, f.building_bus.clone()).unwrap();
        let s = live
            .update(&LiveReadings {
                load_kw_by_building: load,
                ..LiveReadings::default()
            })
            .unwrap();
        // sized at 70 % of the ampacity; the voltage drop adds a little current
        for (i, l) in &s.line_loading_percent {
            assert!(*l < 80.0, "{}: line {i} at {l} %", f.id);
        }
        // the transformer is rated 1.3 x the design load
        assert!(
            s.trafo_loading_percent[0].1 < 100.0,
            "{:?}",
            s.trafo_loading_percent
        );
    }
}

#[test]
fn an_overloaded_transformer_is_a_critical_violation() {
    let f = &small()[0];
    let mut live = LiveFeeder::new(&f.net, Limits::default(), 0.5, f.building_bus.clone()).unwrap();
    let rated_kw = f.net.trafo[0].sn_mva * 1000.0;
    let per = 1.3 * rated_kw / f.building_bus.len() as f64;
    let s = live.update(&readings(f, per)).unwrap();
    assert!(
        s.trafo_loading_percent[0].1 > 100.0,
        "{:?}",
        s.trafo_loading_percent
    );
    assert!(
        s.violations
            .iter()
            .any(|v| v.kind == crate::ViolationKind::TrafoOverload)
    );
}

#[test]
fn the_demo_city_feeders_solve_at_metered_loads() {
    let Some(pbf) = testkit::twin::helsinki_pbf() else {
        return;
    };
    let city = twin::demo::helsinki(&pbf, 7).unwrap();
    let feeders = feeder_networks(&city.entities);
    assert!(feeders.len() > 5, "{}", feeders.len());
    let (mut worst_v, mut worst_loading) = (2.0f64, 0.0f64);
    for f in &feeders {
        check_shape(f);
        let mut live =
            LiveFeeder::new(&f.net, Limits::default(), 0.5, f.building_bus.clone()).unwrap();
        // the simulators' meters peak at 2-40 kW: 20 kW everywhere
        let s = live.update(&readings(f, 20.0)).unwrap();
        let vmin = s.vm_pu.iter().map(|x| x.1).fold(2.0, f64::min);
        assert!(vmin > 0.8, "{}: {vmin}", f.id);
        worst_v = worst_v.min(vmin);
        worst_loading = s
            .trafo_loading_percent
            .iter()
            .chain(&s.line_loading_percent)
            .map(|x| x.1)
            .fold(worst_loading, f64::max);
    }
    eprintln!(
        "demo city: {} feeders, {} buildings; at 20 kW each: lowest voltage {worst_v:.4} pu, highest loading {worst_loading:.1} %",
        feeders.len(),
        feeders.iter().map(|f| f.building_bus.len()).sum::<usize>()
    );
}
