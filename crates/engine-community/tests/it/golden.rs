//! Golden reports: the seeded JSON report of fixed specs, byte for byte as
//! `citybrain community simulate` writes it (pretty JSON plus a newline).
//! Any change to event order, random draws or KPI arithmetic shows up here.
//! `UPDATE_GOLDEN=1 cargo test -p engine-community --test it golden` rewrites
//! the files (only for a deliberate change of results).
//!
//! The city year is too slow for a debug run and its report too large to keep,
//! so its golden file holds the report's length, an FNV-1a hash of its bytes
//! and the city-wide KPIs; run it with
//! `cargo test -p engine-community --release --test it -- --ignored golden`.

use std::path::PathBuf;

use engine_community::{CityModel, CitySpec, simulate, simulate_threads};
use scenario::{NoProgress, Scheduler};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn crate_file(rel: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn updating() -> bool {
    std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1")
}

/// The report of `spec_text` as the CLI writes it.
fn report_text(spec_text: &str) -> (String, serde_json::Value) {
    let spec = CitySpec::from_json(spec_text).expect("golden spec parses");
    let report = simulate(&spec, &mut NoProgress).expect("golden spec runs");
    let value = serde_json::to_value(&report).expect("report serialises");
    let text = serde_json::to_string_pretty(&report).expect("report serialises") + "\n";
    (text, value)
}

/// 64-bit FNV-1a: a stable fingerprint of a report too large to keep.
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Compares the full report of `spec` with `golden` (both under the crate).
#[track_caller]
fn check_full(spec: &str, golden: &str) {
    let (got, _) = report_text(&crate_file(spec));
    let path = golden_dir().join(golden);
    if updating() {
        std::fs::write(&path, &got).expect("write golden");
        return;
    }
    let want = crate_file(&format!("tests/golden/{golden}"));
    if got != want {
        let line = got
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
        panic!(
            "report of {spec} differs from {golden} at line {}: got {:?}, want {:?}",
            line + 1,
            got.lines().nth(line),
            want.lines().nth(line)
        );
    }
}

#[test]
fn the_feature_spec_report_is_byte_identical() {
    check_full("tests/golden/features_spec.json", "features_report.json");
}

#[test]
fn the_city_month_report_is_byte_identical() {
    check_full("reference/city_month.json", "city_month_report.json");
}

#[test]
#[ignore = "city year: run in release (see the module docs)"]
fn the_city_year_report_is_byte_identical() {
    let (text, value) = report_text(&crate_file("reference/city_year.json"));
    let got = serde_json::json!({
        "bytes": text.len(),
        "fnv1a64": format!("{:016x}", fnv1a64(text.as_bytes())),
        "jobs": value["baseline"]["jobs"],
        "events": value["baseline"]["events"],
        "city": value["baseline"]["kpis"]["city"],
    });
    let path = golden_dir().join("city_year_fingerprint.json");
    if updating() {
        let t = serde_json::to_string_pretty(&got).expect("serialise") + "\n";
        std::fs::write(&path, t).expect("write golden");
        return;
    }
    let want: serde_json::Value =
        serde_json::from_str(&crate_file("tests/golden/city_year_fingerprint.json"))
            .expect("golden parses");
    // through text as the golden file went: serde_json's default float
    // parsing may land one ulp off the printed value, the same on both sides
    let got: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&got).expect("serialise")).expect("parses");
    // the readable parts first, then the bytes
    assert_eq!(got["city"], want["city"], "city-wide KPIs");
    assert_eq!(got["jobs"], want["jobs"]);
    assert_eq!(got["events"], want["events"]);
    assert_eq!(got, want, "report length or bytes");
}

/// The determinism rule for threads: a spec and a seed give the same report
/// bytes on 1 or many threads, and the same as one scheduler for the whole
/// city (the split into independent parts changes no draw and no event order).
#[track_caller]
fn check_threads(spec: &CitySpec) {
    let text = |r: &engine_community::SimulationReport| {
        serde_json::to_string_pretty(r).expect("report serialises")
    };
    let one = text(&simulate_threads(spec, 1, &mut NoProgress).expect("runs"));
    for threads in [2, 3, 8] {
        let many = text(&simulate_threads(spec, threads, &mut NoProgress).expect("runs"));
        assert!(one == many, "{threads} threads give another report");
    }
    let mut sched = Scheduler::new();
    let mut model = CityModel::new(spec, None, &mut sched).expect("builds");
    model.run(&mut sched, &mut NoProgress);
    let single = serde_json::to_string_pretty(&model.report()).expect("serialises");
    let split = simulate_threads(spec, 2, &mut NoProgress).expect("runs");
    let split = serde_json::to_string_pretty(&split.baseline).expect("serialises");
    assert!(single == split, "one scheduler and split parts differ");
}

#[test]
fn the_report_does_not_depend_on_threads_or_the_split() {
    // city month: 20 independent communities; the feature spec: shared
    // teams, replayed events, shift calendars and variants
    let parse = |rel: &str| CitySpec::from_json(&crate_file(rel)).expect("spec parses");
    check_threads(&parse("reference/city_month.json"));
    let features = parse("tests/golden/features_spec.json");
    check_threads(&features);
    // the same city in four parts: flooding only in the east (so the
    // city-wide drainage team joins the east's part), replayed events only
    // there, and a team that serves no stream
    let mut v = serde_json::to_value(&features).expect("serialises");
    v["arrivals"]
        .as_array_mut()
        .expect("arrivals")
        .retain(|a| a["kind"] != "flooding" || a["community"] == "east");
    v["replay"]
        .as_array_mut()
        .expect("replay")
        .retain(|r| r["community"] == "east");
    v["teams"]
        .as_array_mut()
        .expect("teams")
        .push(serde_json::json!({
            "name": "spare", "kinds": [], "shifts": {"constant": 1}
        }));
    let split: CitySpec = serde_json::from_value(v).expect("spec parses");
    check_threads(&split);
}
