//! Acceptance 1: every value of golden_stats.json within its tolerance
//! (1e-9 relative for closed-form statistics, 1e-7 absolute for p-values).

use governance::stats::{self, Ddof};
use serde_json::Value;

use crate::{close, indicators_data, montreal};

const REL: f64 = 1e-9;
const P_ABS: f64 = 1e-7;

type Montreal = std::collections::BTreeMap<(String, i32), f64>;

fn golden() -> Option<(Value, Montreal, std::path::PathBuf)> {
    let dir = indicators_data()?;
    let text = std::fs::read_to_string(dir.join("golden_stats.json")).unwrap();
    Some((serde_json::from_str(&text).unwrap(), montreal(&dir), dir))
}

fn years(v: &Value) -> Vec<i32> {
    v["years"]
        .as_array()
        .unwrap()
        .iter()
        .map(|y| y.as_i64().unwrap() as i32)
        .collect()
}

fn f(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or_else(|| panic!("{k} missing"))
}

/// The series named `name` over `years`: a Montréal code, `year`, or `year_minus_2012`.
fn series(
    data: &std::collections::BTreeMap<(String, i32), f64>,
    name: &str,
    years: &[i32],
) -> Vec<f64> {
    years
        .iter()
        .map(|&y| match name {
            "year" => f64::from(y),
            "year_minus_2012" => f64::from(y - 2012),
            code => data[&(code.to_string(), y)],
        })
        .collect()
}

#[test]
fn pearson_and_spearman_match_scipy() {
    let Some((g, data, _)) = golden() else { return };
    let cases = g["correlation"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for c in cases {
        let ys = years(c);
        let (xn, yn) = (c["x"].as_str().unwrap(), c["y"].as_str().unwrap());
        let (x, y) = (series(&data, xn, &ys), series(&data, yn, &ys));
        assert_eq!(x.len() as u64, c["n"].as_u64().unwrap());
        let p = stats::pearson(&x, &y).unwrap();
        let s = stats::spearman(&x, &y).unwrap();
        let tag = format!("{xn}~{yn}");
        close(
            &format!("{tag} pearson r"),
            p.r,
            f(c, "pearson_r"),
            REL,
            0.0,
        );
        close(
            &format!("{tag} pearson p"),
            p.p,
            f(c, "pearson_p_two_sided"),
            0.0,
            P_ABS,
        );
        close(
            &format!("{tag} spearman rho"),
            s.r,
            f(c, "spearman_rho"),
            REL,
            0.0,
        );
        close(
            &format!("{tag} spearman p"),
            s.p,
            f(c, "spearman_p_two_sided"),
            0.0,
            P_ABS,
        );
    }
}

#[test]
fn ols_matches_statsmodels() {
    let Some((g, data, _)) = golden() else { return };
    let cases = g["ols_simple"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for c in cases {
        let ys = years(c);
        let (xn, yn) = (c["x"].as_str().unwrap(), c["y"].as_str().unwrap());
        let (x, y) = (series(&data, xn, &ys), series(&data, yn, &ys));
        let fit = stats::ols(&y, &[(xn, &x)]).unwrap();
        let tag = format!("{yn}~{xn}");
        let (b0, b1) = (&fit.coefficients[0], &fit.coefficients[1]);
        close(
            &format!("{tag} intercept"),
            b0.estimate,
            f(c, "intercept"),
            REL,
            0.0,
        );
        close(
            &format!("{tag} slope"),
            b1.estimate,
            f(c, "slope"),
            REL,
            0.0,
        );
        close(
            &format!("{tag} se_intercept"),
            b0.std_err,
            f(c, "se_intercept"),
            REL,
            0.0,
        );
        close(
            &format!("{tag} se_slope"),
            b1.std_err,
            f(c, "se_slope"),
            REL,
            0.0,
        );
        if c.get("t_slope").is_some() {
            close(
                &format!("{tag} t_intercept"),
                b0.t,
                f(c, "t_intercept"),
                REL,
                0.0,
            );
            close(&format!("{tag} t_slope"), b1.t, f(c, "t_slope"), REL, 0.0);
        }
        close(
            &format!("{tag} p_intercept"),
            b0.p,
            f(c, "p_intercept"),
            0.0,
            P_ABS,
        );
        close(&format!("{tag} p_slope"), b1.p, f(c, "p_slope"), 0.0, P_ABS);
        close(
            &format!("{tag} r2"),
            fit.r_squared,
            f(c, "r_squared"),
            REL,
            0.0,
        );
        close(
            &format!("{tag} adj r2"),
            fit.adj_r_squared,
            f(c, "adj_r_squared"),
            REL,
            0.0,
        );
        if c.get("f_statistic").is_some() {
            close(
                &format!("{tag} F"),
                fit.f_statistic,
                f(c, "f_statistic"),
                REL,
                0.0,
            );
            close(
                &format!("{tag} F p"),
                fit.f_p_value,
                f(c, "f_p_value"),
                0.0,
                P_ABS,
            );
            assert_eq!(fit.df_resid, f(c, "df_resid"));
            let r = stats::pearson(&x, &y).unwrap();
            close(
                &format!("{tag} R2 = r2"),
                fit.r_squared,
                r.r * r.r,
                REL,
                0.0,
            );
        }
    }
}

fn by_year(v: &Value) -> Vec<(i32, f64)> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, x)| (k.parse().unwrap(), x.as_f64().unwrap()))
        .collect()
}

