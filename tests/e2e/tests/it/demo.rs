//! Acceptance: the demo comes up and stores observations from every sensor
//! kind within 60 s, with the embedded broker, SQLite and the simulators.

use std::time::{Duration, Instant};

use e2e::{Server, wait_for};

#[test]
fn demo_stores_every_sensor_kind_within_60_seconds_and_is_healthy() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let server = Server::start(
        dir.path(),
        &["demo", "--port", "0", "--data-dir", "data"],
        &[
            ("CITYBRAIN__BROKER__PORT", "0".into()),
            ("CITYBRAIN__BROKER__V4_PORT", "0".into()),
        ],
        Duration::from_secs(120),
    );
    let up = started.elapsed();
    let kinds = [
        "traffic_detector",
        "air_quality",
        "energy_meter",
        "pv_inverter",
        "water_level",
    ];
    let seen = wait_for(Duration::from_secs(60), || {
        let (_, text) = server.get("/metrics");
        let counts: Vec<f64> = kinds
            .iter()
            .map(|k| {
                e2e::metric_value(
                    &text,
                    "citybrain_observations_committed_total",
                    &format!("kind=\"{k}\""),
                )
            })
            .collect();
        counts.iter().all(|c| *c > 0.0).then_some(counts)
    });
    let (_, text) = server.get("/metrics");
    assert!(
        seen.is_some(),
        "not every sensor kind stored within 60 s of start-up ({up:?}):\n{}\nlog:\n{}",
        text,
        server.log()
    );
    let (status, body) = server.get("/health");
    assert_eq!(status, 200, "{body}");
    let (status, _) = server.get("/");
    assert_eq!(status, 200);
    // the malformed share of the simulators reaches the dead-letter store
    let dead = wait_for(Duration::from_secs(60), || {
        let d = server.metric("citybrain_dead_letters_stored_total", "");
        (d > 0.0).then_some(d)
    });
    assert!(
        dead.is_some(),
        "no dead letters from the simulators' malformed share"
    );
    // demo tokens were written for the browser tests
    let tokens = std::fs::read_to_string(dir.path().join("data/demo-tokens.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&tokens).unwrap();
    for role in ["viewer", "operator", "planner", "admin"] {
        assert!(
            v[role].as_str().is_some_and(|t| t.starts_with("cb_")),
            "{tokens}"
        );
    }
}
