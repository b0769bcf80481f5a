//! Inputs: SUMO and CityFlow files, scenario files, the twin's roads.

use engine_traffic::live::{Level, travel_time_index};
use engine_traffic::{Error, Params, Scenario, generated_demand, network_from_twin, simulate};

use crate::common::*;

#[test]
fn sumo_and_cityflow_hangzhou_describe_the_same_network() {
    let Some((net, demand)) = real() else { return };
    assert_eq!(demand.len(), 2983);
    assert_eq!(net.links().len(), 80);
    assert_eq!(net.signals().len(), 16);
    for s in net.signals() {
        assert_eq!(s.cycle_s(), 280.0, "SUMO plan: 8 x (30 s + 5 s)");
    }
    let Some(dir) = testkit::shared_data("traffic/hangzhou_4x4/cityflow") else {
        return;
    };
    let roadnet = std::fs::read_to_string(dir.join("roadnet_4_4.json")).expect("readable");
    let flow = std::fs::read_to_string(dir.join("anon_4_4_hangzhou_real.json")).expect("readable");
    let (cf, cf_demand) = engine_traffic::parse_cityflow(&roadnet, &flow).expect("parses");
    assert_eq!(cf_demand.len(), 2983);
    assert_eq!(cf.links().len(), 80);
    assert_eq!(cf.signals().len(), 16);
    for s in cf.signals() {
        assert_eq!(s.cycle_s(), 245.0, "CityFlow plan: 5 s + 8 x 30 s");
    }
    // same ids, same routes
    for (a, b) in demand.trips().iter().zip(cf_demand.trips()) {
        assert_eq!(a.depart_s, b.depart_s);
        let ids = |n: &engine_traffic::Network, r: &engine_traffic::Route| match r {
            engine_traffic::Route::Fixed(r) => {
                r.iter().map(|l| n.link(*l).id.clone()).collect::<Vec<_>>()
            }
            engine_traffic::Route::Od { .. } => unreachable!("explicit routes"),
        };
        assert_eq!(ids(&net, &a.route), ids(&cf, &b.route));
    }
}