#[test]
fn normalisations_match_numpy() {
    let Some((g, data, _)) = golden() else { return };
    let n = &g["normalisation"];
    for (key, code, higher) in [
        ("FIRE407_minmax_lower_is_better", "FIRE407", false),
        ("CLKS470_minmax_higher_is_better", "CLKS470", true),
    ] {
        let input = by_year(&n[key]["input"]);
        for (y, v) in &input {
            assert_eq!(data[&(code.to_string(), *y)], *v, "{key} input {y}");
        }
        let xs: Vec<f64> = input.iter().map(|p| p.1).collect();
        let got = stats::minmax(&xs, higher).unwrap();
        for ((y, want), g) in by_year(&n[key]["output"]).iter().zip(&got) {
            close(&format!("{key} {y}"), *g, *want, REL, 1e-15);
        }
    }
    let t = &n["CLKS470_target_norm"];
    for ((_, x), (y, want)) in by_year(&t["input"]).iter().zip(by_year(&t["output"])) {
        let got = stats::target_norm(*x, f(t, "baseline"), f(t, "target"));
        close(&format!("CLKS470 target {y}"), got, want, REL, 0.0);
    }
    let t = &n["FIRE407_target_norm_lower_better"];
    for ((_, x), (y, want)) in by_year(&t["input"]).iter().zip(by_year(&t["output"])) {
        let got = stats::target_norm(*x, f(t, "worst"), f(t, "target"));
        close(&format!("FIRE407 target {y}"), got, want, REL, 0.0);
    }
}

#[test]
fn profile_normalisation_agrees_with_the_statistics_module() {
    // The same golden target normalisation through an indicator of the six-pillar profile.
    let Some((g, _, _)) = golden() else { return };
    let t = &g["normalisation"]["CLKS470_target_norm"];
    let p = governance::builtin("six-pillar").unwrap();
    let ind = p.indicator("grassroots_governance").unwrap();
    assert_eq!(
        ind.normalisation,
        governance::Normalisation::Target {
            baseline: f(t, "baseline"),
            target: f(t, "target")
        }
    );
    for ((_, x), (y, want)) in by_year(&t["input"]).iter().zip(by_year(&t["output"])) {
        let got = governance::normalise(ind, *x, None).unwrap();
        close(&format!("grassroots_governance {y}"), got, want, REL, 0.0);
    }
}

