//! Acceptance 4 (epidemics): SEIR within 1e-4 persons of the SciPy references.

use engine_community::{Control, SeirParams, final_size, simulate_seir};

use crate::{shared_json, shared_text};

fn rows(text: &str) -> Vec<Vec<f64>> {
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect()
}

fn single(controls: Vec<Control>) -> SeirParams {
    SeirParams {
        names: vec!["city".into()],
        population: vec![10_000.0],
        e0: vec![0.0],
        i0: vec![10.0],
        beta: 0.5,
        sigma: 1.0 / 5.2,
        gamma: 1.0 / 7.0,
        mixing: None,
        controls,
        days: 365,
        steps_per_day: 100,
    }
}

/// The CSVs print 10 significant digits, so 1e-4 persons is well above their rounding.
#[track_caller]
fn check_single(file: &str, params: &SeirParams) {
    let Some(text) = shared_text(&format!("reference/{file}")) else {
        return;
    };
    let r = simulate_seir(params).unwrap();
    let want = rows(&text);
    assert_eq!(want.len(), 366);
    let mut worst = 0.0f64;
    for (d, w) in want.iter().enumerate() {
        let got = [
            r.s[d][0],
            r.e[d][0],
            r.i[d][0],
            r.r[d][0],
            r.cumulative_infections[d],
        ];
        for (g, x) in got.iter().zip(&w[1..]) {
            worst = worst.max((g - x).abs());
        }
    }
    assert!(worst < 1e-4, "{file}: worst difference {worst} persons");
}

#[test]
fn single_community_seir_matches_scipy() {
    check_single("seir_base_daily.csv", &single(vec![]));
}

#[test]
fn controlled_seir_matches_scipy() {
    let control = Control {
        from_day: 30.0,
        to_day: Some(90.0),
        beta_reduction: 0.6,
        mobility_reduction: 0.0,
    };
    check_single("seir_control_daily.csv", &single(vec![control]));
}

#[test]
fn three_communities_with_mixing_match_scipy() {
    let (Some(text), Some(meta)) = (
        shared_text("reference/seir_meta3_daily.csv"),
        shared_json("reference/seir_reference_results.json"),
    ) else {
        return;
    };
    let m = &meta["seir_meta3"];
    let vecf = |v: &serde_json::Value| -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    };
    let p = SeirParams {
        names: vec!["a".into(), "b".into(), "c".into()],
        population: vecf(&m["N"]),
        e0: vec![0.0; 3],
        i0: vecf(&m["I0"]),
        beta: 0.5,
        sigma: 1.0 / 5.2,
        gamma: 1.0 / 7.0,
        mixing: Some(m["mixing_M"].as_array().unwrap().iter().map(vecf).collect()),
        controls: vec![],
        days: 365,
        steps_per_day: 100,
    };
    let r = simulate_seir(&p).unwrap();
    let mut worst = 0.0f64;
    for (d, w) in rows(&text).iter().enumerate() {
        for k in 0..3 {
            let got = [r.s[d][k], r.e[d][k], r.i[d][k], r.r[d][k]];
            for (c, g) in got.iter().enumerate() {
                worst = worst.max((g - w[1 + c * 3 + k]).abs());
            }
        }
    }
    assert!(worst < 1e-4, "worst difference {worst} persons");
    let peaks: Vec<u64> = m["peak_day_per_community"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect();
    assert_eq!(
        r.peak_day.iter().map(|&d| u64::from(d)).collect::<Vec<_>>(),
        peaks
    );
    for (a, b) in r
        .attack_rate
        .iter()
        .zip(vecf(&m["attack_rate_per_community"]))
    {
        assert!((a - b).abs() < 1e-6, "attack rate {a} vs {b}");
    }
}

#[test]
fn final_size_matches_theory_and_the_long_run() {
    let Some(meta) = shared_json("reference/seir_reference_results.json") else {
        return;
    };
    let want = meta["final_size_theory"]["z_final_size"].as_f64().unwrap();
    let z = final_size(3.5, 0.999).unwrap();
    assert!((z - want).abs() < 1e-12, "{z} vs {want}");
    let r = simulate_seir(&single(vec![])).unwrap();
    let attack = meta["seir_base"]["attack_rate_day365"].as_f64().unwrap();
    assert!((r.city_attack_rate - attack).abs() < 1e-6);
    // the ODE's day-365 attack rate is the final size: the epidemic is over
    assert!(
        (r.city_attack_rate - z).abs() < 1e-6,
        "{} vs {z}",
        r.city_attack_rate
    );
    assert_eq!(
        u64::from(r.city_peak_day),
        meta["seir_base"]["peak_day"].as_u64().unwrap()
    );
    assert!((r.city_peak_infectious - meta["seir_base"]["peak_I"].as_f64().unwrap()).abs() < 1e-4);
}

#[test]
fn mismatched_lengths_are_rejected() {
    let mut p = single(vec![]);
    p.i0 = vec![1.0, 2.0];
    assert!(simulate_seir(&p).is_err());
}
