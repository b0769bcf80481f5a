use super::*;
use crate::live::LiveInputs;

const PROFILE: &str = r#"
[profile]
id = "t"
name_zh = "测试"
name_en = "test"
version = "1"
description = "unit test"
min_coverage = 0.5

[[stage]]
id = "low"
name_zh = "低"
name_en = "low"
min_rate = 0.0

[[stage]]
id = "high"
name_zh = "高"
name_en = "high"
min_rate = 0.6

[[block]]
id = "a"
level = 1
name_zh = "甲"
name_en = "A"
weight = 2.0

[[block]]
id = "b"
level = 1
name_zh = "乙"
name_en = "B"
weight = 1.0

[[indicator]]
id = "closure"
parent = "a"
level = 2
name_zh = "按时办结率"
name_en = "closed on time"
unit = "ratio"
direction = "higher"
normalisation = { kind = "target", baseline = 0.5, target = 0.95 }
weight = 1.0
source = { kind = "live", metric = "incident_on_time_closure" }
ratio = true

[[indicator]]
id = "response"
parent = "a"
level = 2
name_zh = "响应时间"
name_en = "response time"
unit = "min"
direction = "lower"
normalisation = { kind = "fixed", min = 10.0, max = 60.0 }
weight = 3.0
source = { kind = "static" }

[[indicator]]
id = "share"
parent = "b"
level = 2
name_zh = "占比"
name_en = "share"
unit = "ratio"
direction = "higher"
normalisation = { kind = "share" }
weight = 1.0
source = { kind = "static" }

[[indicator]]
id = "spread"
parent = "b"
level = 2
name_zh = "极差"
name_en = "spread"
unit = "ratio"
direction = "higher"
normalisation = { kind = "min_max" }
weight = 1.0
source = { kind = "formula", op = "difference", args = ["share", "closure"] }

[[deduction]]
id = "breaches"
block = "b"
name_zh = "事件"
name_en = "breaches"
source = { kind = "static" }
rate_per_unit = 0.1
max_rate = 0.15
"#;

fn profile() -> Profile {
    Profile::from_toml(PROFILE).unwrap()
}

fn inputs(closure: (f64, f64), response: f64, share: f64) -> EntityInputs {
    let mut e = EntityInputs::default();
    e.live.set(
        "incident_on_time_closure",
        InputValue::from_counts(closure.0, closure.1),
    );
    e.statics
        .insert("response".into(), InputValue::new(response));
    e.statics.insert("share".into(), InputValue::new(share));
    e
}

#[test]
fn composite_is_the_weighted_score_rate_of_hand_computed_leaves() {
    let p = profile();
    let s = score(&p, &inputs((81.0, 100.0), 20.0, 0.4), &Reference::none());
    // closure: (0.81-0.5)/0.45; response: 1 - (20-10)/50 = 0.8
    let closure = (0.81 - 0.5) / 0.45;
    let a = (closure + 3.0 * 0.8) / 4.0;
    assert!((s.rate("a").unwrap() - a).abs() < 1e-12);
    // spread is min-max without a reference: missing, so b = share alone
    assert!(s.warnings.contains(&Warning::NoReference {
        indicator: "spread".into()
    }));
    assert!((s.rate("b").unwrap() - 0.4).abs() < 1e-12);
    assert!((s.composite.unwrap() - (2.0 * a + 0.4) / 3.0).abs() < 1e-12);
    assert!((s.coverage - (2.0 + 0.5) / 3.0).abs() < 1e-12);
    assert_eq!(s.policy, MissingPolicy::Renormalise);
    assert_eq!(
        s.leaf("closure").unwrap().provenance,
        Some(Provenance::Live)
    );
}

#[test]
fn more_incidents_closed_on_time_raise_the_score() {
    let p = profile();
    let low = score(&p, &inputs((60.0, 100.0), 20.0, 0.4), &Reference::none());
    let high = score(&p, &inputs((90.0, 100.0), 20.0, 0.4), &Reference::none());
    assert!(high.rate("a").unwrap() > low.rate("a").unwrap());
    assert!(high.composite.unwrap() > low.composite.unwrap());
}

#[test]
fn zero_policy_counts_missing_as_worst_and_low_coverage_gives_no_rate() {
    let text = PROFILE.replace(
        "min_coverage = 0.5",
        "min_coverage = 0.5\nmissing = \"zero\"",
    );
    let p = Profile::from_toml(&text).unwrap();
    let mut e = inputs((81.0, 100.0), 20.0, 0.4);
    e.statics.remove("response");
    let s = score(&p, &e, &Reference::none());
    // block a: coverage 1/4 < 0.5 -> no rate
    assert_eq!(s.rate("a"), None);
    assert!(
        s.warnings
            .iter()
            .any(|w| matches!(w, Warning::InsufficientCoverage { block, .. } if block == "a"))
    );
    // block b under the zero policy: (0.4 + 0) / 2 (spread has no reference)
    assert!((s.rate("b").unwrap() - 0.2).abs() < 1e-12);
    assert_eq!(s.policy, MissingPolicy::Zero);
}

