//! Runs each test body against SQLite (a temporary file) and, when
//! `DATABASE_URL` is set, PostgreSQL in a schema of its own that is dropped
//! afterwards, so tests run in parallel.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use domain::{
    DeadLetter, EventChannel, EventReport, GatewayId, LatLon, Metric, Observation, Priority,
    SensorId, SensorKind, SensorSpec, StatusChange, Timestamp,
};
use store::{DbConfig, Store};

/// The PostgreSQL address from the environment, or `None` with a note.
pub fn database_url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            eprintln!("SKIPPED: DATABASE_URL not set (PostgreSQL half of the test)");
            None
        }
    }
}

/// A schema name no other test uses.
pub fn unique_schema() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "t_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// A PostgreSQL schema that is dropped by [`PgSchema::drop_now`].
pub struct PgSchema {
    pub url: String,
    pub name: String,
}

impl PgSchema {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            name: unique_schema(),
        }
    }

    pub fn config(&self) -> DbConfig {
        DbConfig {
            url: Some(self.url.clone()),
            schema: Some(self.name.clone()),
            ..DbConfig::default()
        }
    }

    pub async fn drop_now(&self) {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&self.url).await.unwrap();
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.name);
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut c)
            .await
            .unwrap();
    }
}

/// Runs `body` on a fresh SQLite store and, if configured, a fresh PostgreSQL
/// store; `tune` adjusts the configuration of both.
pub async fn each_backend_with<T, F, Fut>(tune: T, body: F)
where
    T: Fn(&mut DbConfig),
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = DbConfig {
        data_dir: dir.path().to_owned(),
        ..DbConfig::default()
    };
    tune(&mut cfg);
    let store = cfg.build().await.expect("SQLite store");
    body(store.clone()).await;
    store.close().await;

    if let Some(url) = database_url() {
        let schema = PgSchema::new(&url);
        let mut cfg = schema.config();
        tune(&mut cfg);
        let store = cfg.build().await.expect("PostgreSQL store");
        body(store.clone()).await;
        store.close().await;
        schema.drop_now().await;
    }
}

/// [`each_backend_with`] and the default configuration.
pub async fn each_backend<F, Fut>(body: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    each_backend_with(|_| {}, body).await;
}

pub fn sid(s: &str) -> SensorId {
    SensorId::new(s).unwrap()
}

pub fn gid(s: &str) -> GatewayId {
    GatewayId::new(s).unwrap()
}

pub fn metric(s: &str) -> Metric {
    Metric::new(s).unwrap()
}

/// A sensor near Helsinki's central station, offset by `dx` degrees east.
pub fn sensor(id: &str, gw: &str, kind: SensorKind, dx: f64) -> SensorSpec {
    SensorSpec {
        id: sid(id),
        kind,
        gateway: gid(gw),
        location: LatLon {
            lat: 60.1710,
            lon: 24.9410 + dx,
        },
        observes: None,
        metrics: vec![metric("flow"), metric("speed")],
    }
}

pub fn obs(sensor: &str, m: &str, ts: i64, value: f64) -> Observation {
    Observation {
        sensor: sid(sensor),
        metric: metric(m),
        ts: Timestamp(ts),
        value,
    }
}

pub fn dead(reason: &str, payload: &[u8], at: i64) -> DeadLetter {
    DeadLetter::new("city/gw1/obs", "native", payload, reason, Timestamp(at))
}

pub fn event(reporter: &str, id: &str, ts: i64) -> EventReport {
    EventReport {
        id: id.to_owned(),
        reporter: sid(reporter),
        channel: EventChannel::App,
        category: "pothole".into(),
        priority: Priority::P3,
        ts: Timestamp(ts),
        location: Some(LatLon {
            lat: 60.17,
            lon: 24.94,
        }),
        text: "deep hole near the tram stop".into(),
    }
}

pub fn status(gw: &str, sensor: Option<&str>, online: bool, ts: i64, reason: &str) -> StatusChange {
    StatusChange {
        gateway: gid(gw),
        sensor: sensor.map(sid),
        online,
        ts: Timestamp(ts),
        reason: reason.into(),
    }
}

/// Registers `s1`, `s2` (gateway `gw1`, traffic) and `a1` (gateway `gw2`, air
/// quality, 0.05 degrees east: another H3 cell at resolution 9).
pub async fn register_default(store: &Store) {
    store
        .upsert_sensors(&[
            sensor("s1", "gw1", SensorKind::TrafficDetector, 0.0),
            sensor("s2", "gw1", SensorKind::TrafficDetector, 0.00001),
            sensor("a1", "gw2", SensorKind::AirQuality, 0.05),
        ])
        .await
        .unwrap();
}

/// A deterministic pseudo-random sequence (64-bit LCG, Knuth's constants).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// Two sensor ids whose observations of `flow` at [`COLLIDING_TS`] have the
/// same `domain::ObsKey` (a collision of its 63-bit FNV-1a hash), found by a
/// distinguished-point collision search over sensor ids `det-` + 11 characters
/// after 5.2 × 10⁹ (about 2³²) hash evaluations.
/// `natural_key::the_pair_really_collides` checks it.
pub const COLLIDING_SENSORS: [&str; 2] = ["det-7nNkTyL4cTG", "det-cHeHGYidgmB"];
/// The timestamp of the colliding pair: 2026-01-01T00:00:00Z.
pub const COLLIDING_TS: i64 = 1_767_225_600_000;

/// The two colliding observations, values 10 and 20.
pub fn colliding_pair() -> (Observation, Observation) {
    (
        obs(COLLIDING_SENSORS[0], "flow", COLLIDING_TS, 10.0),
        obs(COLLIDING_SENSORS[1], "flow", COLLIDING_TS, 20.0),
    )
}

/// Registers the two sensors of [`COLLIDING_SENSORS`] (gateway `gw1`).
pub async fn register_colliding(store: &Store) {
    store
        .upsert_sensors(&[
            sensor(
                COLLIDING_SENSORS[0],
                "gw1",
                SensorKind::TrafficDetector,
                0.001,
            ),
            sensor(
                COLLIDING_SENSORS[1],
                "gw1",
                SensorKind::TrafficDetector,
                0.002,
            ),
        ])
        .await
        .unwrap();
}
