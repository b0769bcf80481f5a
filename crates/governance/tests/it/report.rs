//! The report on a seeded synthetic 150-city, three-year data set: every table
//! and figure present, self-contained HTML, stable JSON.

use governance::{
    EntityInputs, InputValue, ReportOptions, Score, SynthParams, build_report, builtin,
    parse_tidy_csv, render_html, score, synthetic_rows, write_tidy_csv,
};
use governance::{Reference, Report};

fn report_with(placed: Option<(String, EntityInputs)>) -> Report {
    report_opts(ReportOptions {
        placed,
        ..ReportOptions::default()
    })
}

fn report_opts(opts: ReportOptions) -> Report {
    let p = builtin("six-pillar").unwrap();
    let rows = synthetic_rows(&p, &SynthParams::default());
    let data = parse_tidy_csv(&write_tidy_csv(&rows)).unwrap();
    build_report(&p, &data, &opts).unwrap()
}

#[test]
fn tiers_can_describe_one_pillar_as_the_evaluation_report_does() {
    let r = report_opts(ReportOptions {
        tier_block: Some("smart_governance".into()),
        ..ReportOptions::default()
    });
    assert_eq!(r.tiers.tiering.basis, "smart_governance");
    let j = r
        .pillars
        .iter()
        .position(|p| p.id == "smart_governance")
        .unwrap();
    let rates: Vec<f64> = r.cities.iter().map(|c| c.pillars[j].unwrap()).collect();
    let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = rates.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert_eq!((r.tiers.tiering.min, r.tiers.tiering.max), (lo, hi));
    for (c, v) in r.cities.iter().zip(&rates) {
        assert_eq!(
            c.tier,
            governance::tiers::tier_of(*v, &r.tiers.tiering.cuts)
        );
    }
    let p = builtin("six-pillar").unwrap();
    let data = parse_tidy_csv(&write_tidy_csv(&synthetic_rows(
        &p,
        &SynthParams::default(),
    )))
    .unwrap();
    let bad = ReportOptions {
        tier_block: Some("nope".into()),
        ..ReportOptions::default()
    };
    assert!(matches!(
        build_report(&p, &data, &bad),
        Err(governance::ReportError::UnknownTierBlock { .. })
    ));
}

#[test]
fn report_has_every_table_and_analysis() {
    let r = report_with(None);
    assert_eq!(r.cities.len(), 150);
    assert_eq!(r.years, vec![2019, 2020, 2021]);
    assert_eq!(r.year, 2021);
    // tiers
    assert_eq!(r.tiers.rows.len(), 4);
    assert_eq!(r.tiers.rows.iter().map(|t| t.count).sum::<usize>(), 150);
    assert!(r.tiers.rows.iter().all(|t| t.count > 0));
    assert_eq!(r.tier_second_level.len(), r.second_level.len());
    assert_eq!(r.second_level.len(), 14);
    // ranks are a permutation of 1..=150, best first
    assert!(r.cities.iter().enumerate().all(|(i, c)| c.rank == i + 1));
    assert!(
        r.cities
            .windows(2)
            .all(|w| w[0].composite >= w[1].composite)
    );
    // regions: six, all populated, East China ahead of Northwest by construction
    assert_eq!(r.regions.len(), 6);
    assert_eq!(r.regions.iter().map(|g| g.n).sum::<usize>(), 150);
    let mean = |i: usize| r.regions[i].composite_mean.unwrap();
    assert!(mean(2) > mean(5));
    // pillars, spread by year, correlations
    assert_eq!(r.pillar_summary.len(), 6);
    assert_eq!(r.spread_by_year.len(), 3);
    assert!(
        r.spread_by_year
            .windows(2)
            .all(|w| w[1].composite_mean > w[0].composite_mean)
    );
    let c = &r.correlation;
    for i in 0..6 {
        assert_eq!(c.pearson_r[i][i], Some(1.0));
        for j in 0..6 {
            assert_eq!(c.pearson_r[i][j], c.pearson_r[j][i]);
            assert!((0.0..=1.0).contains(&c.pearson_p[i][j].unwrap()));
        }
    }
    // rank regression of the external index
    let rr = r.rank_regression.as_ref().unwrap();
    assert_eq!(rr.n, 150);
    assert!(rr.pearson.r > 0.5, "{}", rr.pearson.r);
    assert!((rr.fit.r_squared - rr.pearson.r * rr.pearson.r).abs() < 1e-9);
    let multi = r.index_on_pillars.as_ref().unwrap();
    assert_eq!(multi.coefficients.len(), 7);
    // weights, rank changes, clusters
    let w: f64 = r.weights.iter().map(|w| w.entropy_weight).sum();
    assert!((w - 1.0).abs() < 1e-12);
    assert_eq!(r.rank_changes.len(), 150);
    assert_eq!(r.rank_changes.iter().map(|x| x.change).sum::<i64>(), 0);
    assert!(r.clusters.iter().any(|c| c.cluster == "长三角"));
    assert_eq!(r.coverage.cities_scored, 150);
    assert!(r.notes.is_empty(), "{:?}", r.notes);
}

