//! Benchmarks: one power flow (CIGRE LV and seeded synthetic feeders of
//! ~1k, 3k and 10k buses) and time series (a CIGRE LV year, a synthetic
//! week). The pandapower peer runs in `reference/run_bench.sh`, in the same
//! run; results are in `docs/benchmarks/energy.md`.

#![allow(clippy::disallowed_methods)] // the benchmark reads the CIGRE tables

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use engine_energy::{
    ElementSeries, Network, PfOptions, Solver, SyntheticSpec, default_load_shape, default_pv_shape,
    run_series, synthetic_feeder,
};
use scenario::NoProgress;

fn cigre() -> Option<Network> {
    let dir = testkit::shared_data("energy/cigre_lv")?;
    let mut tables = BTreeMap::new();
    for e in std::fs::read_dir(dir).ok()? {
        let p = e.ok()?.path();
        if p.extension().is_some_and(|x| x == "csv") {
            let stem = p.file_stem()?.to_string_lossy().to_string();
            tables.insert(stem, std::fs::read_to_string(&p).ok()?);
        }
    }
    Network::from_csv_tables(&tables).ok()
}

fn sizes() -> Vec<(String, Network)> {
    let mut v = Vec::new();
    if let Some(n) = cigre() {
        v.push(("cigre_lv".to_string(), n));
    }
    for (subs, name) in [(10, "synth_1k"), (30, "synth_3k"), (100, "synth_10k")] {
        let spec = SyntheticSpec {
            substations: subs,
            lv_buses: 98,
            seed: 7,
        };
        v.push((name.to_string(), synthetic_feeder(&spec)));
    }
    v
}

/// The default residential and PV shapes applied to every element.
fn shaped_series(net: &Network, steps: usize) -> ElementSeries {
    let mut s = ElementSeries {
        steps,
        ..ElementSeries::default()
    };
    for k in 0..steps {
        let (l, p) = (default_load_shape(k), default_pv_shape(k));
        s.load_p_mw
            .push(net.load.iter().map(|x| x.p_mw * l).collect());
        s.load_q_mvar
            .push(net.load.iter().map(|x| x.q_mvar * l).collect());
        s.sgen_p_mw.push(
            net.sgen
                .iter()
                .map(|x| x.sn_mva.unwrap_or(x.p_mw) * p)
                .collect(),
        );
    }
    s
}

fn powerflow(c: &mut Criterion) {
    let mut g = c.benchmark_group("powerflow");
    for (name, net) in sizes() {
        g.throughput(Throughput::Elements(net.bus.len() as u64));
        let mut solver = Solver::new(&net, PfOptions::default()).expect("solvable");
        g.bench_with_input(BenchmarkId::new("solve", &name), &net, |b, net| {
            b.iter(|| black_box(solver.run(black_box(net)).expect("converges")))
        });
        g.bench_with_input(
            BenchmarkId::new("build_and_solve", &name),
            &net,
            |b, net| {
                b.iter(|| {
                    let mut s =
                        Solver::new(black_box(net), PfOptions::default()).expect("solvable");
                    black_box(s.run(net).expect("converges"))
                })
            },
        );
    }
    g.finish();
}

fn timeseries(c: &mut Criterion) {
    let mut g = c.benchmark_group("timeseries");
    g.sample_size(10);
    for (name, net) in sizes() {
        // a full year for CIGRE LV, a week for the synthetic feeders
        let steps = if name == "cigre_lv" { 35_040 } else { 672 };
        if name == "synth_10k" {
            continue;
        }
        let series = shaped_series(&net, steps);
        g.throughput(Throughput::Elements(steps as u64));
        g.bench_with_input(
            BenchmarkId::new(format!("{steps}_steps"), &name),
            &net,
            |b, net| {
                b.iter(|| {
                    let mut n = net.clone();
                    let mut worst = 0.0f64;
                    run_series(
                        &mut n,
                        &series,
                        PfOptions::default(),
                        &mut NoProgress,
                        |_, st| {
                            worst = worst.max(st.losses_mw);
                        },
                    )
                    .expect("converges");
                    black_box(worst)
                })
            },
        );
    }
    g.finish();
}

criterion_group!(benches, powerflow, timeseries);
criterion_main!(benches);
