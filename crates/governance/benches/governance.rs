//! Benchmarks: scoring throughput (150 cities × N indicators, H3 cells) and the
//! report's statistics. The numpy/scipy peer is `reference/bench_peer.py`; run
//! both with `reference/run_bench.sh` (see docs/benchmarks/governance.md).

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use governance::stats;
use governance::{
    EntityInputs, InputValue, Profile, ReportOptions, SynthParams, build_report, builtin,
    parse_tidy_csv, score_set, synthetic_rows, write_tidy_csv,
};

/// A profile of 6 pillars × 4 second-level blocks × `per_block` target-normalised
/// static indicators (N = 24 · per_block).
fn wide_profile(per_block: usize) -> Profile {
    let mut t = String::from(
        "[profile]\nid = \"wide\"\nname_zh = \"宽\"\nname_en = \"wide\"\nversion = \"1\"\ndescription = \"bench\"\n",
    );
    for p in 0..6 {
        t += &format!(
            "[[block]]\nid = \"p{p}\"\nlevel = 1\nname_zh = \"p\"\nname_en = \"p\"\nweight = 1.0\n"
        );
        for b in 0..4 {
            t += &format!(
                "[[block]]\nid = \"p{p}b{b}\"\nparent = \"p{p}\"\nlevel = 2\nname_zh = \"b\"\nname_en = \"b\"\nweight = 1.0\n"
            );
            for i in 0..per_block {
                t += &format!(
                    "[[indicator]]\nid = \"p{p}b{b}i{i}\"\nparent = \"p{p}b{b}\"\nlevel = 3\nname_zh = \"i\"\nname_en = \"i\"\nunit = \"x\"\ndirection = \"higher\"\nnormalisation = {{ kind = \"{}\" }}\nweight = 1.0\nsource = {{ kind = \"static\" }}\n",
                    if i % 2 == 0 { "min_max" } else { "share" }
                );
            }
        }
    }
    Profile::from_toml(&t).expect("bench profile is valid")
}

/// Deterministic pseudo-random inputs in [0, 1) (a simple LCG; no rng needed).
fn inputs(profile: &Profile, areas: usize) -> BTreeMap<u64, EntityInputs> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..areas as u64)
        .map(|a| {
            let mut e = EntityInputs::default();
            for ind in profile.indicators() {
                e.statics.insert(ind.id.clone(), InputValue::new(next()));
            }
            (a, e)
        })
        .collect()
}

fn scoring(c: &mut Criterion) {
    let mut g = c.benchmark_group("score_150_cities");
    for per_block in [1usize, 4, 16] {
        let p = wide_profile(per_block);
        let n = p.indicators().len();
        let data = inputs(&p, 150);
        g.throughput(Throughput::Elements((150 * n) as u64));
        g.bench_with_input(BenchmarkId::new("indicators", n), &data, |b, d| {
            b.iter(|| black_box(score_set(&p, black_box(d))))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("score_h3_cells");
    let p = builtin("iso-37122-live").expect("builtin");
    for cells in [1_000usize, 10_000] {
        let mut state = 1u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let data: BTreeMap<u64, EntityInputs> = (0..cells as u64)
            .map(|c| {
                let mut e = EntityInputs::default();
                for m in p.live_metrics() {
                    e.live
                        .set(m, InputValue::from_counts((next() * 100.0).round(), 100.0));
                }
                e.statics
                    .insert("city_area_km2".into(), InputValue::new(0.1));
                (0x0891_0000_0000_0000 + c, e)
            })
            .collect();
        g.throughput(Throughput::Elements(cells as u64));
        g.bench_with_input(BenchmarkId::new("cells", cells), &data, |b, d| {
            b.iter(|| black_box(score_set(&p, black_box(d))))
        });
    }
    g.finish();
}

fn statistics(c: &mut Criterion) {
    // 150 × 6 pillar matrix, deterministic.
    let mut state = 7u64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let cols: Vec<Vec<f64>> = (0..6).map(|_| (0..150).map(|_| next()).collect()).collect();
    let y: Vec<f64> = (0..150)
        .map(|i| cols.iter().map(|c| c[i]).sum::<f64>() + next())
        .collect();
    let rows: Vec<Vec<f64>> = (0..150)
        .map(|i| cols.iter().map(|c| c[i]).collect())
        .collect();
    let mut g = c.benchmark_group("stats_150x6");
    g.throughput(Throughput::Elements(15));
    g.bench_function("pearson_spearman_matrix_with_p", |b| {
        b.iter(|| {
            let mut acc = 0.0;
            for i in 0..6 {
                for j in (i + 1)..6 {
                    let p = stats::pearson(&cols[i], &cols[j]).expect("valid");
                    let s = stats::spearman(&cols[i], &cols[j]).expect("valid");
                    acc += p.p + s.p;
                }
            }
            black_box(acc)
        })
    });
    g.throughput(Throughput::Elements(150));
    let regs: Vec<(&str, &[f64])> = cols.iter().map(|c| ("x", c.as_slice())).collect();
    g.bench_function("ols_6_regressors", |b| {
        b.iter(|| black_box(stats::ols(black_box(&y), &regs).expect("full rank")))
    });
    g.bench_function("entropy_weights", |b| {
        b.iter(|| black_box(stats::entropy_weights(black_box(&rows)).expect("valid")))
    });
    g.finish();

    let p = builtin("six-pillar").expect("builtin");
    let data = parse_tidy_csv(&write_tidy_csv(&synthetic_rows(
        &p,
        &SynthParams::default(),
    )))
    .expect("synthetic csv parses");
    let mut g = c.benchmark_group("report");
    g.throughput(Throughput::Elements(150 * 3));
    g.sample_size(10);
    g.bench_function("build_150_cities_3_years", |b| {
        b.iter(|| black_box(build_report(&p, &data, &ReportOptions::default()).expect("report")))
    });
    g.finish();
}

criterion_group!(benches, scoring, statistics);
criterion_main!(benches);
