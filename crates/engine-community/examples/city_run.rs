//! Runs a `CitySpec` (baseline and variants) and writes the JSON report, as
//! `citybrain community simulate` does, without building the server: a fixed
//! amount of work for `perf stat` and `valgrind --tool=callgrind`.
//!
//! `cargo run --release -p engine-community --example city_run -- SPEC.json [OUT.json] [THREADS]`
//!
//! THREADS (default: the machine's parallelism) changes the time, not the report.

use std::process::ExitCode;

use engine_community::{CitySpec, simulate_threads};
use scenario::NoProgress;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(spec_path) = args.first() else {
        eprintln!("usage: city_run SPEC.json [OUT.json] [THREADS]");
        return ExitCode::from(2);
    };
    let run = || -> Result<(), String> {
        let text = std::fs::read_to_string(spec_path).map_err(|e| format!("{spec_path}: {e}"))?;
        let spec = CitySpec::from_json(&text).map_err(|e| format!("{spec_path}: {e}"))?;
        let threads = match args.get(2) {
            Some(t) => t.parse().map_err(|e| format!("threads {t:?}: {e}"))?,
            None => std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
        };
        let report =
            simulate_threads(&spec, threads, &mut NoProgress).map_err(|e| e.to_string())?;
        eprintln!(
            "{spec_path}: {} jobs, {} events (baseline)",
            report.baseline.jobs, report.baseline.events
        );
        if let Some(out) = args.get(1) {
            let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
            std::fs::write(out, json + "\n").map_err(|e| format!("{out}: {e}"))?;
        }
        Ok(())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
