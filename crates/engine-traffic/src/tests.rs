//! Unit and property tests of the model on small generated networks.

use proptest::prelude::*;
use scenario::{Engine as _, NoProgress, seeded};

use crate::run::prepare;
use crate::{
    Closure, Demand, LinkSpec, Network, NetworkBuilder, Params, Route, Scenario, Trip, Window,
    simulate,
};

/// An `n` x `n` grid of two-way links, `len` metres long, signalised with
/// split phasing (cycle 60 s), plus one entry/exit stub per boundary node.
fn grid(n: usize, len: f64, lanes: u16) -> Network {
    grid_with(n, len, lanes, true)
}

/// [`grid`], with or without its signals.
fn grid_with(n: usize, len: f64, lanes: u16, signals: bool) -> Network {
    let mut b = NetworkBuilder::new();
    let id = |x: usize, y: usize| format!("n{x}_{y}");
    let add = |b: &mut NetworkBuilder, f: String, t: String| {
        b.link(LinkSpec {
            id: format!("{f}>{t}"),
            from: f,
            to: t,
            length_m: len,
            lanes,
            speed_limit_kmh: 50.0,
            capacity_veh_h: None,
        })
        .expect("distinct ids");
    };
    for x in 0..n {
        for y in 0..n {
            if x + 1 < n {
                add(&mut b, id(x, y), id(x + 1, y));
                add(&mut b, id(x + 1, y), id(x, y));
            }
            if y + 1 < n {
                add(&mut b, id(x, y), id(x, y + 1));
                add(&mut b, id(x, y + 1), id(x, y));
            }
            if x == 0 || y == 0 || x + 1 == n || y + 1 == n {
                add(&mut b, format!("z{x}_{y}"), id(x, y));
                add(&mut b, id(x, y), format!("z{x}_{y}"));
            }
        }
    }
    b.connect_all();
    if signals {
        for x in 0..n {
            for y in 0..n {
                b.signalise_split(&id(x, y), 60.0).expect("node exists");
            }
        }
    }
    b.build().expect("grid builds")
}

/// Entry and exit stubs of a grid.
fn stubs(net: &Network) -> (Vec<crate::LinkIdx>, Vec<crate::LinkIdx>) {
    let mut ins = Vec::new();
    let mut outs = Vec::new();
    for (i, l) in net.links().iter().enumerate() {
        let idx = crate::LinkIdx(u32::try_from(i).expect("small"));
        if l.id.starts_with('z') {
            ins.push(idx);
        } else if l.id.contains(">z") {
            outs.push(idx);
        }
    }
    (ins, outs)
}

fn od_demand(net: &Network, n: usize, horizon_s: f64, seed: u64) -> Demand {
    let (ins, outs) = stubs(net);
    let mut rng = seeded(seed);
    let d = Demand::random_od(&ins, n as f64 * 3600.0 / horizon_s, horizon_s, &mut rng);
    // send each trip to an exit stub instead of an entry stub
    Demand::new(
        d.trips()
            .iter()
            .enumerate()
            .map(|(i, t)| Trip {
                route: Route::Od {
                    from: t.route.origin(),
                    to: outs[i % outs.len()],
                },
                ..t.clone()
            })
            .collect(),
    )
}

/// Runs event by event, checking the invariants after every event.
fn check_invariants(net: &Network, demand: &Demand, scenario: &Scenario, horizon_s: u32) {
    let mut sim =
        prepare(net, demand, scenario, &Params::default(), 3, horizon_s).expect("prepares");
    let mut sched = sim.scheduler();
    while let Some((now, ev)) = sched.pop() {
        sim.handle(now, ev, &mut sched);
        let c = sim.census();
        assert_eq!(
            c.loaded,
            c.arrived + c.en_route + c.waiting + c.removed,
            "vehicles not conserved at {now:?}: {c:?}"
        );
        assert!(
            c.max_fill <= 1.0 + 1e-9,
            "storage exceeded at {now:?}: {c:?}"
        );
        assert!(
            c.min_credit >= -1e-9,
            "negative discharge credit at {now:?}"
        );
    }
    let r = sim.outcome();
    let k = &r.kpis;
    assert_eq!(
        k.loaded_vehicles,
        k.completed_trips + k.en_route_vehicles + k.waiting_to_enter + k.removed_vehicles
    );
}

