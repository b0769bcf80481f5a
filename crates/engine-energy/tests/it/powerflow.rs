//! Acceptance 1: CIGRE LV against pandapower.

use engine_energy::{PfOptions, run_pf};

use crate::common::{network, table};

#[track_caller]
fn assert_close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got}, want {want} (diff {:e} > {tol:e})",
        (got - want).abs()
    );
}

#[test]
fn cigre_lv_matches_pandapower_bus_line_and_trafo_results() {
    let Some(dir) = testkit::shared_data("energy/cigre_lv") else {
        return;
    };
    let net = network(&dir);
    let res = run_pf(&net, PfOptions::default()).unwrap();
    let bus = table(&dir.join("res_bus.csv"));
    assert_eq!(bus.rows.len(), res.bus.len());
    for (r, b) in res.bus.iter().enumerate() {
        assert_eq!(bus.i64(r, "index").unwrap(), b.index);
        assert_close(
            &format!("bus {} vm", b.index),
            b.vm_pu,
            bus.f64(r, "vm_pu").unwrap(),
            1e-6,
        );
        assert_close(
            &format!("bus {} va", b.index),
            b.va_degree,
            bus.f64(r, "va_degree").unwrap(),
            1e-4,
        );
    }
    let line = table(&dir.join("res_line.csv"));
    let mut want_losses = 0.0;
    for (r, l) in res.line.iter().enumerate() {
        assert_close(
            &format!("line {} loading", l.index),
            l.loading_percent,
            line.f64(r, "loading_percent").unwrap(),
            0.01,
        );
        assert_close(
            &format!("line {} p_from", l.index),
            l.p_from_mw,
            line.f64(r, "p_from_mw").unwrap(),
            1e-9,
        );
        want_losses += line.f64(r, "pl_mw").unwrap();
    }
    let trafo = table(&dir.join("res_trafo.csv"));
    for (r, t) in res.trafo.iter().enumerate() {
        assert_close(
            &format!("trafo {} loading", t.index),
            t.loading_percent,
            trafo.f64(r, "loading_percent").unwrap(),
            0.01,
        );
        assert_close(
            &format!("trafo {} q_hv", t.index),
            t.q_hv_mvar,
            trafo.f64(r, "q_hv_mvar").unwrap(),
            1e-9,
        );
        want_losses += trafo.f64(r, "pl_mw").unwrap();
    }
    // total losses within 0.1 W
    assert_close("losses", res.losses_mw, want_losses, 1e-7);
    let eg = table(&dir.join("res_ext_grid.csv"));
    assert_close(
        "ext_grid p",
        res.ext_grid[0].p_mw,
        eg.f64(0, "p_mw").unwrap(),
        1e-9,
    );
}
