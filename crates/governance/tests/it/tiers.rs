//! Acceptance 1 (tiering section) and 2: the synthetic 150-city fixture gives
//! 12/47/70/21 with the report's tier means, and the boundary probes hold.

use governance::stats::Ddof;
use governance::tiers::{self, Tier, TierMethod};
use serde_json::Value;

use crate::{close, indicators_data, synthetic_tiers};

const REL: f64 = 1e-9;

fn load() -> Option<(Value, Vec<crate::TierRow>)> {
    let dir = indicators_data()?;
    let g: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("golden_stats.json")).unwrap())
            .unwrap();
    Some((g["tiering_synthetic"].clone(), synthetic_tiers(&dir)))
}

fn counts_means(section: &Value) -> ([u64; 4], [Option<f64>; 4]) {
    let names = Tier::ALL.map(Tier::name_zh);
    (
        names.map(|n| section["counts"][n].as_u64().unwrap()),
        names.map(|n| section.get("means").map(|m| m[n].as_f64().unwrap())),
    )
}

#[test]
fn equal_width_quartering_reproduces_the_report_tier_table() {
    let Some((g, rows)) = load() else { return };
    let values: Vec<f64> = rows.iter().map(|r| r.1).collect();
    assert_eq!(values.len(), 150);
    let t = tiers::assign(&values, &TierMethod::EqualWidth).unwrap();
    assert_eq!(t.counts, [21, 70, 47, 12]);
    // the report's tier means, to 4 decimals
    let want = [0.3186, 0.4815, 0.6480, 0.8216];
    for (m, w) in t.means.iter().zip(want) {
        assert_eq!(format!("{:.4}", m.unwrap()), format!("{w:.4}"));
    }
    // every city lands in the tier it was constructed for
    for (r, tier) in rows.iter().zip(&t.tiers) {
        assert_eq!(tier.name_zh(), r.2, "{}", r.0);
    }
    // golden edges, counts, means
    let edges: Vec<f64> = g["equal_width"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(t.min, edges[0]);
    assert_eq!(t.max, edges[4]);
    for k in 0..3 {
        close(&format!("edge {k}"), t.cuts[k], edges[k + 1], REL, 0.0);
    }
    let (counts, means) = counts_means(&g["equal_width"]);
    for i in 0..4 {
        assert_eq!(t.counts[i] as u64, counts[i]);
        close(
            &format!("mean {i}"),
            t.means[i].unwrap(),
            means[i].unwrap(),
            REL,
            0.0,
        );
    }
    close(
        "n mean",
        values.iter().sum::<f64>() / 150.0,
        g["mean"].as_f64().unwrap(),
        REL,
        0.0,
    );
}

#[test]
fn boundary_probes_follow_the_edge_rule() {
    let Some((g, rows)) = load() else { return };
    let values: Vec<f64> = rows.iter().map(|r| r.1).collect();
    let t = tiers::assign(&values, &TierMethod::EqualWidth).unwrap();
    let probes = g["equal_width"]["boundary_probes"].as_array().unwrap();
    assert_eq!(probes.len(), 6);
    for p in probes {
        let x = p["x"].as_f64().unwrap();
        let want = p["tier_index_0_bottom"].as_u64().unwrap() as usize;
        assert_eq!(tiers::tier_of(x, &t.cuts).index(), want, "probe {x}");
    }
    // the floor rule would differ on the second interior edge; ours does not
    let w = (t.max - t.min) / 4.0;
    let e2 = t.min + 2.0 * w;
    assert_eq!(((e2 - t.min) / w).floor() as usize, 1);
    assert_eq!(tiers::tier_of(e2, &t.cuts), Tier::Developer);
}

#[test]
fn quantile_and_mean_sd_methods_match_numpy() {
    let Some((g, rows)) = load() else { return };
    let values: Vec<f64> = rows.iter().map(|r| r.1).collect();
    let q = tiers::assign(&values, &TierMethod::Quantile).unwrap();
    let sec = &g["population_quartiles_numpy_linear"];
    for k in 0..3 {
        close(
            &format!("quartile {k}"),
            q.cuts[k],
            sec["cuts"][k].as_f64().unwrap(),
            REL,
            0.0,
        );
    }
    let (counts, means) = counts_means(sec);
    for i in 0..4 {
        assert_eq!(q.counts[i] as u64, counts[i], "quantile count {i}");
        close(
            &format!("quantile mean {i}"),
            q.means[i].unwrap(),
            means[i].unwrap(),
            REL,
            0.0,
        );
    }
    let m = tiers::assign(&values, &TierMethod::MeanSd { ddof: Ddof::Sample }).unwrap();
    let sec = &g["mean_pm_sd_ddof1"];
    for k in 0..3 {
        close(
            &format!("mean±sd {k}"),
            m.cuts[k],
            sec["cuts"][k].as_f64().unwrap(),
            REL,
            0.0,
        );
    }
    let (counts, _) = counts_means(sec);
    assert_eq!(m.counts.map(|c| c as u64), counts);
}