#[test]
fn a_lone_vehicle_travels_at_free_flow() {
    let net = grid(2, 500.0, 1);
    let (ins, outs) = stubs(&net);
    let d = Demand::new(vec![Trip {
        id: "v".into(),
        depart_s: 0.0,
        route: Route::Od {
            from: ins[0],
            to: outs[outs.len() - 1],
        },
    }]);
    let params = Params {
        speed_factor_sd: 0.0,
        ..Params::default()
    };
    let r = simulate(
        &net,
        &d,
        &Scenario::default(),
        &params,
        1,
        600,
        &mut NoProgress,
    )
    .expect("runs");
    let v = &r.vehicles[0];
    let ff: f64 = v.route.len() as f64 * 500.0 / (50.0 / 3.6);
    assert_eq!(r.kpis.completed_trips, 1);
    // free-flow time plus at most one red per signal (60 s cycle, 4 approaches)
    assert!(v.travel_time_s >= ff - 1.0, "{} < {ff}", v.travel_time_s);
    assert!(v.travel_time_s <= ff + 46.0 * (v.route.len() - 1) as f64 + 2.0);
    assert!((v.distance_m - 500.0 * v.route.len() as f64).abs() < 1e-6);
}

#[test]
fn a_queue_discharges_at_saturation_flow() {
    // one approach, no signal: 60 vehicles released at t = 0 on a 1-lane
    // 50 km/h link leave one per tau + jam/v (1.3 + 7.5 / 13.9 = 1.84 s)
    let mut b = NetworkBuilder::new();
    for (id, f, t) in [("a", "A", "B"), ("b", "B", "C")] {
        b.link(LinkSpec {
            id: id.into(),
            from: f.into(),
            to: t.into(),
            length_m: 2000.0,
            lanes: 1,
            speed_limit_kmh: 50.0,
            capacity_veh_h: Some(10_000.0),
        })
        .expect("ok");
    }
    b.connect_all();
    let net = b.build().expect("builds");
    let route = vec![crate::LinkIdx(0), crate::LinkIdx(1)];
    let trips = (0..60)
        .map(|i| Trip {
            id: format!("v{i}"),
            depart_s: 0.0,
            route: Route::Fixed(route.clone()),
        })
        .collect();
    let params = Params {
        speed_factor_sd: 0.0,
        ..Params::default()
    };
    let r = simulate(
        &net,
        &Demand::new(trips),
        &Scenario::default(),
        &params,
        1,
        3600,
        &mut NoProgress,
    )
    .expect("runs");
    let mut arr: Vec<f64> = r.vehicles.iter().filter_map(|v| v.arrival_s).collect();
    arr.sort_by(f64::total_cmp);
    assert_eq!(arr.len(), 60);
    // entry is limited by the link's 10,000 veh/h only; discharge by saturation
    let span = arr[59] - arr[0];
    let expected = 59.0 * (params.tau_s + params.jam_spacing_m / (50.0 / 3.6));
    assert!((span - expected).abs() < 3.0, "span {span} vs {expected}");
}

#[test]
fn a_closure_reroutes_and_conserves() {
    let net = grid(3, 300.0, 2);
    let d = od_demand(&net, 600, 1800.0, 5);
    let sc = Scenario {
        closures: vec![Closure {
            link: "n1_1>n2_1".into(),
            window: Window {
                from_s: 300.0,
                to_s: Some(1200.0),
            },
        }],
        ..Scenario::default()
    };
    check_invariants(&net, &d, &sc, 1800);
    let r = simulate(&net, &d, &sc, &Params::default(), 1, 1800, &mut NoProgress).expect("runs");
    // nobody enters the closed link while it is closed
    let l = r
        .links
        .iter()
        .find(|l| l.id == "n1_1>n2_1")
        .expect("exists");
    for b in &l.bins {
        if (300..1200).contains(&b.start_s) {
            assert_eq!(b.entered, 0, "entered during closure in bin {}", b.start_s);
        }
    }
}