#[test]
fn scenario_files_reject_unknown_fields_and_unknown_links() {
    assert!(matches!(
        Scenario::from_json(r#"{"closure": []}"#),
        Err(Error::Json { .. })
    ));
    let Some((net, demand)) = real() else { return };
    let sc = Scenario::from_json(r#"{"closures": [{"link": "road_9_9_9"}]}"#).expect("parses");
    let err = simulate(
        &net,
        &demand,
        &sc,
        &Params::default(),
        1,
        60,
        &mut scenario::NoProgress,
    );
    assert!(matches!(err, Err(Error::BadEdit { .. })), "{err:?}");
    let sc = Scenario::from_json(
        r#"{"signals": [{"node": "intersection_2_2", "phase_durations_s": {"99": 10}}]}"#,
    )
    .expect("parses");
    let err = simulate(
        &net,
        &demand,
        &sc,
        &Params::default(),
        1,
        60,
        &mut scenario::NoProgress,
    );
    assert!(matches!(err, Err(Error::BadEdit { .. })), "{err:?}");
}

#[test]
fn a_longer_phase_lengthens_the_cycle_and_an_added_lane_adds_storage() {
    let Some((net, demand)) = real() else { return };
    let sc = Scenario::from_json(
        r#"{"signals": [{"node": "intersection_2_2", "phase_durations_s": {"0": 45, "2": 45}}],
            "added_lanes": [{"link": "road_1_2_0", "lanes": 1}]}"#,
    )
    .expect("parses");
    let edited = sc.apply_to_network(&net).expect("applies");
    let n = edited.node_idx("intersection_2_2").expect("exists");
    let plan = &edited.signals()[edited.nodes()[n.0 as usize].signal.expect("signalised")];
    assert_eq!(plan.cycle_s(), 310.0);
    let l = edited.link_idx("road_1_2_0").expect("exists");
    assert_eq!(edited.link(l).lanes, 4);
    let r = run(&net, &demand, &sc, 1);
    assert_eq!(r.kpis.loaded_vehicles, 2983);
}

#[test]
fn the_twin_roads_run_with_generated_demand_and_give_a_live_index() {
    let city = twin::synthetic::generate(&twin::synthetic::SyntheticSpec::small(7));
    let net = network_from_twin(&city.entities).expect("twin roads convert");
    assert!(!net.links().is_empty());
    assert!(!net.signals().is_empty(), "the small city is signalised");
    let demand = generated_demand(&net, 1200.0, 1800.0, 3);
    assert_eq!(demand.len(), 600);
    let r = simulate(
        &net,
        &demand,
        &Scenario::default(),
        &Params::default(),
        1,
        1800,
        &mut scenario::NoProgress,
    )
    .expect("runs");
    assert_eq!(r.kpis.loaded_vehicles + r.kpis.unroutable_trips, 600);
    assert!(r.kpis.completed_trips > 400, "{:?}", r.kpis);
    let last = r.links[0].bins.len() - 1;
    let live = engine_traffic::live::live_links_from_report(&net, &r, last);
    let idx = travel_time_index(&live);
    assert!(idx.tti >= 1.0 && idx.tti < 3.0, "{idx:?}");
    assert!((0.0..=10.0).contains(&idx.tpi));
    assert_eq!(idx.links.len(), net.links().len());
    assert!(idx.level <= Level::Severe);
}

#[test]
fn the_demo_city_osm_roads_run_with_generated_demand() {
    let Some(pbf) = testkit::shared_data("city/helsinki/Helsinki.osm.pbf") else {
        return;
    };
    let pbf = std::fs::read(pbf).expect("readable");
    let city = twin::demo::helsinki(&pbf, 7).expect("the demo city builds");
    let net = network_from_twin(&city.entities).expect("OSM roads convert");
    assert!(net.links().len() > 100, "{} links", net.links().len());
    let demand = generated_demand(&net, 2000.0, 1800.0, 5);
    let params = Params {
        record_vehicles: false,
        ..Params::default()
    };
    let r = simulate(
        &net,
        &demand,
        &Scenario::default(),
        &params,
        1,
        1800,
        &mut scenario::NoProgress,
    )
    .expect("runs");
    eprintln!(
        "demo city: {} links, {} signals, {:?}",
        net.links().len(),
        net.signals().len(),
        r.kpis
    );
    // OSM extracts have one-way fragments cut at the edge: some pairs are unreachable
    assert!(r.kpis.loaded_vehicles > 500, "{:?}", r.kpis);
    assert!(
        r.kpis.completed_trips > r.kpis.loaded_vehicles / 2,
        "{:?}",
        r.kpis
    );
    let idx = engine_traffic::live::current_index(&net, &r);
    assert!(idx.tti >= 1.0, "{idx:?}");
}

#[test]
fn a_simulation_driven_in_slices_reports_what_simulate_reports() {
    let city = twin::synthetic::generate(&twin::synthetic::SyntheticSpec::small(7));
    let net = network_from_twin(&city.entities).expect("twin roads convert");
    let demand = generated_demand(&net, 1200.0, 600.0, 3);
    let sc = Scenario {
        closures: vec![engine_traffic::Closure {
            link: net.links()[0].id.clone(),
            window: engine_traffic::Window {
                from_s: 60.0,
                to_s: Some(300.0),
            },
        }],
        ..Scenario::default()
    };
    let params = Params::default();
    let whole = simulate(
        &net,
        &demand,
        &sc,
        &params,
        4,
        600,
        &mut scenario::NoProgress,
    )
    .expect("runs");
    let mut sim = engine_traffic::simulation(&net, &demand, &sc, &params, 4, 600).expect("builds");
    let mut sched = sim.scheduler();
    let h = sim.horizon().as_millis();
    for k in 1..=7 {
        let upto = domain::SimTime::from_millis(h * k / 7);
        scenario::run_until(&mut sim, &mut sched, upto, &mut scenario::NoProgress);
    }
    let sliced = scenario::Engine::outcome(&sim);
    assert_eq!(sliced, whole);
    assert!(whole.kpis.loaded_vehicles > 0);
}
