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