#[test]
fn same_seed_same_report_different_seed_different_report() {
    let net = grid(3, 300.0, 2);
    let d = od_demand(&net, 400, 1200.0, 9);
    let run = |seed| {
        simulate(
            &net,
            &d,
            &Scenario::default(),
            &Params::default(),
            seed,
            1200,
            &mut NoProgress,
        )
        .expect("runs")
    };
    let a = serde_json::to_string(&run(7)).expect("serialises");
    let b = serde_json::to_string(&run(7)).expect("serialises");
    let c = serde_json::to_string(&run(8)).expect("serialises");
    assert_eq!(a, b);
    assert_ne!(a, c);
}

/// The report of a run where queues and origins sleep (the engine) and of
/// one where every queue is visited and counted every second (the reference).
fn sleeping_and_visiting_all(
    net: &Network,
    demand: &Demand,
    scenario: &Scenario,
    params: &Params,
    horizon_s: u32,
) -> (crate::Report, crate::Report) {
    let run = |visit_all| {
        let mut sim = prepare(net, demand, scenario, params, 4, horizon_s).expect("prepares");
        sim.visit_all = visit_all;
        let mut sched = sim.scheduler();
        while let Some((now, ev)) = sched.pop() {
            sim.handle(now, ev, &mut sched);
        }
        sim.outcome()
    };
    (run(false), run(true))
}

#[test]
fn sleeping_queues_give_the_report_of_visiting_every_queue_every_second() {
    // gridlock on an unsignalised grid (teleports, full origins, spill-back)
    // and queues on a signalised one, with a closure and a capacity cut
    // starting and ending mid-run, and a short stuck time
    let scenario = Scenario {
        closures: vec![Closure {
            link: "n1_1>n2_1".into(),
            window: Window {
                from_s: 300.5,
                to_s: Some(900.0),
            },
        }],
        ..Scenario::default()
    };
    let params = Params {
        stuck_time_s: 37.5,
        lane_group_storage: true,
        ..Params::default()
    };
    for (signals, lanes) in [(false, 1), (true, 1), (true, 2)] {
        let net = grid_with(4, 150.0, lanes, signals);
        let d = od_demand(&net, 20_000, 1800.0, 11);
        let (sleeping, all) = sleeping_and_visiting_all(&net, &d, &scenario, &params, 1800);
        let k = &sleeping.kpis;
        assert!(k.waiting_to_enter > 0, "no full origin: {k:?}");
        if !signals {
            assert!(k.teleports > 0, "no gridlock: {k:?}");
        }
        assert_eq!(
            serde_json::to_string(&sleeping).expect("serialises"),
            serde_json::to_string(&all).expect("serialises"),
            "signals {signals}, lanes {lanes}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    #[test]
    fn vehicles_are_conserved_and_storage_is_never_exceeded(
        n in 2usize..4,
        len in 60.0f64..400.0,
        lanes in 1u16..3,
        vehicles in 50usize..900,
        seed in 0u64..1000,
        close in proptest::bool::ANY,
    ) {
        let net = grid(n, len, lanes);
        let d = od_demand(&net, vehicles, 900.0, seed);
        let sc = if close {
            Scenario {
                closures: vec![Closure {
                    link: "n0_0>n1_0".into(),
                    window: Window { from_s: 200.0, to_s: Some(600.0) },
                }],
                ..Scenario::default()
            }
        } else {
            Scenario::default()
        };
        check_invariants(&net, &d, &sc, 1200);
    }
}
