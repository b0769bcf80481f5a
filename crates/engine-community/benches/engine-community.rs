//! Criterion benches of the community engine's hot paths.
//!
//! `cargo bench -p engine-community --bench engine-community`; the SimPy peer
//! and the city-year comparison are in `reference/` (see its README).

#![allow(clippy::unwrap_used, clippy::cast_precision_loss)] // bench setup

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engine_community::{
    CitySpec, Control, Discipline, MmcExperiment, Poi, SeirParams, TraceJob, WalkGraph,
    access_report, replay, run_once, simulate_mmc, simulate_seir,
};
use rand::RngExt as _;
use scenario::{NoProgress, seeded};

const CITY_MONTH: &str = include_str!("../reference/city_month.json");
const CITY_YEAR: &str = include_str!("../reference/city_year.json");

/// An M/M/3 trace at rho = 0.9 in integer ms.
fn trace(n: usize) -> Vec<TraceJob> {
    let mut rng = seeded(1);
    let mut t = 0.0f64;
    (0..n)
        .map(|i| {
            t += -(1.0 - rng.random::<f64>()).ln() * 3_600_000.0 / 2.7;
            TraceJob {
                id: i as u64,
                arrival: t as u64,
                service: (-(1.0 - rng.random::<f64>()).ln() * 3_600_000.0) as u64,
                class: rng.random_range(0..3u8),
            }
        })
        .collect()
}

fn bench_queue(c: &mut Criterion) {
    let jobs = trace(100_000);
    let mut g = c.benchmark_group("replay_100k_jobs_c3");
    g.throughput(Throughput::Elements(jobs.len() as u64));
    for (name, d) in [
        ("fifo", Discipline::Fifo),
        ("priority", Discipline::Priority),
    ] {
        g.bench_function(name, |b| b.iter(|| replay(black_box(&jobs), 3, d).unwrap()));
    }
    g.finish();

    let exp = MmcExperiment {
        lambdas: vec![5.0 / 3.0],
        mu: 0.5,
        servers: 4,
        jobs: 200_000,
        warmup_jobs: 0,
        batches: 20,
        sla_h: 4.0,
        seed: 3,
    };
    let mut g = c.benchmark_group("mmc_200k_jobs");
    g.throughput(Throughput::Elements(exp.jobs));
    g.bench_function("rho_0.83_c4", |b| {
        b.iter(|| simulate_mmc(black_box(&exp), &mut NoProgress).unwrap())
    });
    g.finish();
}

fn bench_city(c: &mut Criterion) {
    for (name, text, samples) in [
        ("city_month_20x50", CITY_MONTH, 20),
        ("city_year_200x50", CITY_YEAR, 10),
    ] {
        let spec = CitySpec::from_json(text).unwrap();
        let probe = run_once(&spec, None, &mut NoProgress).unwrap();
        eprintln!(
            "{name}: {} jobs, {} scheduler events per run",
            probe.jobs, probe.events
        );
        let mut g = c.benchmark_group(name);
        g.sample_size(samples);
        g.throughput(Throughput::Elements(probe.events));
        g.bench_function("events", |b| {
            b.iter(|| run_once(black_box(&spec), None, &mut NoProgress).unwrap())
        });
        g.finish();
    }
}

fn bench_seir_and_access(c: &mut Criterion) {
    let p = SeirParams {
        names: vec![],
        population: vec![8000.0, 12000.0, 5000.0],
        e0: vec![0.0; 3],
        i0: vec![10.0, 0.0, 0.0],
        beta: 0.5,
        sigma: 1.0 / 5.2,
        gamma: 1.0 / 7.0,
        mixing: Some(vec![
            vec![0.85, 0.1, 0.05],
            vec![0.08, 0.86, 0.06],
            vec![0.05, 0.1, 0.85],
        ]),
        controls: vec![Control {
            from_day: 30.0,
            to_day: Some(90.0),
            beta_reduction: 0.6,
            mobility_reduction: 0.5,
        }],
        days: 365,
        steps_per_day: 100,
    };
    let mut g = c.benchmark_group("seir_3_communities_365d");
    g.throughput(Throughput::Elements(365 * 100));
    g.bench_function("rk4_steps", |b| {
        b.iter(|| simulate_seir(black_box(&p)).unwrap())
    });
    g.finish();

    // a 200 x 200 street grid (40k nodes, 80k edges), 5 categories of 20 POIs
    let n = 200u32;
    let mut edges = Vec::new();
    for y in 0..n {
        for x in 0..n {
            let i = y * n + x;
            if x + 1 < n {
                edges.push((i, i + 1, 80.0));
            }
            if y + 1 < n {
                edges.push((i, i + n, 100.0));
            }
        }
    }
    let graph = WalkGraph::from_edges((n * n) as usize, &edges).unwrap();
    let mut rng = seeded(4);
    let pois: Vec<Poi> = (0..100)
        .map(|k| Poi {
            category: format!("cat{}", k % 5),
            id: k.to_string(),
            node: rng.random_range(0..n * n),
        })
        .collect();
    let buildings: Vec<engine_community::Building> = (0..10_000)
        .map(|k| engine_community::Building {
            id: k.to_string(),
            node: rng.random_range(0..n * n),
            community: Some(format!("c{}", k % 20)),
            cell: None,
            residents: 1.0,
        })
        .collect();
    let mut g = c.benchmark_group("access_grid_40k_nodes");
    g.throughput(Throughput::Elements(5 * u64::from(n * n)));
    g.bench_function("five_categories", |b| {
        b.iter(|| {
            access_report(
                black_box(&graph),
                &buildings,
                &pois,
                &[400.0, 800.0, 1200.0],
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench_queue, bench_city, bench_seir_and_access);
criterion_main!(benches);
