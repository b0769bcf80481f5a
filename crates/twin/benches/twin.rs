//! Twin benchmarks: the observation hot path, snapshots, cell queries and
//! city generation, each next to a simple peer measured in the same run.
//!
//! Run: `CARGO_TARGET_DIR=... cargo bench -p twin --bench twin`
//! (results and the machine are recorded in docs/benchmarks/twin.md).

// benchmark setup: a failed unwrap aborts the run, which is what we want
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use domain::{Metric, Observation, SensorId, Timestamp};
use h3o::{CellIndex, LatLng, Resolution};
use twin::synthetic::{SyntheticSpec, generate};
use twin::{City, Twin, TwinConfig};

const ROLLUPS: [Resolution; 4] = [
    Resolution::Seven,
    Resolution::Eight,
    Resolution::Nine,
    Resolution::Ten,
];

/// A batch of `n` power readings spread over the city's meters by a fixed
/// stride permutation, at data times after every earlier batch's.
fn batch(sensors: &[SensorId], metric: &Metric, k: u64, n: usize) -> Vec<Observation> {
    let len = sensors.len();
    let stride = (7919 % len.max(1)) | 1;
    (0..n)
        .map(|j| {
            let i = (j * stride + k as usize * 31) % len;
            Observation {
                sensor: sensors[i].clone(),
                metric: metric.clone(),
                ts: Timestamp(1_700_000_000_000 + (k as i64) * 10_000 + j as i64 % 10_000),
                value: 1.0 + ((i * 37 + k as usize) % 100) as f64 / 10.0,
            }
        })
        .collect()
}

fn meters(city: &City) -> Vec<SensorId> {
    city.registry
        .sensors()
        .filter(|s| s.metrics.iter().any(|m| m.as_str() == "power"))
        .map(|s| s.id.clone())
        .collect()
}

/// The simplest mutable peer: std `HashMap`s, no snapshots, no health.
struct MutablePeer {
    cells_of: HashMap<SensorId, [u64; 4]>,
    agg: HashMap<(u8, u64), (u64, f64, f64, f64)>,
}

impl MutablePeer {
    fn new(city: &City) -> Self {
        let cells_of = city
            .registry
            .sensors()
            .map(|s| {
                let base = LatLng::new(s.location.lat, s.location.lon)
                    .unwrap()
                    .to_cell(Resolution::Ten);
                (
                    s.id.clone(),
                    ROLLUPS.map(|r| u64::from(base.parent(r).unwrap())),
                )
            })
            .collect();
        Self {
            cells_of,
            agg: HashMap::new(),
        }
    }

    fn apply(&mut self, obs: &[Observation]) -> usize {
        let mut n = 0;
        for o in obs {
            let Some(cells) = self.cells_of.get(&o.sensor) else {
                continue;
            };
            for (r, c) in ROLLUPS.iter().zip(cells) {
                let e = self.agg.entry((u8::from(*r), *c)).or_insert((
                    0,
                    0.0,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                ));
                e.0 += 1;
                e.1 += o.value;
                e.2 = e.2.min(o.value);
                e.3 = e.3.max(o.value);
            }
            n += 1;
        }
        n
    }
}

fn bench_apply(c: &mut Criterion) {
    let mut g = c.benchmark_group("apply_observations");
    g.sample_size(20);
    let power = Metric::new("power").unwrap();
    for n in [1_000usize, 10_000, 100_000] {
        let city = testkit::twin::city_with_meters(n, 1);
        let ids = meters(&city);
        let locations: Vec<LatLng> = city
            .registry
            .sensors()
            .map(|s| LatLng::new(s.location.lat, s.location.lon).unwrap())
            .collect();
        let batch_len = 10_000;
        g.throughput(Throughput::Elements(batch_len as u64));
        let label = format!("{}_sensors", ids.len());
        let mut twin = Twin::new(city.clone(), TwinConfig::default()).unwrap();
        let mut k = 0u64;
        g.bench_function(BenchmarkId::new("twin", &label), |b| {
            b.iter_batched(
                || {
                    k += 1;
                    batch(&ids, &power, k, batch_len)
                },
                |obs| twin.apply_observations(black_box(&obs)),
                BatchSize::LargeInput,
            )
        });
        // as the server runs it: a snapshot published after every 1,000
        let mut twin = Twin::new(city.clone(), TwinConfig::default()).unwrap();
        let mut k = 1_000_000u64;
        g.bench_function(BenchmarkId::new("twin_snapshot_every_1000", &label), |b| {
            b.iter_batched(
                || {
                    k += 1;
                    batch(&ids, &power, k, batch_len)
                },
                |obs| {
                    for chunk in obs.chunks(1_000) {
                        twin.apply_observations(black_box(chunk));
                        black_box(twin.snapshot());
                    }
                },
                BatchSize::LargeInput,
            )
        });
        let mut peer = MutablePeer::new(&city);
        let mut k = 2_000_000u64;
        g.bench_function(BenchmarkId::new("peer_mutable_hashmap", &label), |b| {
            b.iter_batched(
                || {
                    k += 1;
                    batch(&ids, &power, k, batch_len)
                },
                |obs| peer.apply(black_box(&obs)),
                BatchSize::LargeInput,
            )
        });
        // the H3 work a twin would do if it located every observation
        // instead of caching each sensor's cells: to_cell + 4 parents
        let mut i = 0usize;
        g.bench_function(
            BenchmarkId::new("floor_h3o_to_cell_and_parents", &label),
            |b| {
                b.iter(|| {
                    let mut acc = 0u64;
                    for _ in 0..batch_len {
                        i = (i + 7919) % locations.len();
                        let cell = black_box(locations[i]).to_cell(Resolution::Ten);
                        for r in ROLLUPS {
                            acc ^= u64::from(cell.parent(r).unwrap());
                        }
                    }
                    acc
                })
            },
        );
    }
    g.finish();
}

