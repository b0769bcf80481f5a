//! Acceptance 3: KPI arithmetic on the Boston 311 data reproduces the reference.

use engine_community::{KpiOptions, Kpis, kpis_of_records, parse_boston311};
use serde_json::Value;

use crate::{shared_json, shared_text};

#[track_caller]
fn close(got: f64, want: &Value, what: &str) {
    let want = want.as_f64().unwrap();
    assert!(
        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
        "{what}: {got} vs {want}"
    );
}

#[track_caller]
fn check(got: &Kpis, want: &Value, group: &str) {
    assert_eq!(
        got.requests,
        want["requests"].as_u64().unwrap(),
        "{group} requests"
    );
    assert_eq!(
        got.closed,
        want["closed"].as_u64().unwrap(),
        "{group} closed"
    );
    assert_eq!(
        got.with_due,
        want["with_target"].as_u64().unwrap(),
        "{group} with_target"
    );
    close(got.closure_rate.unwrap(), &want["closed_share"], group);
    close(
        got.source_on_time_share.unwrap(),
        &want["ontime_flag_share"],
        group,
    );
    close(
        got.on_time_closure_rate.unwrap(),
        &want["closed_by_target_share"],
        group,
    );
    close(
        got.resolution.unwrap().p50_h,
        &want["median_resolution_h"],
        group,
    );
}

#[test]
fn boston_kpis_match_city_wide_and_per_neighbourhood() {
    let (Some(csv), Some(want)) = (
        shared_text("boston311_2015_requests.csv"),
        shared_json("reference/boston311_kpis.json"),
    ) else {
        return;
    };
    let records = parse_boston311(&csv).unwrap();
    assert_eq!(records.len(), 121_145);
    let report = kpis_of_records(&records, &KpiOptions::default());
    check(&report.city, &want["city"], "city");
    assert_eq!(report.city.negative_durations, 197);
    let hoods = want["by_neighborhood"].as_object().unwrap();
    assert_eq!(report.by_community.len(), hoods.len());
    for (name, w) in hoods {
        check(&report.by_community[name], w, name);
    }
    // the governance inputs are the city-wide figures
    let g = report.governance_inputs();
    assert_eq!(g.on_time_closure_rate, report.city.on_time_closure_rate);
    assert_eq!(g.backlog, 121_145 - 101_272);
}

#[test]
fn learned_hour_of_week_rates_reproduce_the_request_counts() {
    let Some(csv) = shared_text("boston311_2015_requests.csv") else {
        return;
    };
    let records = parse_boston311(&csv).unwrap();
    let streams = engine_community::learn_arrivals(&records, 1);
    // every record belongs to exactly one stream; the rates integrate back to
    // the counts over the whole-day span of the data
    let first = records
        .iter()
        .map(|r| r.reported.as_millis())
        .min()
        .unwrap();
    let last = records
        .iter()
        .map(|r| r.reported.as_millis())
        .max()
        .unwrap();
    let days = last.div_euclid(86_400_000) - first.div_euclid(86_400_000) + 1;
    let mut expected_total = 0.0;
    for s in &streams {
        let hourly = &s.hourly.as_ref().unwrap().0;
        assert_eq!(hourly.len(), 168);
        // each hour of the week occurs days/7 times (within one)
        expected_total += hourly.iter().sum::<f64>() * days as f64 / 7.0;
    }
    let n = records.len() as f64;
    assert!(
        (expected_total - n).abs() < 0.01 * n,
        "{expected_total} vs {n}"
    );
    // Boston's busiest stream: weekday office hours carry most calls
    let big = streams
        .iter()
        .max_by_key(|s| (s.hourly.as_ref().unwrap().0.iter().sum::<f64>() * 1e6) as u64)
        .unwrap();
    let p = &big.hourly.as_ref().unwrap().0;
    let office: f64 = (0..5)
        .flat_map(|d| (9..17).map(move |h| d * 24 + h))
        .map(|h| p[h])
        .sum();
    let night: f64 = (0..7)
        .flat_map(|d| (0..5).map(move |h| d * 24 + h))
        .map(|h| p[h])
        .sum();
    assert!(
        office > 3.0 * night,
        "{} {}: office {office} night {night}",
        big.community,
        big.kind
    );
}
