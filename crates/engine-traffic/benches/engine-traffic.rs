//! Criterion benches of the traffic engine: one simulated hour on the
//! Hangzhou 4x4 grid (when the shared data is present) and on generated grids
//! of growing size. Throughput is vehicles per run.
//!
//! `CARGO_TARGET_DIR=... cargo bench -p engine-traffic`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engine_traffic::{
    Demand, LinkIdx, LinkSpec, Network, NetworkBuilder, Params, Route, Scenario, Trip, simulate,
};
use scenario::{NoProgress, seeded};

fn grid(n: usize) -> Network {
    let mut b = NetworkBuilder::new();
    let id = |x: usize, y: usize| format!("n{x}_{y}");
    let add = |b: &mut NetworkBuilder, f: String, t: String| {
        b.link(LinkSpec {
            id: format!("{f}>{t}"),
            from: f,
            to: t,
            length_m: 200.0,
            lanes: 2,
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
        }
    }
    b.connect_all();
    for x in 0..n {
        for y in 0..n {
            b.signalise_split(&id(x, y), 60.0).expect("node exists");
        }
    }
    b.build().expect("grid builds")
}

fn od(net: &Network, vehicles: usize) -> Demand {
    let zones: Vec<LinkIdx> = (0..net.links().len())
        .map(|i| LinkIdx(u32::try_from(i).expect("small")))
        .collect();
    let mut rng = seeded(42);
    Demand::random_od(&zones, vehicles as f64, 3600.0, &mut rng)
}

fn hangzhou(c: &mut Criterion) {
    let Some(dir) = testkit::shared_data("traffic/hangzhou_4x4/sumo") else {
        return;
    };
    let stem = "hangzhou_4x4_gudang_18041610_1h";
    let read = |ext: &str| {
        std::fs::read_to_string(dir.join(format!("{stem}.{ext}"))).expect("readable data")
    };
    let (net_xml, rou_xml) = (read("net.xml"), read("rou.xml"));
    let (net, demand) = engine_traffic::parse_sumo(&net_xml, &rou_xml).expect("parses");
    let params = Params {
        record_vehicles: false,
        ..Params::default()
    };
    let mut g = c.benchmark_group("hangzhou_real_1h");
    g.sample_size(20);
    g.throughput(Throughput::Elements(demand.len() as u64));
    g.bench_function("parse_sumo", |b| {
        b.iter(|| engine_traffic::parse_sumo(black_box(&net_xml), black_box(&rou_xml)))
    });
    g.bench_function("simulate", |b| {
        b.iter(|| {
            simulate(
                black_box(&net),
                black_box(&demand),
                &Scenario::default(),
                &params,
                1,
                3600,
                &mut NoProgress,
            )
        })
    });
    g.finish();
}

fn grids(c: &mut Criterion) {
    let params = Params {
        record_vehicles: false,
        ..Params::default()
    };
    let mut g = c.benchmark_group("grid_1h");
    g.sample_size(10);
    for (n, vehicles) in [(10, 2_000), (20, 8_000)] {
        let net = grid(n);
        // fixed routes (computed once by a routed run) so the bench measures traffic, not routing
        let routed = simulate(
            &net,
            &od(&net, vehicles),
            &Scenario::default(),
            &Params::default(),
            1,
            7200,
            &mut NoProgress,
        )
        .expect("runs");
        let trips: Vec<Trip> = routed
            .vehicles
            .iter()
            .map(|v| Trip {
                id: v.id.clone(),
                depart_s: v.depart_s,
                route: Route::Fixed(
                    v.route
                        .iter()
                        .map(|l| net.link_idx(l).expect("known link"))
                        .collect(),
                ),
            })
            .collect();
        let demand = Demand::new(trips);
        g.throughput(Throughput::Elements(demand.len() as u64));
        g.bench_function(format!("{n}x{n}_{vehicles}veh"), |b| {
            b.iter(|| {
                simulate(
                    black_box(&net),
                    black_box(&demand),
                    &Scenario::default(),
                    &params,
                    1,
                    3600,
                    &mut NoProgress,
                )
            })
        });
    }
    g.finish();
}

criterion_group!(benches, hangzhou, grids);
criterion_main!(benches);