/// A twin of the 10^6-entity synthetic city with its detectors and
/// air-quality stations fed: `flow` and `pm25` everywhere.
fn big_twin() -> (Twin, Vec<(SensorId, LatLng)>) {
    let city = generate(&SyntheticSpec::with_entities(1_000_000, 1));
    let fed: Vec<(SensorId, LatLng, Metric)> = city
        .registry
        .sensors()
        .filter_map(|s| {
            let m = s
                .metrics
                .iter()
                .find(|m| matches!(m.as_str(), "flow" | "pm25"))?;
            Some((
                s.id.clone(),
                LatLng::new(s.location.lat, s.location.lon).ok()?,
                m.clone(),
            ))
        })
        .collect();
    let mut twin = Twin::new(city, TwinConfig::default()).unwrap();
    let obs: Vec<Observation> = (0..10)
        .flat_map(|round| {
            fed.iter().map(move |(s, _, m)| Observation {
                sensor: s.clone(),
                metric: m.clone(),
                ts: Timestamp(1_700_000_000_000 + round * 30_000),
                value: 100.0 + round as f64,
            })
        })
        .collect();
    twin.apply_observations(&obs);
    let flow = fed
        .into_iter()
        .filter(|(_, _, m)| m.as_str() == "flow")
        .map(|(s, l, _)| (s, l))
        .collect();
    (twin, flow)
}

fn bench_queries(c: &mut Criterion) {
    let (twin, detectors) = big_twin();
    let snap = twin.snapshot();
    let bbox = snap.bounds().unwrap();
    let cells = snap.cells(Resolution::Nine, "flow", Some(bbox)).unwrap();
    let mut g = c.benchmark_group("cells_res9_citywide_1e6_entities");
    g.sample_size(20);
    g.throughput(Throughput::Elements(cells.len() as u64));
    g.bench_function(
        BenchmarkId::new("twin_cells", format!("{}_cells", cells.len())),
        |b| {
            b.iter(|| {
                snap.cells(Resolution::Nine, black_box("flow"), Some(black_box(bbox)))
                    .unwrap()
                    .len()
            })
        },
    );
    // the naive peer: raw readings per sensor, grouped and recomputed per query
    let raw: HashMap<SensorId, (LatLng, Vec<f64>)> = detectors
        .iter()
        .map(|(s, l)| {
            (
                s.clone(),
                (*l, (0..10).map(|r| 100.0 + f64::from(r)).collect()),
            )
        })
        .collect();
    g.bench_function(
        BenchmarkId::new(
            "peer_hashmap_of_vec_recompute",
            format!("{}_cells", cells.len()),
        ),
        |b| {
            b.iter(|| {
                let mut by_cell: HashMap<CellIndex, (u64, f64, f64, f64)> = HashMap::new();
                for (loc, values) in raw.values() {
                    let p = geo::Point::new(loc.lng(), loc.lat());
                    if !geo::Intersects::intersects(&bbox, &p) {
                        continue;
                    }
                    let e = by_cell.entry(loc.to_cell(Resolution::Nine)).or_insert((
                        0,
                        0.0,
                        f64::INFINITY,
                        f64::NEG_INFINITY,
                    ));
                    for v in values {
                        e.0 += 1;
                        e.1 += v;
                        e.2 = e.2.min(*v);
                        e.3 = e.3.max(*v);
                    }
                }
                let mut out: Vec<_> = by_cell.into_iter().collect();
                out.sort_unstable_by_key(|(c, _)| *c);
                out.len()
            })
        },
    );
    g.finish();

    let mut g = c.benchmark_group("snapshot");
    g.throughput(Throughput::Elements(1));
    g.bench_function("twin_1e6_entities", |b| {
        b.iter(|| black_box(twin.snapshot()))
    });
    // what a snapshot would cost without structural sharing: copying the
    // city's entity table (ids and shared entity pointers only)
    let table: Vec<(domain::EntityId, &twin::Entity)> =
        snap.entities().map(|e| (e.id.clone(), e)).collect();
    g.sample_size(10);
    g.bench_function("peer_copy_entity_table_1e6", |b| {
        b.iter(|| black_box(table.clone()))
    });
    g.finish();
}

fn bench_build(c: &mut Criterion) {
    let mut g = c.benchmark_group("build_1e6_entities");
    g.sample_size(10);
    let spec = SyntheticSpec::with_entities(1_000_000, 1);
    let n = generate(&spec).entities.len();
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("synthetic_generate", |b| {
        b.iter(|| generate(black_box(&spec)).entities.len())
    });
    let city = generate(&spec);
    g.bench_function("twin_new", |b| {
        b.iter_batched(
            || city.clone(),
            |c| Twin::new(c, TwinConfig::default()).unwrap().version(),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn bench_import(c: &mut Criterion) {
    let Some(pbf) = testkit::twin::helsinki_pbf() else {
        return;
    };
    let mut g = c.benchmark_group("helsinki");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(pbf.len() as u64));
    g.bench_function("osm_import", |b| {
        b.iter(|| {
            twin::import::osm(black_box(&pbf), &Default::default())
                .unwrap()
                .city
                .entities
                .len()
        })
    });
    g.bench_function("demo_city", |b| {
        b.iter(|| {
            twin::demo::helsinki(black_box(&pbf), 7)
                .unwrap()
                .entities
                .len()
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_apply,
    bench_queries,
    bench_build,
    bench_import
);
criterion_main!(benches);
