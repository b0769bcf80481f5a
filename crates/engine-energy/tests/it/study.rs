//! What-if studies on CIGRE LV with the built-in profiles.

use engine_energy::{
    AddBattery, AddEv, AddPv, Battery, BatteryScope, ChargingStrategy, Controller, EvFleet,
    StudyInputs, StudySpec, WhatIf, run_study,
};
use scenario::NoProgress;

use crate::common::network;

fn spec(variants: Vec<WhatIf>) -> StudySpec {
    serde_json::from_value(serde_json::json!({
        "name": "cigre what-ifs",
        "network": "cigre_lv",
        "steps": 4 * 96,
        "seed": 11,
    }))
    .map(|s: StudySpec| StudySpec { variants, ..s })
    .unwrap()
}

fn ev(strategy: ChargingStrategy) -> WhatIf {
    WhatIf {
        name: format!("ev {strategy:?}"),
        add_ev: vec![AddEv {
            buses: vec![12, 13, 14, 15, 16, 17, 18, 19, 22, 22],
            fleet: EvFleet {
                charger_kw: 11.0,
                ..EvFleet::default()
            },
            strategy,
        }],
        ..WhatIf::default()
    }
}

#[test]
fn what_ifs_move_kpis_the_right_way_and_repeat_exactly() {
    let Some(dir) = testkit::shared_data("energy/cigre_lv") else {
        return;
    };
    let inputs = StudyInputs {
        network: network(&dir),
        series: None,
        pv_kw_per_kwp: None,
    };
    let battery = Battery {
        capacity_kwh: 200.0,
        soc_min_kwh: 20.0,
        power_kw: 60.0,
        eta_charge: 0.95,
        eta_discharge: 0.95,
        soc0_kwh: 100.0,
    };
    let variants = vec![
        WhatIf {
            name: "pv".into(),
            add_pv: vec![AddPv { bus: 16, kwp: 60.0 }, AddPv { bus: 18, kwp: 40.0 }],
            ..WhatIf::default()
        },
        WhatIf {
            name: "battery".into(),
            add_battery: vec![AddBattery {
                bus: 2,
                battery,
                controller: Controller::PeakShavingOptimal,
                scope: BatteryScope::Feeder,
            }],
            ..WhatIf::default()
        },
        ev(ChargingStrategy::Uncontrolled),
        ev(ChargingStrategy::Smart),
        WhatIf {
            name: "growth".into(),
            demand_growth: 0.2,
            ..WhatIf::default()
        },
    ];
    let s = spec(variants);
    let report = run_study(&s, &inputs, &mut NoProgress).unwrap();
    let b = &report.baseline.kpis;
    assert_eq!(b.steps, 384);
    assert!(b.peak_import_kw > 0.0 && b.losses_kwh > 0.0 && b.co2_kg > 0.0);
    let delta = |v: usize, kpi: &str| {
        report.variants[v]
            .deltas
            .iter()
            .find(|d| d.kpi == kpi)
            .unwrap()
            .delta
    };
    let kpis = |v: usize| &report.variants[v].run.kpis;
    // PV: yield appears, import and CO2 fall, voltages rise
    assert!(kpis(0).pv_yield_kwh > 100.0);
    assert!(delta(0, "grid_import_kwh") < 0.0 && delta(0, "co2_kg") < 0.0);
    assert!(delta(0, "vm_max_pu") >= 0.0);
    // battery at the optimal threshold: lower peak, reduction reported
    assert!(
        delta(1, "peak_import_kw") < -10.0,
        "{}",
        delta(1, "peak_import_kw")
    );
    assert!(kpis(1).storage_peak_reduction_kw > 10.0);
    // EV: both add the same energy; smart charging keeps the peak lower
    assert!(delta(2, "load_kwh") > 100.0);
    assert!((kpis(2).load_kwh - kpis(3).load_kwh).abs() < 1.0);
    assert!(kpis(3).peak_import_kw < kpis(2).peak_import_kw - 5.0);
    assert_eq!(report.variants[2].run.ev_unmet_kwh, 0.0);
    // growth: more losses, lower minimum voltage
    assert!(delta(4, "losses_kwh") > 0.0 && delta(4, "vm_min_pu") < 0.0);
    // deterministic
    let again = run_study(&s, &inputs, &mut NoProgress).unwrap();
    assert_eq!(
        serde_json::to_string(&report).unwrap(),
        serde_json::to_string(&again).unwrap()
    );
    let mut other = s.clone();
    other.seed = 12;
    let third = run_study(&other, &inputs, &mut NoProgress).unwrap();
    assert_ne!(
        third.variants[2].run.kpis.load_kwh,
        report.variants[2].run.kpis.load_kwh
    );
}

#[test]
fn an_unknown_bus_or_factor_is_a_clear_error() {
    let Some(dir) = testkit::shared_data("energy/cigre_lv") else {
        return;
    };
    let inputs = StudyInputs {
        network: network(&dir),
        series: None,
        pv_kw_per_kwp: None,
    };
    let mut s = spec(vec![WhatIf {
        name: "bad".into(),
        add_pv: vec![AddPv { bus: 999, kwp: 1.0 }],
        ..WhatIf::default()
    }]);
    let e = run_study(&s, &inputs, &mut NoProgress).unwrap_err();
    assert_eq!(e.to_string(), "variant \"bad\": unknown bus 999");
    s.emission_factor = "XX".into();
    assert!(run_study(&s, &inputs, &mut NoProgress).is_err());
}

/// The example spec in `reference/specs/` stays valid and tells a coherent story.
#[test]
fn the_example_oberrhein_spec_runs() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/specs");
    let spec: StudySpec =
        serde_json::from_str(&std::fs::read_to_string(dir.join("oberrhein_week.json")).unwrap())
            .unwrap();
    let inputs = StudyInputs {
        network: network(&dir.join(&spec.network)),
        series: None,
        pv_kw_per_kwp: None,
    };
    let r = run_study(&spec, &inputs, &mut NoProgress).unwrap();
    assert_eq!(r.emission_factor, "CN-2022-east");
    let k = |i: usize| &r.variants[i].run.kpis;
    assert!(k(0).co2_kg < r.baseline.kpis.co2_kg);
    assert!(k(2).peak_import_kw < k(1).peak_import_kw);
    assert!(k(3).peak_import_kw < r.baseline.kpis.peak_import_kw);
    assert!(k(4).losses_kwh > r.baseline.kpis.losses_kwh);
}