#[test]
fn a_pillar_without_spread_is_noted_not_fatal() {
    let p = builtin("six-pillar").unwrap();
    let mut rows = synthetic_rows(&p, &SynthParams::default());
    for r in &mut rows {
        if r.indicator == "eid_share" || r.indicator == "digital_skills_share" {
            r.value = 0.5;
            r.numerator = None;
            r.denominator = None;
        }
    }
    let data = parse_tidy_csv(&write_tidy_csv(&rows)).unwrap();
    let r = build_report(&p, &data, &ReportOptions::default()).unwrap();
    let j = r
        .pillars
        .iter()
        .position(|b| b.id == "digital_citizens")
        .unwrap();
    let c = &r.correlation;
    for i in 0..6 {
        if i != j {
            assert_eq!(c.pearson_r[i][j], None);
            assert_eq!(c.spearman_p[j][i], None);
        }
    }
    // pairs of the other pillars are unaffected
    let others: Vec<usize> = (0..6).filter(|&i| i != j).collect();
    assert!(c.pearson_r[others[0]][others[1]].unwrap() > 0.3);
    assert_eq!(
        r.notes
            .iter()
            .filter(|n| n.contains("digital_citizens"))
            .count(),
        5
    );
    // the constant pillar is collinear with the constant term
    assert!(r.index_on_pillars.is_none());
    assert!(
        r.notes
            .iter()
            .any(|n| n.contains("pillar score rates omitted"))
    );
    let html = render_html(&r);
    assert!(html.contains("<h2>Notes</h2>"));
}

#[test]
fn report_json_round_trips() {
    let r = report_with(None);
    let json = serde_json::to_string(&r).unwrap();
    let back: Report = serde_json::from_str(&json).unwrap();
    // serde_json's default float parser may differ from the written value in the last ulp
    assert_eq!(back.cities.len(), r.cities.len());
    for (a, b) in back.cities.iter().zip(&r.cities) {
        assert_eq!((&a.city, a.rank, a.tier), (&b.city, b.rank, b.tier));
        assert!((a.composite - b.composite).abs() <= 1e-15 * b.composite.abs());
    }
    assert_eq!(back.tiers.rows.len(), 4);
    assert_eq!(back.correlation.ids, r.correlation.ids);
    assert!(json.contains("\"schema\":\"citybrain.indicators.report/1\""));
}

