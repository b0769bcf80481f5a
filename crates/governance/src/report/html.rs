//! The self-contained HTML page of a [`Report`]: tables and inline SVG figures,
//! one `<style>` block, no scripts and no external resources.

use std::fmt::Write as _;

use super::svg::{bar_chart, esc, heatmap, line_chart, scatter_with_line};
use super::{BlockInfo, Report};
use crate::tiers::Tier;

const STYLE: &str = "body{font-family:sans-serif;margin:24px auto;max-width:1100px;color:#222;line-height:1.4}\
h1{font-size:24px}h2{font-size:19px;margin-top:36px;border-bottom:1px solid #ccc;padding-bottom:4px}\
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}td{white-space:nowrap}\
th{background:#f2f2f2}td.l,th.l{text-align:left}figure{margin:12px 0}figcaption{font-size:13px;color:#555}\
.note{color:#555;font-size:13px}.scroll{max-height:480px;overflow:auto}";

fn f4(v: f64) -> String {
    format!("{v:.4}")
}

fn of4(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), f4)
}

fn p_fmt(p: f64) -> String {
    if p < 1e-4 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}

fn corr_cell(r: Option<f64>, p: Option<f64>) -> String {
    match (r, p) {
        (Some(r), Some(p)) => format!("{r:.3} ({})", p_fmt(p)),
        _ => "–".into(),
    }
}

fn label(b: &BlockInfo) -> String {
    format!("{} {}", b.name_zh, b.name_en)
}

