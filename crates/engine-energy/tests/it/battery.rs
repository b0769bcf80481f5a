//! Acceptance 4: peak shaving against the LP optimum of the reference.

use engine_energy::{Battery, Controller, ElementSeries, simulate};

use crate::common::network;

#[test]
fn peak_shaving_reaches_the_lp_optimum_for_every_reference_battery() {
    let Some(dir) = testkit::shared_data("energy/simbench_1-LV-urban6--2-sw") else {
        return;
    };
    let net = network(&dir);
    let text = std::fs::read_to_string(dir.join("element_timeseries_2weeks.csv")).unwrap();
    let series = ElementSeries::from_csv(&net, "ts", &text).unwrap();
    // winter week: load − PV, kW
    let net_kw: Vec<f64> = (0..672)
        .map(|k| {
            let load: f64 = series.load_p_mw[k].iter().sum();
            let pv: f64 = series.sgen_p_mw[k].iter().sum();
            (load - pv) * 1000.0
        })
        .collect();
    let refs: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("peak_shaving_reference.json")).unwrap(),
    )
    .unwrap();
    for r in refs.as_array().unwrap() {
        let peak0 = net_kw.iter().copied().fold(f64::MIN, f64::max);
        assert!(
            (peak0 - r["peak_no_battery_kw"].as_f64().unwrap()).abs() < 1e-6,
            "{peak0}"
        );
        let b = &r["battery"];
        let eta = b["eta_one_way"].as_f64().unwrap();
        let bat = Battery {
            capacity_kwh: b["E_kwh"].as_f64().unwrap(),
            soc_min_kwh: 0.0,
            power_kw: b["Pmax_kw"].as_f64().unwrap(),
            eta_charge: eta,
            eta_discharge: eta,
            soc0_kwh: b["soc0_kwh"].as_f64().unwrap(),
        };
        let run = simulate(&bat, Controller::PeakShavingOptimal, &net_kw, 0.25);
        let peak = run.grid_kw.iter().copied().fold(f64::MIN, f64::max);
        let lp = r["peak_lp_optimal_kw"].as_f64().unwrap();
        eprintln!(
            "battery {} kWh / {} kW: peak {peak:.9} kW, LP {lp:.9} kW",
            bat.capacity_kwh, bat.power_kw
        );
        assert!((peak - lp).abs() <= 1e-6, "peak {peak} vs LP optimum {lp}");
        assert!(
            run.soc_kwh
                .iter()
                .all(|&s| (0.0..=bat.capacity_kwh).contains(&s))
        );
    }
}