#[test]
fn html_is_self_contained_and_holds_every_figure() {
    let html = render_html(&report_with(None));
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.matches("<figure>").count() >= 8);
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    for forbidden in ["<script", "<link", "src=", "url(", "@import", "https://"] {
        assert!(!html.contains(forbidden), "{forbidden}");
    }
    // the only URL is the SVG namespace
    assert_eq!(
        html.matches("http://").count(),
        html.matches("http://www.w3.org/2000/svg").count()
    );
    for caption in [
        "Cities per tier",
        "Second-level score rates by tier",
        "Mean score rate per pillar",
        "Regional mean score rates by pillar",
        "SD of pillar score rates per year",
        "Pearson correlation of pillar score rates",
        "rank vs composite rank",
    ] {
        assert!(html.contains(caption), "{caption}");
    }
}

fn live_city(closed_on_time: f64) -> EntityInputs {
    let mut e = EntityInputs::default();
    let live = [
        ("sensor_coverage", 0.7),
        ("sensor_online_share", 0.95),
        ("eco_alarm_on_time_closure", 0.8),
        ("typical_scenarios_live", 12.0),
        ("incident_response_time_min", 25.0),
        ("traffic_travel_time_index", 1.5),
        ("realtime_service_share", 0.6),
        ("good_air_days_share", 0.85),
        ("pm25_mean", 35.0),
        ("renewable_share", 0.2),
        ("co2_intensity", 0.6),
    ];
    for (k, v) in live {
        e.live.set(k, InputValue::new(v));
    }
    e.live.set(
        "incident_on_time_closure",
        InputValue::from_counts(closed_on_time, 1000.0),
    );
    let annual = [
        ("open_data_sets_per_100k", 80.0),
        ("data_sharing_share", 0.6),
        ("gigabit_household_share", 0.4),
        ("blockchain_scenarios", 5.0),
        ("online_service_share", 0.7),
        ("online_booking_hospital_share", 0.6),
        ("smart_school_share", 0.5),
        ("digital_core_gdp_share", 0.08),
        ("industrial_cloud_share", 0.4),
        ("eid_share", 0.5),
        ("digital_skills_share", 0.6),
        ("citizen_satisfaction", 80.0),
    ];
    for (k, v) in annual {
        e.statics.insert(k.into(), InputValue::new(v));
    }
    e
}

#[test]
fn the_live_city_is_placed_and_closing_incidents_on_time_raises_its_governance_score() {
    let p = builtin("six-pillar").unwrap();
    let s = |n: f64| -> Score { score(&p, &live_city(n), &Reference::none()) };
    let (low, high) = (s(600.0), s(900.0));
    assert!(high.rate("governance_system").unwrap() > low.rate("governance_system").unwrap());
    assert!(high.rate("smart_governance").unwrap() > low.rate("smart_governance").unwrap());
    assert!(high.composite.unwrap() > low.composite.unwrap());
    assert_eq!(high.coverage, 1.0);
    assert!(high.warnings.is_empty(), "{:?}", high.warnings);
    // without the annual statistics, coverage falls below the profile's minimum
    // and the result says so instead of inventing a composite
    let mut only_live = live_city(900.0);
    only_live.statics.clear();
    let partial = score(&p, &only_live, &Reference::none());
    assert!(partial.coverage < partial.min_coverage);
    assert_eq!(partial.composite, None);
    assert!(partial.rate("smart_governance").is_some());
    let r = report_with(Some(("Live city".into(), live_city(900.0))));
    let place = r.placement.unwrap();
    assert_eq!(place.of, 151);
    assert!(place.rank >= 1 && place.rank <= 151);
    assert!((place.composite - high.composite.unwrap()).abs() < 1e-12);
}

#[test]
fn the_report_is_byte_identical_across_runs_and_row_orders() {
    let p = builtin("six-pillar").unwrap();
    let rows = synthetic_rows(&p, &SynthParams::default());
    let mut reversed = rows.clone();
    reversed.reverse();
    let build = |rows: &[governance::TidyRow]| {
        let data = parse_tidy_csv(&write_tidy_csv(rows)).unwrap();
        let r = build_report(&p, &data, &ReportOptions::default()).unwrap();
        (serde_json::to_string(&r).unwrap(), render_html(&r))
    };
    assert_eq!(build(&rows), build(&reversed));
}