#[test]
fn std_ddof_example_matches_numpy() {
    let Some((g, _, _)) = golden() else { return };
    let e = &g["std_ddof_example"];
    let xs: Vec<f64> = e["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let pop = stats::std_dev(&xs, Ddof::Population).unwrap();
    close("ddof0", pop, f(e, "population_std_ddof0"), REL, 0.0);
    close(
        "ddof1",
        stats::std_dev(&xs, Ddof::Sample).unwrap(),
        f(e, "sample_std_ddof1"),
        REL,
        0.0,
    );
    let cv = pop / stats::mean(&xs).unwrap();
    close("cv", cv, f(e, "coefficient_of_variation_ddof0"), REL, 0.0);
}

#[test]
fn mini_index_entropy_weights_and_composites_match() {
    let Some((g, data, _)) = golden() else { return };
    let m = &g["mini_index"];
    let ys = m["objects_years"].as_array().unwrap();
    let inds = m["indicators"].as_array().unwrap();
    let codes: Vec<&str> = inds.iter().map(|i| i["code"].as_str().unwrap()).collect();
    let higher: Vec<bool> = inds
        .iter()
        .map(|i| i["higher_is_better"].as_bool().unwrap())
        .collect();
    // raw values come from the CSV
    let raw: Vec<Vec<f64>> = ys
        .iter()
        .map(|y| {
            codes
                .iter()
                .map(|c| data[&(c.to_string(), y.as_i64().unwrap() as i32)])
                .collect()
        })
        .collect();
    for (i, row) in m["raw"].as_array().unwrap().iter().enumerate() {
        for (j, v) in row.as_array().unwrap().iter().enumerate() {
            assert_eq!(raw[i][j], v.as_f64().unwrap());
        }
    }
    // min-max per column
    let mut z = vec![vec![0.0; codes.len()]; ys.len()];
    for j in 0..codes.len() {
        let col: Vec<f64> = raw.iter().map(|r| r[j]).collect();
        for (i, v) in stats::minmax(&col, higher[j])
            .unwrap()
            .into_iter()
            .enumerate()
        {
            z[i][j] = v;
        }
    }
    for (i, row) in m["minmax_normalised"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        for (j, v) in row.as_array().unwrap().iter().enumerate() {
            close(
                &format!("z[{i}][{j}]"),
                z[i][j],
                v.as_f64().unwrap(),
                REL,
                1e-15,
            );
        }
    }
    let (e, w) = stats::entropy_weights(&z).unwrap();
    let ent = &m["entropy"];
    for j in 0..codes.len() {
        close(
            &format!("e[{j}]"),
            e[j],
            ent["e"][j].as_f64().unwrap(),
            REL,
            0.0,
        );
        close(
            &format!("w[{j}]"),
            w[j],
            ent["weights"][j].as_f64().unwrap(),
            REL,
            0.0,
        );
    }
    for (key, weights) in [
        ("composite_entropy_weighted", w.clone()),
        ("composite_equal_weights", vec![0.25; 4]),
    ] {
        for (i, y) in ys.iter().enumerate() {
            let got: f64 = z[i].iter().zip(&weights).map(|(a, b)| a * b).sum();
            let want = m[key][y.to_string()].as_f64().unwrap();
            close(&format!("{key} {y}"), got, want, REL, 0.0);
        }
    }
}

#[test]
fn paper_checks_hold() {
    let Some((g, _, _)) = golden() else { return };
    let p = &g["paper_checks"];
    let counts = [12.0, 47.0, 70.0, 21.0];
    let means = [0.8216, 0.6480, 0.4815, 0.3186];
    let weighted: f64 = counts.iter().zip(&means).map(|(c, m)| c * m).sum::<f64>() / 150.0;
    close(
        "tier weighted mean",
        weighted,
        f(p, "tier_weighted_mean"),
        REL,
        0.0,
    );
    close("0.82^2", 0.82_f64 * 0.82, f(p, "r_0.82_squared"), REL, 0.0);
}

/// A one-block profile over the mini index's Montréal indicators, min-max
/// normalised over the years, with the given weights.
fn mini_profile(codes: &[&str], higher: &[bool], weights: &[f64]) -> governance::Profile {
    let mut t = String::from(
        "[profile]\nid = \"mini\"\nname_zh = \"蒙特利尔\"\nname_en = \"Montreal mini index\"\nversion = \"1\"\ndescription = \"golden mini index\"\n\
         [[block]]\nid = \"all\"\nlevel = 1\nname_zh = \"全部\"\nname_en = \"all\"\nweight = 1.0\n",
    );
    for ((c, h), w) in codes.iter().zip(higher).zip(weights) {
        t += &format!(
            "[[indicator]]\nid = \"{}\"\nparent = \"all\"\nlevel = 2\nname_zh = \"{c}\"\nname_en = \"{c}\"\nunit = \"x\"\n\
             direction = \"{}\"\nnormalisation = {{ kind = \"min_max\" }}\nweight = {w:?}\nsource = {{ kind = \"static\" }}\n",
            c.to_lowercase(),
            if *h { "higher" } else { "lower" }
        );
    }
    governance::Profile::from_toml(&t).unwrap()
}

#[test]
fn the_scorer_reproduces_the_golden_mini_index_composites() {
    // End to end: the profile scorer (min-max over the reference set, weighted
    // score rate) gives the golden equal-weight and entropy-weight composites.
    let Some((g, data, _)) = golden() else { return };
    let m = &g["mini_index"];
    let inds = m["indicators"].as_array().unwrap();
    let codes: Vec<&str> = inds.iter().map(|i| i["code"].as_str().unwrap()).collect();
    let higher: Vec<bool> = inds
        .iter()
        .map(|i| i["higher_is_better"].as_bool().unwrap())
        .collect();
    let years: Vec<i32> = m["objects_years"]
        .as_array()
        .unwrap()
        .iter()
        .map(|y| y.as_i64().unwrap() as i32)
        .collect();
    let areas: std::collections::BTreeMap<i32, governance::EntityInputs> = years
        .iter()
        .map(|&y| {
            let mut e = governance::EntityInputs::default();
            for c in &codes {
                let v = data[&(c.to_string(), y)];
                e.statics
                    .insert(c.to_lowercase(), governance::InputValue::new(v));
            }
            (y, e)
        })
        .collect();
    let entropy: Vec<f64> = m["entropy"]["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_f64().unwrap())
        .collect();
    for (key, weights) in [
        ("composite_equal_weights", vec![1.0; 4]),
        ("composite_entropy_weighted", entropy),
    ] {
        let p = mini_profile(&codes, &higher, &weights);
        let (scores, _) = governance::score_set(&p, &areas);
        for y in &years {
            let want = m[key][y.to_string()].as_f64().unwrap();
            let got = scores[y].composite.unwrap();
            close(&format!("{key} {y}"), got, want, REL, 1e-15);
            assert_eq!(scores[y].coverage, 1.0);
        }
    }
}
