//! Acceptance 3: what-if fidelity against SUMO micro on the same edits.
//!
//! For average travel time and mean delay, the engine's change (variant minus
//! baseline, same seed) must have SUMO's sign and lie within
//! max(25 % of SUMO's change, 10 s) of it. SUMO's change is the difference of
//! its 5-seed means (stored reference).

use crate::common::*;
use engine_traffic::Scenario;

fn scenario(name: &str) -> Scenario {
    let text = match name {
        "closure" => include_str!("../../reference/whatif/closure.json"),
        "signal" => include_str!("../../reference/whatif/signal.json"),
        "lane_block" => include_str!("../../reference/whatif/lane_block.json"),
        "demand" => include_str!("../../reference/whatif/demand.json"),
        _ => unreachable!("no what-if {name}"),
    };
    Scenario::from_json(text).expect("what-if file parses")
}

/// Compares the engine's change to SUMO's for one edit.
#[track_caller]
fn check(name: &str) {
    let Some((net, demand)) = real() else { return };
    let reference = reference();
    let edit = scenario(name);
    let mean = |sc: &Scenario, kpi: &str| {
        SEEDS
            .iter()
            .map(|&s| run(&net, &demand, sc, s).kpis.to_map()[kpi])
            .sum::<f64>()
            / SEEDS.len() as f64
    };
    let mut failures = Vec::new();
    for kpi in ["avg_travel_time_s", "mean_delay_s"] {
        let sumo_base = num(&reference, &format!("cases.real.micro.mean.{kpi}"));
        let sumo_var = num(&reference, &format!("whatif.{name}.micro.mean.{kpi}"));
        let sumo = sumo_var - sumo_base;
        let ours = mean(&edit, kpi) - mean(&Scenario::default(), kpi);
        let tol = (0.25 * sumo.abs()).max(10.0);
        let same_sign = sumo.abs() < 10.0 || ours.signum() == sumo.signum();
        eprintln!(
            "{name} {kpi}: SUMO change {sumo:+.1} s, engine {ours:+.1} s (tolerance {tol:.1})"
        );
        if !same_sign || (ours - sumo).abs() > tol {
            failures.push(format!(
                "{kpi}: SUMO {sumo:+.1}, engine {ours:+.1}, tolerance {tol:.1}"
            ));
        }
    }
    assert!(failures.is_empty(), "{name}: {failures:?}");
}

#[test]
fn closing_two_links_matches_sumo_change() {
    check("closure");
}

#[test]
fn longer_through_phases_match_sumo_change() {
    check("signal");
}

#[test]
fn blocked_lane_matches_sumo_change() {
    check("lane_block");
}

#[test]
fn demand_growth_matches_sumo_change() {
    check("demand");
}