fn table(out: &mut String, head: &[String], rows: &[Vec<String>], left_cols: usize) {
    out.push_str("<table><thead><tr>");
    for (i, h) in head.iter().enumerate() {
        let cls = if i < left_cols { " class=\"l\"" } else { "" };
        let _ = write!(out, "<th{cls}>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let cls = if i < left_cols { " class=\"l\"" } else { "" };
            let _ = write!(out, "<td{cls}>{}</td>", esc(c));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

fn figure(out: &mut String, svg: &str, caption: &str) {
    let _ = write!(
        out,
        "<figure>{svg}<figcaption>{}</figcaption></figure>",
        esc(caption)
    );
}

/// Renders the report as one self-contained HTML document.
pub fn render_html(r: &Report) -> String {
    let mut o = String::with_capacity(256 * 1024);
    let pillar_names: Vec<String> = r.pillars.iter().map(|p| p.name_en.clone()).collect();
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{t}</title><style>{STYLE}</style></head><body>\
<h1>{t}</h1><p>{zh} · year {y} · {n} cities scored ({nd} in data) · years in data: {ys}</p>",
        t = esc(&format!(
            "Smart-city evaluation report: {}",
            r.profile_name_en
        )),
        zh = esc(&r.profile_name_zh),
        y = r.year,
        n = r.coverage.cities_scored,
        nd = r.coverage.cities_in_data,
        ys = esc(&r
            .years
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(", ")),
    );
    if let Some(note) = &r.note {
        let _ = write!(o, "<p class=\"note\">{}</p>", esc(note));
    }
    let _ = write!(
        o,
        "<p class=\"note\">Missing-data policy: {}. Mean coverage {:.3}, mean confidence {:.3}. \
Standard deviations use ddof = {}. Score rate (得分率) = Σwᵢvᵢ / Σwᵢ over a block's children.</p>",
        esc(&r.missing_policy),
        r.coverage.mean_coverage,
        r.coverage.mean_confidence,
        r.ddof.as_usize()
    );
    if !r.coverage.warnings.is_empty() {
        let w: Vec<String> = r
            .coverage
            .warnings
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        let _ = write!(o, "<p class=\"note\">Warnings: {}</p>", esc(&w.join(", ")));
    }

    // 1. Tiers.
    o.push_str("<h2>1. Tiers of cities (城市梯队)</h2>");
    let t = &r.tiers.tiering;
    let _ = write!(
        o,
        "<p class=\"note\">Tiered value: {} · method: {} · cuts {} / {} / {} over the observed range [{}, {}] · {}</p>",
        esc(&t.basis),
        esc(&format!("{:?}", t.method)),
        f4(t.cuts[0]),
        f4(t.cuts[1]),
        f4(t.cuts[2]),
        f4(t.min),
        f4(t.max),
        esc(&r.tiers.edge_rule)
    );
    let rows: Vec<Vec<String>> = r
        .tiers
        .rows
        .iter()
        .map(|row| {
            vec![
                format!("{} {}", row.name_zh, row.name_en),
                format!(
                    "[{}, {}{}",
                    f4(row.lower),
                    f4(row.upper),
                    if row.tier == Tier::Leader { "]" } else { ")" }
                ),
                row.count.to_string(),
                format!("{:.1} %", 100.0 * row.share),
                of4(row.mean),
            ]
        })
        .collect();
    table(
        &mut o,
        &["Tier", "Range", "Cities", "Share", "Mean"].map(String::from),
        &rows,
        2,
    );
    let tier_names: Vec<String> = Tier::ALL
        .iter()
        .rev()
        .map(|t| t.name_en().to_string())
        .collect();
    let counts: Vec<Option<f64>> = r.tiers.rows.iter().map(|x| Some(x.count as f64)).collect();
    figure(
        &mut o,
        &bar_chart(
            "Cities per tier",
            "cities",
            &tier_names,
            &[("cities".into(), counts)],
            None,
            None,
        ),
        "Figure 1. Number of cities per tier.",
    );
    let cats: Vec<String> = r.second_level.iter().map(|b| b.name_en.clone()).collect();
    let series: Vec<(String, Vec<Option<f64>>)> = Tier::ALL
        .iter()
        .rev()
        .map(|t| {
            (
                t.name_en().to_string(),
                r.tier_second_level
                    .iter()
                    .map(|row| row.means[t.index()])
                    .collect(),
            )
        })
        .collect();
    figure(
        &mut o,
        &bar_chart(
            "Second-level score rates by tier",
            "mean score rate",
            &cats,
            &series,
            None,
            Some(1.0),
        ),
        "Figure 2. Tier distribution of second-level indicators: mean score rate of each second-level indicator within each tier.",
    );

    // 2. Pillars.
    o.push_str("<h2>2. Pillar score rates (一级指标得分率)</h2>");
    let rows: Vec<Vec<String>> = r
        .pillar_summary
        .iter()
        .map(|p| {
            let b = r.pillars.iter().find(|b| b.id == p.id);
            vec![
                b.map_or(p.id.clone(), label),
                b.map_or("–".into(), |b| f4(b.weight_share)),
                p.n.to_string(),
                f4(p.mean),
                f4(p.std),
                f4(p.min),
                f4(p.max),
            ]
        })
        .collect();
    table(
        &mut o,
        &["Pillar", "Weight", "n", "Mean", "SD", "Min", "Max"].map(String::from),
        &rows,
        1,
    );
    let means: Vec<Option<f64>> = r
        .pillars
        .iter()
        .map(|b| {
            r.pillar_summary
                .iter()
                .find(|p| p.id == b.id)
                .map(|p| p.mean)
        })
        .collect();
    figure(
        &mut o,
        &bar_chart(
            "Mean score rate per pillar",
            "mean score rate",
            &pillar_names,
            &[("mean".into(), means)],
            None,
            Some(1.0),
        ),
        "Figure 3. Pillar averages.",
    );

    // 3. Regions.
    o.push_str("<h2>3. Macro-regions (六大区)</h2>");
    let mut head = vec![
        "Region".to_string(),
        "n".into(),
        "Composite mean".into(),
        "Composite SD".into(),
    ];
    head.extend(r.pillars.iter().map(|p| format!("{} mean / SD", p.name_en)));
    let rows: Vec<Vec<String>> = r
        .regions
        .iter()
        .map(|g| {
            let mut row = vec![
                format!("{} {}", g.name_zh, g.name_en),
                g.n.to_string(),
                of4(g.composite_mean),
                of4(g.composite_std),
            ];
            row.extend(
                g.pillar_means
                    .iter()
                    .zip(&g.pillar_stds)
                    .map(|(m, s)| format!("{} / {}", of4(*m), of4(*s))),
            );
            row
        })
        .collect();
    table(&mut o, &head, &rows, 1);
    let cats: Vec<String> = r.regions.iter().map(|g| g.name_en.clone()).collect();
    let series: Vec<(String, Vec<Option<f64>>)> = r
        .pillars
        .iter()
        .enumerate()
        .map(|(j, p)| {
            (
                p.name_en.clone(),
                r.regions.iter().map(|g| g.pillar_means[j]).collect(),
            )
        })
        .collect();
    figure(
        &mut o,
        &bar_chart(
            "Regional mean score rates by pillar",
            "mean score rate",
            &cats,
            &series,
            None,
            Some(1.0),
        ),
        "Figure 4. Regional means of the pillar score rates.",
    );
    let comp = vec![(
        "composite".to_string(),
        r.regions.iter().map(|g| g.composite_mean).collect(),
    )];
    let err = vec![
        r.regions
            .iter()
            .map(|g| g.composite_std)
            .collect::<Vec<_>>(),
    ];
    figure(
        &mut o,
        &bar_chart(
            "Regional composite mean ± SD",
            "composite",
            &cats,
            &comp,
            Some(&err),
            None,
        ),
        "Figure 5. Regional means of the composite index with ±1 SD.",
    );

    // 4. Spread by year.
    o.push_str("<h2>4. Score-rate spread by year (得分率标准差)</h2>");
    let mut head = vec!["Year".to_string(), "n".into(), "Composite mean".into()];
    head.extend(r.pillars.iter().map(|p| format!("{} mean / SD", p.name_en)));
    let rows: Vec<Vec<String>> = r
        .spread_by_year
        .iter()
        .map(|y| {
            let mut row = vec![y.year.to_string(), y.n.to_string(), f4(y.composite_mean)];
            row.extend(
                y.means
                    .iter()
                    .zip(&y.stds)
                    .map(|(m, s)| format!("{} / {}", of4(*m), of4(*s))),
            );
            row
        })
        .collect();
    table(&mut o, &head, &rows, 1);
    let years: Vec<i32> = r.spread_by_year.iter().map(|y| y.year).collect();
    let series: Vec<(String, Vec<Option<f64>>)> = r
        .pillars
        .iter()
        .enumerate()
        .map(|(j, p)| {
            (
                p.name_en.clone(),
                r.spread_by_year.iter().map(|y| y.stds[j]).collect(),
            )
        })
        .collect();
    figure(
        &mut o,
        &line_chart(
            "SD of pillar score rates per year",
            "SD of score rate",
            &years,
            &series,
        ),
        "Figure 6. Spread of pillar score rates across cities, per year.",
    );

    // 5. Correlations.
    o.push_str("<h2>5. Correlations among pillars (相关性)</h2>");
    let c = &r.correlation;
    let _ = write!(
        o,
        "<p class=\"note\">n = {} cities with every pillar. Upper triangle: Pearson r (p); lower triangle: Spearman ρ (p). Two-sided p-values.</p>",
        c.n
    );
    let mut head = vec!["".to_string()];
    head.extend(pillar_names.iter().cloned());
    let rows: Vec<Vec<String>> = (0..c.ids.len())
        .map(|i| {
            let mut row = vec![pillar_names[i].clone()];
            for j in 0..c.ids.len() {
                row.push(if i == j {
                    "1".into()
                } else if i < j {
                    corr_cell(c.pearson_r[i][j], c.pearson_p[i][j])
                } else {
                    corr_cell(c.spearman_rho[i][j], c.spearman_p[i][j])
                });
            }
            row
        })
        .collect();
    table(&mut o, &head, &rows, 1);
    figure(
        &mut o,
        &heatmap(
            "Pearson correlation of pillar score rates",
            &pillar_names,
            &c.pearson_r,
            &c.pearson_p,
        ),
        "Figure 7. Correlation heatmap (* p < 0.05, ** p < 0.01).",
    );

    // 6. Regression.
    o.push_str("<h2>6. Rank regression (排名回归)</h2>");
    match &r.rank_regression {
        Some(rr) => {
            let slope = rr.fit.coefficients.get(1).map_or(0.0, |c| c.estimate);
            let intercept = rr.fit.coefficients[0].estimate;
            let _ = write!(
                o,
                "<p>Rank of <b>{}</b> on the composite rank, n = {}: r = {:.4} (p = {}), R² = {:.4}, adjusted R² = {:.4}, F = {:.3} (p = {}); Spearman ρ of the values = {:.4}.</p>",
                esc(&rr.index),
                rr.n,
                rr.pearson.r,
                p_fmt(rr.pearson.p),
                rr.fit.r_squared,
                rr.fit.adj_r_squared,
                rr.fit.f_statistic,
                p_fmt(rr.fit.f_p_value),
                rr.spearman.r
            );
            coef_table(&mut o, &rr.fit);
            figure(
                &mut o,
                &scatter_with_line(
                    &format!("{} rank vs composite rank", rr.index),
                    "composite rank",
                    &format!("{} rank", rr.index),
                    &rr.points,
                    intercept,
                    slope,
                ),
                "Figure 8. Rank regression scatter with the fitted OLS line.",
            );
        }
        None => {
            o.push_str("<p class=\"note\">No external index in the data: regression omitted.</p>")
        }
    }
    if let Some(fit) = &r.index_on_pillars {
        let _ = write!(
            o,
            "<p>Multiple OLS of the external index on the pillar score rates: n = {}, R² = {:.4}, adjusted R² = {:.4}, F = {:.3} (p = {}).</p>",
            fit.n,
            fit.r_squared,
            fit.adj_r_squared,
            fit.f_statistic,
            p_fmt(fit.f_p_value)
        );
        coef_table(&mut o, fit);
    }

    // 7. Weights.
    o.push_str("<h2>7. Configured and entropy weights (熵权)</h2>");
    let rows: Vec<Vec<String>> = r
        .weights
        .iter()
        .map(|w| {
            let name = r
                .pillars
                .iter()
                .find(|p| p.id == w.pillar)
                .map_or(w.pillar.clone(), label);
            vec![name, f4(w.configured), f4(w.entropy), f4(w.entropy_weight)]
        })
        .collect();
    table(
        &mut o,
        &["Pillar", "Configured", "Entropy e", "Entropy weight"].map(String::from),
        &rows,
        1,
    );

    // 8. Rank changes.
    if !r.rank_changes.is_empty() {
        let rc = &r.rank_changes;
        let _ = write!(
            o,
            "<h2>8. Rank changes {} → {} (排名变化)</h2>",
            rc[0].from_year, rc[0].to_year
        );
        let pick: Vec<_> = rc
            .iter()
            .take(10)
            .chain(rc.iter().rev().take(10).rev())
            .collect();
        let rows: Vec<Vec<String>> = pick
            .iter()
            .map(|x| {
                vec![
                    x.city.clone(),
                    x.from_rank.to_string(),
                    x.to_rank.to_string(),
                    format!("{:+}", x.change),
                ]
            })
            .collect();
        o.push_str("<p class=\"note\">The ten largest rises and the ten largest falls.</p>");
        table(
            &mut o,
            &["City", "Rank before", "Rank now", "Change"].map(String::from),
            &rows,
            1,
        );
    }

    // 9. Clusters.
    if !r.clusters.is_empty() {
        o.push_str("<h2>9. City clusters (城市群)</h2>");
        let rows: Vec<Vec<String>> = r
            .clusters
            .iter()
            .map(|c| {
                vec![
                    c.cluster.clone(),
                    c.n.to_string(),
                    f4(c.mean),
                    of4(c.std),
                    format!("{} ({})", c.best_city, f4(c.best)),
                ]
            })
            .collect();
        table(
            &mut o,
            &["Cluster", "n", "Mean composite", "SD", "Best city"].map(String::from),
            &rows,
            1,
        );
    }

    // 10. Placement.
    if let Some(p) = &r.placement {
        o.push_str("<h2>10. Placed city</h2>");
        let _ = write!(
            o,
            "<p><b>{}</b>: composite {} · rank {} of {} · tier {} {}{}</p>",
            esc(&p.name),
            f4(p.composite),
            p.rank,
            p.of,
            p.tier.name_zh(),
            p.tier.name_en(),
            if p.outside_range {
                " (outside the observed range)"
            } else {
                ""
            }
        );
    }

    if !r.notes.is_empty() {
        o.push_str("<h2>Notes</h2><ul>");
        for n in &r.notes {
            let _ = write!(o, "<li>{}</li>", esc(n));
        }
        o.push_str("</ul>");
    }

    // 11. All cities.
    o.push_str("<h2>11. All cities</h2><div class=\"scroll\">");
    let mut head = vec![
        "Rank".to_string(),
        "City".into(),
        "Province".into(),
        "Region".into(),
        "Tier".into(),
        "Composite".into(),
    ];
    head.extend(pillar_names.iter().cloned());
    head.extend(["Coverage".to_string(), "Confidence".into()]);
    let rows: Vec<Vec<String>> = r
        .cities
        .iter()
        .map(|c| {
            let mut row = vec![
                c.rank.to_string(),
                c.city.clone(),
                c.province.clone(),
                c.region.name_zh().to_string(),
                c.tier.name_zh().to_string(),
                f4(c.composite),
            ];
            row.extend(c.pillars.iter().map(|v| of4(*v)));
            row.extend([format!("{:.3}", c.coverage), format!("{:.3}", c.confidence)]);
            row
        })
        .collect();
    table(&mut o, &head, &rows, 0);
    o.push_str("</div>");
    let _ = write!(
        o,
        "<p class=\"note\">Schema {}. Generated by citybrain indicators report.</p></body></html>",
        esc(&r.schema)
    );
    o
}

fn coef_table(o: &mut String, fit: &crate::stats::OlsFit) {
    let rows: Vec<Vec<String>> = fit
        .coefficients
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                format!("{:.6}", c.estimate),
                format!("{:.6}", c.std_err),
                format!("{:.3}", c.t),
                p_fmt(c.p),
            ]
        })
        .collect();
    table(
        o,
        &["Term", "Coefficient", "SE", "t", "p"].map(String::from),
        &rows,
        1,
    );
}