#[test]
fn poor_quality_lowers_confidence_not_the_score() {
    let p = profile();
    let good = inputs((81.0, 100.0), 20.0, 0.4);
    let mut poor = good.clone();
    let v = *poor.live.get("incident_on_time_closure").unwrap();
    poor.live
        .set("incident_on_time_closure", v.with_quality(0.2));
    let (g, q) = (
        score(&p, &good, &Reference::none()),
        score(&p, &poor, &Reference::none()),
    );
    assert_eq!(g.composite, q.composite);
    assert!(q.confidence < g.confidence);
    assert!(q.block("a").unwrap().confidence < g.block("a").unwrap().confidence);
}

#[test]
fn deductions_are_capped_and_lower_the_block() {
    let p = profile();
    let mut e = inputs((81.0, 100.0), 20.0, 0.4);
    e.statics.insert("breaches".into(), InputValue::new(5.0));
    let s = score(&p, &e, &Reference::none());
    let b = s.block("b").unwrap();
    assert!((b.deduction - 0.15).abs() < 1e-12);
    assert!((b.rate.unwrap() - 0.25).abs() < 1e-12);
}

#[test]
fn a_set_is_its_own_min_max_reference_and_formulas_evaluate() {
    let p = profile();
    let areas = BTreeMap::from([
        ("x", inputs((80.0, 100.0), 20.0, 0.9)),
        ("y", inputs((60.0, 100.0), 20.0, 0.5)),
        ("z", inputs((70.0, 100.0), 20.0, 0.8)),
    ]);
    let (scores, reference) = score_set(&p, &areas);
    // spread = share - closure: 0.1, -0.1, 0.1 -> min-max 1, 0, 1
    let spread = |k: &str| scores[k].leaf("spread").unwrap().normalised.unwrap();
    assert!((spread("x") - 1.0).abs() < 1e-12);
    assert!(spread("y").abs() < 1e-12);
    assert_eq!(
        scores["x"].leaf("spread").unwrap().provenance,
        Some(Provenance::Formula)
    );
    assert!(reference.range(3).is_some());
    assert!(scores.values().all(|s| s.warnings.is_empty()));
}

#[test]
fn districts_aggregate_ratios_by_summing_counts() {
    let a = inputs((9.0, 10.0), 20.0, 0.4);
    let b = inputs((10.0, 100.0), 40.0, 0.6);
    let city = EntityInputs::aggregate([&a, &b]);
    let c = city.live.get("incident_on_time_closure").unwrap();
    assert_eq!(c.ratio, Some((19.0, 110.0)));
    assert!((c.value - 19.0 / 110.0).abs() < 1e-15);
    assert!((city.statics["response"].value - 30.0).abs() < 1e-12);
}

#[test]
fn live_values_take_precedence_over_static_fallback() {
    let p = crate::profile::builtin("six-pillar").unwrap();
    let mut e = EntityInputs::default();
    e.statics
        .insert("grassroots_governance".into(), InputValue::new(0.6));
    let s = score(&p, &e, &Reference::none());
    assert_eq!(
        s.leaf("grassroots_governance").unwrap().provenance,
        Some(Provenance::StaticFallback)
    );
    let mut live = LiveInputs::new();
    live.set("incident_on_time_closure", InputValue::new(0.9));
    e.live = live;
    let s = score(&p, &e, &Reference::none());
    let leaf = s.leaf("grassroots_governance").unwrap();
    assert_eq!(leaf.provenance, Some(Provenance::Live));
    assert_eq!(leaf.raw, Some(0.9));
}

#[test]
fn stages_follow_the_composite() {
    let p = profile();
    let s = score(&p, &inputs((95.0, 100.0), 10.0, 1.0), &Reference::none());
    assert_eq!(s.stage.as_deref(), Some("high"));
    let s = score(&p, &inputs((50.0, 100.0), 60.0, 0.1), &Reference::none());
    assert_eq!(s.stage.as_deref(), Some("low"));
}

#[test]
fn scenario_outputs_feed_scenario_indicators() {
    let text = r#"
[profile]
id = "s"
name_zh = "情景"
name_en = "scenario"
version = "1"
description = "unit test"

[[block]]
id = "mobility"
level = 1
name_zh = "出行"
name_en = "mobility"
weight = 1.0

[[indicator]]
id = "delay"
parent = "mobility"
level = 2
name_zh = "平均延误"
name_en = "mean delay"
unit = "s"
direction = "lower"
normalisation = { kind = "fixed", min = 0.0, max = 120.0 }
weight = 1.0
source = { kind = "scenario", engine = "traffic", kpi = "mean_delay_s" }
"#;
    let p = Profile::from_toml(text).unwrap();
    let mut baseline = EntityInputs::default();
    baseline
        .scenario
        .insert("traffic.mean_delay_s".into(), InputValue::new(90.0));
    let mut variant = baseline.clone();
    variant
        .scenario
        .insert("traffic.mean_delay_s".into(), InputValue::new(60.0));
    let (b, v) = (
        score(&p, &baseline, &Reference::none()),
        score(&p, &variant, &Reference::none()),
    );
    assert!((b.composite.unwrap() - 0.25).abs() < 1e-12);
    assert!((v.composite.unwrap() - 0.5).abs() < 1e-12);
    assert_eq!(
        v.leaf("delay").unwrap().provenance,
        Some(Provenance::Scenario)
    );
    let none = score(&p, &EntityInputs::default(), &Reference::none());
    assert_eq!(none.composite, None);
    assert_eq!(none.coverage, 0.0);
}
