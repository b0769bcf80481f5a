//! The live link: meter readings in, feeder state and alarms out.

use std::collections::BTreeMap;

use engine_energy::{
    Limits, LiveError, LiveFeeder, LiveReadings, PfOptions, Severity, ViolationKind, run_pf,
};

use crate::common::network;

#[test]
fn readings_equal_to_the_network_reproduce_the_power_flow() {
    let Some(dir) = testkit::shared_data("energy/cigre_lv") else {
        return;
    };
    let net = network(&dir);
    let pf = run_pf(&net, PfOptions::default()).unwrap();
    let mut live = LiveFeeder::new(&net, Limits::default(), 0.5366, BTreeMap::new()).unwrap();
    let mut r = LiveReadings::default();
    for l in &net.load {
        *r.load_kw_by_bus.entry(l.bus).or_default() += l.p_mw * 1000.0;
    }
    let st = live.update(&r).unwrap();
    for ((idx, vm), b) in st.vm_pu.iter().zip(&pf.bus) {
        assert_eq!(*idx, b.index);
        assert!((vm - b.vm_pu).abs() < 1e-9);
    }
    assert!((st.losses_kw - pf.losses_mw * 1000.0).abs() < 1e-6);
    // CIGRE LV's lowest bus is at 0.912 pu: below the ±7 % band
    assert!(
        st.violations
            .iter()
            .any(|v| v.kind == ViolationKind::Undervoltage && v.severity == Severity::Critical)
    );
    assert!(
        st.violations
            .iter()
            .any(|v| v.kind == ViolationKind::TrafoHighLoading)
    );
    assert!((st.low_carbon.grid_co2_kg_per_h - st.grid_kw * 0.5366).abs() < 1e-9);
}

#[test]
fn pv_by_building_relieves_the_feeder_and_unknown_ids_are_errors() {
    let Some(dir) = testkit::shared_data("energy/cigre_lv") else {
        return;
    };
    let net = network(&dir);
    let buildings = BTreeMap::from([("school".to_string(), 16_i64), ("depot".to_string(), 18)]);
    let mut live = LiveFeeder::new(&net, Limits::default(), 0.5366, buildings).unwrap();
    let before = live.update(&LiveReadings::default()).unwrap();
    let mut r = LiveReadings::default();
    r.pv_kw_by_building.insert("school".into(), 40.0);
    r.pv_kw_by_building.insert("depot".into(), 30.0);
    let after = live.update(&r).unwrap();
    assert!((after.low_carbon.pv_kw - 70.0).abs() < 1e-9);
    assert!(after.grid_kw < before.grid_kw - 60.0);
    assert!(after.low_carbon.pv_share > 0.0);
    r.pv_kw_by_building.insert("nowhere".into(), 1.0);
    assert_eq!(
        live.update(&r).unwrap_err(),
        LiveError::UnknownBuilding("nowhere".into())
    );
    let mut bad = LiveReadings::default();
    bad.load_kw_by_bus.insert(4242, 1.0);
    assert_eq!(live.update(&bad).unwrap_err(), LiveError::UnknownBus(4242));
}
