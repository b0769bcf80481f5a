//! Shared set-up: the synthetic city both sides agree on, server environments,
//! store access and payload builders.

use std::time::Duration;

use domain::{Registry, SensorKind, SensorSpec};
use simulators::encode::{self, Reading};

/// Seed and size of the synthetic city the tests run.
pub const SEED: u64 = 11;
pub const GRID: u32 = 4;

/// The city the server builds from `city_env()`.
pub fn registry() -> Registry {
    let mut spec = twin::synthetic::SyntheticSpec::small(SEED);
    spec.grid_x = GRID;
    spec.grid_y = GRID;
    twin::synthetic::generate(&spec).registry
}

/// Sensors that report values, with their gateway, in id order.
pub fn value_sensors(reg: &Registry) -> Vec<SensorSpec> {
    reg.sensors()
        .filter(|s| !matches!(s.kind, SensorKind::EventReporter | SensorKind::Other))
        .filter(|s| {
            s.metrics.iter().any(|m| {
                m.as_str() == "power"
                    || m.as_str() == "pm25"
                    || m.as_str() == "flow"
                    || m.as_str() == "water_level"
                    || m.as_str() == "pv_power"
            })
        })
        .cloned()
        .collect()
}

/// The first metric a sensor reports among the well-known ones.
pub fn metric_of(s: &SensorSpec) -> &'static str {
    for m in ["power", "pm25", "flow", "water_level", "pv_power"] {
        if s.metrics.iter().any(|x| x.as_str() == m) {
            return m;
        }
    }
    "power"
}

/// A plausible value for the metric.
pub fn value_of(metric: &str, i: u64) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let x = (i % 97) as f64;
    match metric {
        "pm25" => 5.0 + x / 10.0,
        "flow" => 100.0 + x,
        "water_level" => 1.0 + x / 100.0,
        "pv_power" => x / 10.0,
        _ => 1.0 + x / 10.0,
    }
}

/// Environment of a `citybrain serve` on the test city with an external
/// broker and a store.
pub fn serve_env(mqtt_port: u16, client_id: &str, db: DbTarget<'_>) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("CITYBRAIN__CITY__SOURCE", "synthetic".to_owned()),
        ("CITYBRAIN__CITY__SEED", SEED.to_string()),
        ("CITYBRAIN__CITY__SYNTHETIC_GRID_X", GRID.to_string()),
        ("CITYBRAIN__CITY__SYNTHETIC_GRID_Y", GRID.to_string()),
        ("CITYBRAIN__BROKER__ENABLED", "false".to_owned()),
        ("CITYBRAIN__SIMULATORS__ENABLED", "false".to_owned()),
        (
            "CITYBRAIN__MQTT__URL",
            format!("mqtt://127.0.0.1:{mqtt_port}"),
        ),
        ("CITYBRAIN__MQTT__CLIENT_ID", client_id.to_owned()),
        ("CITYBRAIN__MQTT__RECONNECT_MAX_MS", "1000".to_owned()),
        ("CITYBRAIN__HTTP__PORT", "0".to_owned()),
        ("CITYBRAIN__OPS__DEFAULT_RULES", "false".to_owned()),
    ];
    match db {
        DbTarget::Sqlite => env.push(("CITYBRAIN__DB__DATA_DIR", "data".to_owned())),
        DbTarget::Postgres { url, schema } => {
            env.push(("CITYBRAIN__DB__URL", url.to_owned()));
            env.push(("CITYBRAIN__DB__SCHEMA", schema.to_owned()));
        }
    }
    env
}

/// Where a server stores.
#[derive(Debug, Clone, Copy)]
pub enum DbTarget<'a> {
    /// `data/citybrain.db` in the server's folder.
    Sqlite,
    /// A schema of a PostgreSQL database.
    Postgres {
        /// Connection URL.
        url: &'a str,
        /// Schema.
        schema: &'a str,
    },
}

/// Opens the store a server writes to (for counting).
pub async fn open_store(dir: &std::path::Path, db: DbTarget<'_>) -> store::Store {
    let cfg = match db {
        DbTarget::Sqlite => store::DbConfig {
            url: Some(format!(
                "sqlite://{}",
                dir.join("data/citybrain.db").display()
            )),
            ..Default::default()
        },
        DbTarget::Postgres { url, schema } => store::DbConfig {
            url: Some(url.to_owned()),
            schema: Some(schema.to_owned()),
            ..Default::default()
        },
    };
    cfg.build()
        .await
        .expect("the test opens the server's store")
}

/// A unique PostgreSQL schema name for one test.
pub fn unique_schema(prefix: &str) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}_{}_{}", std::process::id(), t % 1_000_000_000)
}

/// `count` native-JSON messages of `per_msg` observations each, spread over
/// the sensors round-robin, every observation with its own timestamp.
pub fn native_messages(
    reg: &Registry,
    count: usize,
    per_msg: usize,
    base_ts: i64,
) -> Vec<encode::Message> {
    let sensors = value_sensors(reg);
    assert!(!sensors.is_empty());
    let mut out = Vec::with_capacity(count);
    let mut i: u64 = 0;
    for _ in 0..count {
        // one gateway per message: take the next sensor's gateway and its sensors
        let gw = sensors[(i as usize) % sensors.len()].gateway.clone();
        let own: Vec<&SensorSpec> = sensors.iter().filter(|s| s.gateway == gw).collect();
        let readings: Vec<Reading> = (0..per_msg)
            .map(|k| {
                let s = own[k % own.len()];
                let m = metric_of(s);
                i += 1;
                #[allow(clippy::cast_possible_wrap)]
                Reading {
                    sensor: s.id.clone(),
                    metric: m,
                    value: value_of(m, i),
                    ts: base_ts + i as i64,
                }
            })
            .collect();
        out.push(encode::native(gw.as_str(), base_ts, &readings));
    }
    out
}

/// Now, ms since the epoch.
pub fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

/// How long a server may take to come up.
pub const START: Duration = Duration::from_secs(120);
