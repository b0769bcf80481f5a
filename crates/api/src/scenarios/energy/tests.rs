use std::collections::BTreeSet;

use serde_json::json;
use twin::{City, EntityAttrs, Twin, TwinConfig};

use super::*;
use crate::scenarios::EngineKind;

fn snapshot(city: City) -> TwinSnapshot {
    Twin::new(city, TwinConfig::default())
        .expect("a consistent city")
        .snapshot()
}

fn small() -> TwinSnapshot {
    snapshot(testkit::twin::small_city(7))
}

fn spec(seed: u64, horizon_s: u64, variant: Value) -> RunSpec {
    RunSpec {
        name: "test".into(),
        engine: EngineKind::Energy,
        seed,
        horizon_s,
        variant,
    }
}

fn outcome(snap: &TwinSnapshot, s: &RunSpec) -> Outcome {
    let job = plan(s, snap).expect("a valid run");
    run(&job, &Control::default()).expect("the run finishes")
}

/// `(baseline, variant)` of a KPI.
#[track_caller]
fn kpi(o: &Outcome, id: &str) -> (f64, f64) {
    let row = o
        .result
        .kpis
        .iter()
        .find(|k| k.id == id)
        .unwrap_or_else(|| panic!("no kpi {id}"));
    (row.baseline, row.variant)
}

#[test]
fn each_feeder_runs_on_its_twin_network_with_one_load_per_building() {
    let snap = small();
    let job = plan(&spec(1, 86_400, json!({})), &snap).unwrap();
    let twins = feeder_networks(
        snap.entities_of(EntityKind::Feeder)
            .chain(snap.entities_of(EntityKind::Building)),
    );
    assert!(!twins.is_empty());
    assert_eq!(job.feeders.len(), twins.len());
    assert_eq!(job.feeders.len(), snap.entity_count(EntityKind::Feeder));
    assert!(job.skipped.is_empty());
    let mut buildings = 0;
    for (f, t) in job.feeders.iter().zip(&twins) {
        assert_eq!(f.id, t.id);
        // the live link's network: same buses, cables and substation
        assert_eq!(f.net.bus, t.net.bus);
        assert_eq!(f.net.line, t.net.line);
        assert_eq!(f.net.trafo, t.net.trafo);
        let n = t.building_bus.len();
        assert_eq!(
            f.net.bus.len(),
            n + 2,
            "MV and LV busbars and a bus per building"
        );
        assert_eq!(f.busbar, 1, "the LV busbar");
        // one load per building, on its bus, named by it
        assert_eq!(f.net.load.len(), n);
        let on: BTreeSet<(String, i64)> =
            f.net.load.iter().map(|l| (l.name.clone(), l.bus)).collect();
        let want: BTreeSet<(String, i64)> = t
            .building_bus
            .iter()
            .map(|(b, &i)| (b.clone(), i))
            .collect();
        assert_eq!(on, want);
        assert!(!f.buses.contains(&f.busbar) && !f.buses.contains(&0));
        // the design load after diversity, at cos φ 0.95
        let p_kw: f64 = f.net.load.iter().map(|l| l.p_mw * 1000.0).sum();
        assert!(
            (p_kw - DIVERSITY * t.design_kw).abs() < 1e-6 * t.design_kw,
            "{p_kw}"
        );
        for l in &f.net.load {
            let pf = l.p_mw / l.p_mw.hypot(l.q_mvar);
            assert!((pf - COS_PHI).abs() < 1e-12, "{pf}");
        }
        buildings += n;
    }
    let supplied = snap
        .entities_of(EntityKind::Building)
        .filter(|e| e.building().is_some_and(|b| b.feeder.is_some()))
        .count();
    assert_eq!(buildings, supplied);
}

