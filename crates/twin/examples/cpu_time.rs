//! A load run that counts CPU time instead of wall time, so its figures hold
//! on a shared, busy machine: the observation hot path next to a plain
//! mutable-`HashMap` peer, the 10^6-entity build, and the Helsinki import.
//!
//! Run: `cargo run --release -p twin --example cpu_time`
//! (Linux: reads the thread's CPU time from `/proc/thread-self/stat`, 10 ms
//! resolution; every phase runs for at least a second of CPU.)

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::collections::HashMap;

use domain::{Metric, Observation, SensorId, Timestamp};
use h3o::{LatLng, Resolution};
use twin::synthetic::{SyntheticSpec, generate};
use twin::{City, Twin, TwinConfig};

/// CPU seconds used by this thread so far (user + system).
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("Linux /proc");
    let rest = &stat[stat.rfind(')').expect("comm ends with )") + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    ticks / 100.0
}

/// Runs `f` repeatedly until it has used at least `min_s` CPU seconds;
/// returns CPU seconds per call.
fn per_call(min_s: f64, mut f: impl FnMut()) -> f64 {
    let start = cpu_s();
    let mut n = 0u32;
    while cpu_s() - start < min_s || n == 0 {
        f();
        n += 1;
    }
    (cpu_s() - start) / f64::from(n)
}

const ROLLUPS: [Resolution; 4] = [
    Resolution::Seven,
    Resolution::Eight,
    Resolution::Nine,
    Resolution::Ten,
];

fn batches(city: &City, n_batches: usize, len: usize) -> Vec<Vec<Observation>> {
    let ids: Vec<SensorId> = city
        .registry
        .sensors()
        .filter(|s| s.metrics.iter().any(|m| m.as_str() == "power"))
        .map(|s| s.id.clone())
        .collect();
    let power = Metric::new("power").unwrap();
    (0..n_batches)
        .map(|k| {
            (0..len)
                .map(|j| {
                    let i = (j * 7919 + k * 31) % ids.len();
                    Observation {
                        sensor: ids[i].clone(),
                        metric: power.clone(),
                        ts: Timestamp(1_700_000_000_000 + (k * 10_000 + j) as i64),
                        value: (i % 100) as f64 / 10.0,
                    }
                })
                .collect()
        })
        .collect()
}

fn main() {
    println!("| phase | sensors | twin (obs per CPU-s) | mutable HashMap peer | ratio |");
    println!("|---|---:|---:|---:|---:|");
    for n in [1_000usize, 10_000, 100_000] {
        let city = testkit::twin::city_with_meters(n, 1);
        let work = batches(&city, 100, 10_000);
        let total: usize = work.iter().map(Vec::len).sum();
        let mut twin = Twin::new(city.clone(), TwinConfig::default()).unwrap();
        let mut k = 0;
        let t = per_call(1.0, || {
            twin.apply_observations(&work[k % work.len()]);
            k += 1;
        });
        // with a snapshot after every 1,000 observations, as the server runs it
        let mut twin = Twin::new(city.clone(), TwinConfig::default()).unwrap();
        let mut k = 0;
        let ts = per_call(1.0, || {
            for chunk in work[k % work.len()].chunks(1_000) {
                twin.apply_observations(chunk);
                std::hint::black_box(twin.snapshot());
            }
            k += 1;
        });
        let cells: HashMap<&SensorId, [u64; 4]> = city
            .registry
            .sensors()
            .map(|s| {
                let c = LatLng::new(s.location.lat, s.location.lon)
                    .unwrap()
                    .to_cell(Resolution::Ten);
                (&s.id, ROLLUPS.map(|r| u64::from(c.parent(r).unwrap())))
            })
            .collect();
        let mut agg: HashMap<(u8, u64), (u64, f64)> = HashMap::new();
        let mut k = 0;
        let p = per_call(1.0, || {
            for o in &work[k % work.len()] {
                if let Some(cs) = cells.get(&o.sensor) {
                    for (r, c) in ROLLUPS.iter().zip(cs) {
                        let e = agg.entry((u8::from(*r), *c)).or_insert((0, 0.0));
                        e.0 += 1;
                        e.1 += o.value;
                    }
                }
            }
            k += 1;
        });
        let per = |s: f64| total as f64 / work.len() as f64 / s;
        println!(
            "| apply_observations | {n} | {:.0} | {:.0} | {:.2} |",
            per(t),
            per(p),
            per(t) / per(p)
        );
        println!(
            "| apply + snapshot every 1,000 | {n} | {:.0} | {:.0} | {:.2} |",
            per(ts),
            per(p),
            per(ts) / per(p)
        );
    }
    let spec = SyntheticSpec::with_entities(1_000_000, 1);
    let c = cpu_s();
    let city = generate(&spec);
    let gen_s = cpu_s() - c;
    let n = city.entities.len();
    let c = cpu_s();
    let twin = Twin::new(city, TwinConfig::default()).unwrap();
    let new_s = cpu_s() - c;
    let snap_s = per_call(1.0, || {
        for _ in 0..10_000 {
            std::hint::black_box(twin.snapshot());
        }
    }) / 10_000.0;
    println!();
    println!("| build | entities | CPU s |");
    println!("|---|---:|---:|");
    println!("| synthetic::generate | {n} | {gen_s:.2} |");
    println!("| Twin::new | {n} | {new_s:.2} |");
    println!("| snapshot() | {n} | {:.3} µs |", snap_s * 1e6);
    let path = testkit::twin::helsinki_pbf_path();
    if let Ok(pbf) = std::fs::read(&path) {
        let osm = per_call(1.0, || {
            std::hint::black_box(twin::import::osm(&pbf, &Default::default()).unwrap());
        });
        let demo = per_call(1.0, || {
            std::hint::black_box(twin::demo::helsinki(&pbf, 7).unwrap());
        });
        println!("| import::osm (Helsinki, 685 kB) | | {:.1} ms |", osm * 1e3);
        println!("| demo::helsinki | | {:.1} ms |", demo * 1e3);
    }
}
