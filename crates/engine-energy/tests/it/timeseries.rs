//! Acceptance 2: SimBench 1-LV-urban6--2-sw, two weeks of 15-minute steps.

use engine_energy::{ElementSeries, PfOptions, run_series};
use scenario::NoProgress;

use crate::common::{network, table};

#[test]
fn simbench_two_weeks_match_pandapower_at_every_bus_and_step() {
    let Some(dir) = testkit::shared_data("energy/simbench_1-LV-urban6--2-sw") else {
        return;
    };
    let mut net = network(&dir);
    let text = std::fs::read_to_string(dir.join("element_timeseries_2weeks.csv")).unwrap();
    let series = ElementSeries::from_csv(&net, "element_timeseries_2weeks", &text).unwrap();
    assert_eq!(series.steps, 1344);
    let vm = table(&dir.join("ref_timeseries_bus_vm_pu.csv"));
    let summary = table(&dir.join("ref_timeseries_summary.csv"));
    let bus_cols: Vec<usize> = net
        .bus
        .iter()
        .map(|b| vm.require(&format!("bus_{}", b.index)).unwrap())
        .collect();
    let mut worst = (0.0f64, 0usize, 0usize);
    let mut worst_loss = 0.0f64;
    run_series(
        &mut net,
        &series,
        PfOptions::default(),
        &mut NoProgress,
        |k, st| {
            for (b, &c) in bus_cols.iter().enumerate() {
                let want: f64 = vm.cell(k, c).parse().unwrap();
                let d = (st.vm_pu[b] - want).abs();
                if d > worst.0 {
                    worst = (d, k, b);
                }
            }
            let want_loss = summary.f64(k, "losses_p_mw").unwrap();
            worst_loss = worst_loss.max((st.losses_mw - want_loss).abs());
            let want_grid = summary.f64(k, "ext_grid_p_mw").unwrap();
            assert!(
                (st.grid_p_mw - want_grid).abs() < 1e-8,
                "step {k}: grid {} vs {want_grid}",
                st.grid_p_mw
            );
        },
    )
    .unwrap();
    eprintln!(
        "SimBench: worst vm deviation {:e} pu (step {}, bus {}), worst loss deviation {worst_loss:e} MW",
        worst.0, worst.1, worst.2
    );
    // the reference file rounds vm to 8 decimals
    assert!(
        worst.0 <= 1e-6,
        "largest vm deviation {:e} at step {} bus {}",
        worst.0,
        worst.1,
        worst.2
    );
    assert!(
        worst_loss < 1e-8,
        "largest loss deviation {worst_loss:e} MW"
    );
}
