//! Runs the engine on a SUMO network and route file and prints the parse and
//! simulation times with the KPIs: the driver for profiling the engine alone
//! (no CLI, no progress bar), e.g. under `valgrind --tool=callgrind` or
//! `perf record`. `--out` writes the report (with per-vehicle records) so that
//! two builds can be checked to give identical results.
//!
//! Times are wall clock and, on Linux, this process's CPU time (user +
//! system, from `/proc/self/stat`, 10 ms resolution): on a shared machine the
//! CPU time is the steadier measure.
//!
//! ```sh
//! cargo run --release -p engine-traffic --example sumo_run -- \
//!     CITY.net.xml CITY.rou.xml [--horizon-s 3600] [--seed 1] [--scenario FILE.json] [--params FILE.json] [--out report.json]
//! ```

#![allow(clippy::print_stdout)]

use std::time::Instant;

use engine_traffic::{Params, Scenario, parse_sumo, simulate};

fn main() {
    let mut args = std::env::args().skip(1);
    let mut files = Vec::new();
    let (mut horizon_s, mut seed) = (3600u32, 1u64);
    let (mut scenario, mut params, mut out) = (None, None, None);
    while let Some(a) = args.next() {
        let mut value = || args.next().expect("option needs a value");
        match a.as_str() {
            "--horizon-s" => horizon_s = value().parse().expect("--horizon-s is a whole number"),
            "--seed" => seed = value().parse().expect("--seed is a whole number"),
            "--scenario" => scenario = Some(value()),
            "--params" => params = Some(value()),
            "--out" => out = Some(value()),
            _ => files.push(a),
        }
    }
    let [net, rou] = files.as_slice() else {
        eprintln!(
            "usage: sumo_run NET.net.xml ROUTES.rou.xml [--horizon-s S] [--seed N] [--scenario F] [--params F] [--out F]"
        );
        std::process::exit(2);
    };
    let (started, cpu0) = (Instant::now(), cpu_s());
    let net_xml = std::fs::read_to_string(net).expect("network file is readable");
    let rou_xml = std::fs::read_to_string(rou).expect("route file is readable");
    let (net, demand) = parse_sumo(&net_xml, &rou_xml).expect("SUMO files parse");
    drop((net_xml, rou_xml));
    let scenario = scenario.map_or_else(Scenario::default, |p| {
        let text = std::fs::read_to_string(p).expect("scenario file is readable");
        Scenario::from_json(&text).expect("scenario file parses")
    });
    let (parsed, cpu1) = (started.elapsed().as_secs_f64(), cpu_s());
    let params = Params {
        record_vehicles: out.is_some(),
        ..params.map_or_else(Params::default, |p| {
            let text = std::fs::read_to_string(p).expect("parameter file is readable");
            serde_json::from_str(&text).expect("parameter file parses")
        })
    };
    let started = Instant::now();
    let report = simulate(
        &net,
        &demand,
        &scenario,
        &params,
        seed,
        horizon_s,
        &mut scenario::NoProgress,
    )
    .expect("the run succeeds");
    let (simulated, cpu2) = (started.elapsed().as_secs_f64(), cpu_s());
    let k = &report.kpis;
    println!(
        "links {} signals {} trips {} | wall: parse {parsed:.3} s simulate {simulated:.3} s | \
         cpu: parse {:.2} s simulate {:.2} s | loaded {} completed {} en_route {} waiting {} teleports {} vkt {:.0} km vht {:.0} h \
         tti {:.3} att {:.1} s | simulate: {:.2} us/veh-km wall, {:.2} us/veh-km cpu",
        net.links().len(),
        net.signals().len(),
        demand.len(),
        cpu1 - cpu0,
        cpu2 - cpu1,
        k.loaded_vehicles,
        k.completed_trips,
        k.en_route_vehicles,
        k.waiting_to_enter,
        k.teleports,
        k.vkt_km,
        k.vht_h,
        k.travel_time_index,
        k.avg_travel_time_s,
        simulated / k.vkt_km * 1e6,
        (cpu2 - cpu1) / k.vkt_km * 1e6,
    );
    if let Some(path) = out {
        let text = serde_json::to_string(&report).expect("the report serialises");
        std::fs::write(path, text).expect("the report is writable");
    }
}

/// CPU seconds (user + system) this process has used so far; 0 where
/// `/proc/self/stat` is unavailable. Assumes the usual 100 clock ticks per second.
fn cpu_s() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // fields after the parenthesised command name; utime and stime are the 14th and 15th
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}