#[test]
fn rooftop_pv_lowers_import_and_raises_self_sufficiency() {
    let snap = small();
    let o = outcome(&snap, &spec(1, 86_400, json!({"pv_kwp_per_building": 5.0})));
    let (pv_b, pv_v) = kpi(&o, "pv_yield_kwh");
    assert_eq!(pv_b, 0.0, "no PV in the baseline");
    // 5 kWp on every building, each following the default PV day
    let buildings = o.result.variant["feeders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["buildings"].as_f64().unwrap())
        .sum::<f64>();
    let kwh_per_kwp: f64 = (0..96)
        .map(|k| engine_energy::default_pv_shape(k) * 0.25)
        .sum();
    let want = 5.0 * buildings * kwh_per_kwp;
    assert!((pv_v - want).abs() < 1e-6 * want, "{pv_v} vs {want}");
    let (load_b, load_v) = kpi(&o, "load_kwh");
    assert!(
        (load_b - load_v).abs() < 1e-6 * load_b,
        "PV leaves demand alone"
    );
    // every kWh of PV is used on the feeder (no export) and replaces an
    // imported one, give or take the change in losses
    let (exp_b, exp_v) = kpi(&o, "grid_export_kwh");
    assert_eq!((exp_b, exp_v), (0.0, 0.0));
    let (imp_b, imp_v) = kpi(&o, "grid_import_kwh");
    assert!(imp_v < imp_b, "{imp_v} !< {imp_b}");
    assert!(
        ((imp_b - imp_v) - pv_v).abs() < 0.05 * pv_v,
        "import falls by {} for {pv_v} of PV",
        imp_b - imp_v
    );
    let (ss_b, ss_v) = kpi(&o, "self_sufficiency");
    assert!(ss_b < 1e-9, "{ss_b}");
    assert!((ss_v - pv_v / load_v).abs() < 1e-9, "{ss_v}");
    // the evening peak has no sun
    let (peak_b, peak_v) = kpi(&o, "peak_import_kw");
    assert!((peak_v - peak_b).abs() < 0.02 * peak_b, "{peak_b} {peak_v}");
}

#[test]
fn ev_chargers_raise_the_peak_import() {
    let snap = small();
    let job = plan(&spec(1, 86_400, json!({})), &snap).unwrap();
    let buildings: usize = job.feeders.iter().map(|f| f.buses.len()).sum();
    let o = outcome(
        &snap,
        &spec(
            1,
            86_400,
            json!({"ev_chargers": u32::try_from(buildings).unwrap()}),
        ),
    );
    let (peak_b, peak_v) = kpi(&o, "peak_import_kw");
    assert!(peak_v > peak_b, "{peak_b} -> {peak_v}");
    let (load_b, load_v) = kpi(&o, "load_kwh");
    // about one session a day per charger, a few to tens of kWh each
    let per_charger = (load_v - load_b) / buildings as f64;
    assert!((2.0..40.0).contains(&per_charger), "{per_charger} kWh");
}

#[test]
fn a_battery_at_the_busbar_shaves_the_peak() {
    let snap = small();
    let o = outcome(&snap, &spec(1, 86_400, json!({"battery_kwh": 200.0})));
    let (peak_b, peak_v) = kpi(&o, "peak_import_kw");
    assert!(peak_v < peak_b, "{peak_b} -> {peak_v}");
}

#[test]
fn the_same_seed_gives_the_same_result() {
    let snap = small();
    let v = json!({"pv_kwp_per_building": 3.0, "ev_chargers": 40, "battery_kwh": 50.0,
                   "demand_growth": 1.2});
    let a = outcome(&snap, &spec(5, 43_200, v.clone()));
    let b = outcome(&snap, &spec(5, 43_200, v.clone()));
    assert_eq!(a.result, b.result);
    assert_eq!(a.features, b.features);
    // the EV sessions depend on the seed
    let c = outcome(&snap, &spec(6, 43_200, v));
    assert_ne!(a.result.variant, c.result.variant);
    assert_eq!(
        a.result.baseline["kpis"], c.result.baseline["kpis"],
        "the baseline has nothing random"
    );
}

#[test]
fn chargers_go_round_robin_over_the_feeders_buildings() {
    let f = |id: &str, buses: Vec<i64>| Feeder {
        id: id.into(),
        net: Network::empty(),
        buses,
        busbar: 1,
    };
    let feeders = [f("a", vec![2, 3, 4]), f("b", vec![2])];
    assert_eq!(place_chargers(&feeders, 0), vec![Vec::<i64>::new(), vec![]]);
    assert_eq!(place_chargers(&feeders, 3), vec![vec![2, 3], vec![2]]);
    // a, b, a, a, then again
    assert_eq!(
        place_chargers(&feeders, 6),
        vec![vec![2, 3, 4, 2], vec![2, 2]]
    );
}

/// The small city with the feeder link removed from the buildings of the
/// feeders `drop` selects.
fn without_buildings(drop: impl Fn(&str) -> bool) -> TwinSnapshot {
    let mut city = testkit::twin::small_city(7);
    for e in &mut city.entities {
        if let EntityAttrs::Building(b) = &mut e.attrs
            && b.feeder.as_ref().is_some_and(|f| drop(f.as_str()))
        {
            b.feeder = None;
        }
    }
    snapshot(city)
}

#[test]
fn feeders_without_buildings_are_skipped_and_a_twin_without_any_cannot_run() {
    let all: Vec<String> = small()
        .entities_of(EntityKind::Feeder)
        .map(|e| e.id.to_string())
        .collect();
    assert!(all.len() >= 2);
    let first = all[0].clone();
    let snap = without_buildings(|f| f == first);
    let o = outcome(&snap, &spec(1, 3_600, json!({"pv_kwp_per_building": 1.0})));
    for r in [&o.result.baseline, &o.result.variant] {
        assert_eq!(r["skipped_feeders"], json!([first]));
        let ids: Vec<&str> = r["feeders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, all[1..].iter().map(String::as_str).collect::<Vec<_>>());
    }
    assert_eq!(o.features.len(), all.len() - 1);

    let none = without_buildings(|_| true);
    match plan(&spec(1, 3_600, json!({})), &none) {
        Err(ApiError::Unprocessable(d)) => assert!(d.contains("supplies a building"), "{d}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_variants_name_their_field() {
    let snap = small();
    for (v, field) in [
        (
            json!({"pv_kwp_per_building": -1.0}),
            "variant.pv_kwp_per_building",
        ),
        (json!({"ev_chargers": 10_001}), "variant.ev_chargers"),
        (json!({"battery_kwh": 1e9}), "variant.battery_kwh"),
        (json!({"demand_growth": 0.0}), "variant.demand_growth"),
        (json!({"solar": 1}), "variant"),
    ] {
        match plan(&spec(1, 3_600, v), &snap) {
            Err(ApiError::Unprocessable(d)) => assert!(d.starts_with(field), "{d}"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn the_demo_city_runs_on_all_its_feeders_at_realistic_loading() {
    let Some(pbf) = testkit::twin::helsinki_pbf() else {
        return;
    };
    let snap = snapshot(twin::demo::helsinki(&pbf, 7).unwrap());
    let s = spec(1, 86_400, json!({"pv_kwp_per_building": 5.0}));
    let job = plan(&s, &snap).unwrap();
    let buildings: usize = job.feeders.iter().map(|f| f.buses.len()).sum();
    assert_eq!(job.feeders.len(), snap.entity_count(EntityKind::Feeder));
    assert!(job.skipped.is_empty());
    let o = run(&job, &Control::default()).unwrap();
    let (trafo, _) = kpi(&o, "trafo_loading_max_percent");
    let (vmin, _) = kpi(&o, "vm_min_pu");
    let (peak, _) = kpi(&o, "peak_import_kw");
    eprintln!(
        "demo city: {} feeders, {buildings} buildings; baseline peak {peak:.0} kW, \
         largest transformer loading {trafo:.1} %, lowest voltage {vmin:.4} pu",
        job.feeders.len()
    );
    // the documented diversity: a winter evening at about half the rating
    assert!((30.0..70.0).contains(&trafo), "{trafo}");
    // cables are sized for current, not voltage drop: long chains of
    // large blocks sag (the live link sees the same networks)
    assert!(vmin > 0.85, "{vmin}");
    for k in &o.result.kpis {
        eprintln!("{:28} {:>14.4} {:>14.4}", k.id, k.baseline, k.variant);
    }
    let (imp_b, imp_v) = kpi(&o, "grid_import_kwh");
    assert!(imp_v < imp_b);
    let (ss_b, ss_v) = kpi(&o, "self_sufficiency");
    assert!(ss_b == 0.0 && ss_v > 0.0, "{ss_b} {ss_v}");
}

/// Wall time of one run of the demo city per horizon and variant, next to the
/// same PV run on the synthetic feeders the runner used before (one
/// `synthetic_feeder` per twin feeder, 4..40 household buses): see
/// `docs/benchmarks/energy.md`.
#[test]
#[ignore = "measurement; run with --release --ignored --nocapture"]
fn time_the_demo_city_runs() {
    use engine_energy::{SyntheticSpec, synthetic_feeder};
    let pbf = testkit::twin::helsinki_pbf().expect("the demo extract");
    let snap = snapshot(twin::demo::helsinki(&pbf, 7).unwrap());
    let median = |job: &Job| {
        let mut t: Vec<f64> = (0..5)
            .map(|_| {
                let t0 = std::time::Instant::now();
                std::hint::black_box(run(job, &Control::default()).unwrap());
                t0.elapsed().as_secs_f64()
            })
            .collect();
        t.sort_by(f64::total_cmp);
        t[2]
    };
    let pv = json!({"pv_kwp_per_building": 5.0});
    let all = json!({"pv_kwp_per_building": 5.0, "ev_chargers": 500, "battery_kwh": 500.0,
                     "demand_growth": 1.1});
    for (h, v) in [
        (86_400, &pv),
        (86_400, &all),
        (604_800, &pv),
        (604_800, &all),
    ] {
        let job = plan(&spec(1, h, v.clone()), &snap).unwrap();
        let buses: usize = job.feeders.iter().map(|f| f.net.bus.len()).sum();
        let flows = 2 * job.feeders.len() * job.steps;
        let t = median(&job);
        eprintln!(
            "twin feeders, {h} s, {v}: {buses} buses, {flows} power flows, median {t:.3} s \
             ({:.2} µs per bus and flow)",
            t * 1e6 / (flows as f64 * buses as f64 / job.feeders.len() as f64)
        );
        if v == &pv {
            let mut old = plan(&spec(1, h, v.clone()), &snap).unwrap();
            for (i, (f, w)) in old.feeders.iter_mut().zip(&mut old.variant).enumerate() {
                f.net = synthetic_feeder(&SyntheticSpec {
                    substations: 1,
                    lv_buses: f.buses.len().clamp(4, 40),
                    seed: 1_000_003 + i as u64,
                });
                f.buses = f.net.load.iter().map(|l| l.bus).collect();
                w.add_pv = f.buses.iter().map(|&bus| AddPv { bus, kwp: 5.0 }).collect();
            }
            let buses: usize = old.feeders.iter().map(|f| f.net.bus.len()).sum();
            eprintln!(
                "synthetic feeders, {h} s, {v}: {buses} buses, median {:.3} s",
                median(&old)
            );
        }
    }
}
