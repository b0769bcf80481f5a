//! Acceptance 3: the PV chain against pvlib's hourly reference, stage by stage.

use engine_energy::pv::{PvSystem, parse_tmy3, pv_chain};

use crate::common::table;

#[test]
fn pv_chain_matches_pvlib_in_every_stage_and_hour() {
    let Some(dir) = testkit::shared_data("energy/pv_pvlib") else {
        return;
    };
    let tmy = parse_tmy3(&std::fs::read_to_string(dir.join("723170TYA.CSV")).unwrap()).unwrap();
    let r = table(&dir.join("pvlib_reference_hourly.csv"));
    assert_eq!(tmy.records.len(), r.rows.len());
    let sys = PvSystem {
        pdc0_w: 5000.0,
        ..PvSystem::default()
    };
    let (mut ours_kwh, mut ref_kwh) = (0.0, 0.0);
    let mut worst_rel: f64 = 0.0;
    // reference values are rounded to ~1e-6 (angles) and ~1e-5 (powers)
    for (k, w) in tmy.records.iter().enumerate() {
        let s = pv_chain(&sys, &tmy.site, w);
        let c = |name: &str| r.f64(k, name).unwrap();
        let near = |what: &str, got: f64, want: f64, tol: f64| {
            assert!(
                (got - want).abs() <= tol,
                "hour {k} {what}: {got} vs {want}"
            );
        };
        near(
            "apparent_zenith",
            s.apparent_zenith,
            c("apparent_zenith_deg"),
            1e-5,
        );
        near("zenith", s.zenith, c("zenith_deg"), 1e-5);
        near("azimuth", s.azimuth, c("azimuth_deg"), 1e-5);
        near("dni_extra", s.dni_extra, c("dni_extra_wm2"), 1e-4);
        near("aoi", s.aoi, c("aoi_deg"), 1e-5);
        near(
            "poa_global_iso",
            s.poa_iso.global,
            c("poa_global_iso_wm2"),
            1e-4,
        );
        near(
            "poa_direct_iso",
            s.poa_iso.direct,
            c("poa_direct_iso_wm2"),
            1e-4,
        );
        near(
            "poa_sky_diffuse_iso",
            s.poa_iso.sky_diffuse,
            c("poa_sky_diffuse_iso_wm2"),
            1e-4,
        );
        near(
            "poa_ground_diffuse",
            s.poa_iso.ground_diffuse,
            c("poa_ground_diffuse_wm2"),
            1e-4,
        );
        near(
            "poa_global_haydavies",
            s.poa_global_hay_davies,
            c("poa_global_haydavies_wm2"),
            1e-4,
        );
        near("temp_cell", s.temp_cell, c("temp_cell_faiman_c"), 1e-5);
        near("pdc", s.pdc_w, c("pdc_w"), 1e-3);
        let want = c("pac_w");
        // "meaningful sun": at least 1 % of the rating
        if want > 0.01 * sys.pdc0_w {
            let rel = (s.pac_w - want).abs() / want;
            worst_rel = worst_rel.max(rel);
            assert!(rel < 0.005, "hour {k}: pac {} vs {want}", s.pac_w);
        }
        ours_kwh += s.pac_w / 1000.0;
        ref_kwh += want / 1000.0;
    }
    let annual_rel = (ours_kwh - ref_kwh).abs() / ref_kwh;
    eprintln!(
        "PV: worst hourly AC deviation {worst_rel:e}, annual {ours_kwh:.4} vs {ref_kwh:.4} kWh ({annual_rel:e})"
    );
    assert!(annual_rel < 0.002);
}
