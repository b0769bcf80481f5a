//! The infrastructure of a phase: which broker and store, the `citybrain
//! serve` environment, bringing them up fresh for every phase (no session or
//! backlog carries over) and tearing them down (the PostgreSQL schema is
//! dropped), and the probe that shows the server's ingest is subscribed.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use testkit::services::Mosquitto;

use crate::mqtt::now_ms;
use crate::server::{Citybrain, write_secret};
use crate::{procfs, workload};

/// The server's count of durably committed new observations.
pub const STORED: &str = "citybrain_observations_stored_total";

/// Which broker carries the load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BrokerKind {
    /// rumqttd inside `citybrain`.
    Embedded,
    /// A private Mosquitto (`max_queued_messages 0`), started per phase.
    Mosquitto,
}

/// Where `citybrain` stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DbKind {
    /// A SQLite file in the server's data folder.
    Sqlite,
    /// A fresh schema in `DATABASE_URL`, dropped afterwards.
    Postgres,
}

/// The two phases of a repetition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The bare subscriber drains.
    Bare,
    /// `citybrain serve` ingests durably.
    Serve,
}

impl Phase {
    /// Its name in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Bare => "bare",
            Phase::Serve => "serve",
        }
    }
}

/// Everything a phase needs.
#[derive(Debug, Clone)]
pub struct Setup {
    /// Broker.
    pub broker: BrokerKind,
    /// Store.
    pub db: DbKind,
    /// Measured window.
    pub window: Duration,
    /// Publishing before the window (excluded).
    pub warmup: Duration,
    /// Publisher connections (one gateway each).
    pub publishers: usize,
    /// Observations per message.
    pub batch: usize,
    /// Total observations/s; 0 = flat out.
    pub rate: f64,
    /// Lead window, observations.
    pub lead: u64,
    /// Synthetic city seed.
    pub seed: u64,
    /// Synthetic city grid side.
    pub grid: u32,
    /// Receive maximum of the bare subscriber (and `[mqtt] inflight` of ingest).
    pub inflight: u16,
    /// `citybrain` binary.
    pub bin: PathBuf,
    /// PostgreSQL URL (for `DbKind::Postgres`).
    pub database_url: Option<String>,
    /// Keep the phase folders (logs, SQLite files).
    pub keep: bool,
    /// A command run during the serve window (`{pid}`, `{seconds}` replaced).
    pub attach: Option<String>,
}

/// What one phase runs on.
pub struct Infra {
    pub dir: tempfile::TempDir,
    pub mosquitto: Option<Mosquitto>,
    pub mosquitto_pid: Option<u32>,
    pub server: Option<Citybrain>,
    pub schema: Option<String>,
    /// (host, MQTT 3.1.1 port for publishers, MQTT 5 port for subscribers)
    pub ports: (String, u16, u16),
    pub secret: Option<String>,
}

/// A name unique to this process and moment.
pub fn unique(prefix: &str) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}_{}_{}", std::process::id(), t % 1_000_000_000)
}

fn server_env(setup: &Setup, phase: Phase, infra: &Infra, client: &str) -> Vec<(String, String)> {
    let mut env: Vec<(&str, String)> = vec![
        ("CITYBRAIN__CITY__SOURCE", "synthetic".into()),
        ("CITYBRAIN__CITY__SEED", setup.seed.to_string()),
        ("CITYBRAIN__CITY__SYNTHETIC_GRID_X", setup.grid.to_string()),
        ("CITYBRAIN__CITY__SYNTHETIC_GRID_Y", setup.grid.to_string()),
        ("CITYBRAIN__SIMULATORS__ENABLED", "false".into()),
        ("CITYBRAIN__HTTP__PORT", "0".into()),
        ("CITYBRAIN__MQTT__CLIENT_ID", client.into()),
        ("CITYBRAIN__MQTT__INFLIGHT", setup.inflight.to_string()),
        ("CITYBRAIN__DB__DATA_DIR", "data".into()),
    ];
    match setup.broker {
        BrokerKind::Embedded => {
            env.push(("CITYBRAIN__BROKER__ENABLED", "true".into()));
            env.push(("CITYBRAIN__BROKER__PORT", "0".into()));
            env.push(("CITYBRAIN__BROKER__V4_PORT", "0".into()));
        }
        BrokerKind::Mosquitto => {
            env.push(("CITYBRAIN__BROKER__ENABLED", "false".into()));
            env.push((
                "CITYBRAIN__MQTT__URL",
                format!("mqtt://127.0.0.1:{}", infra.ports.1),
            ));
        }
    }
    if phase == Phase::Bare {
        env.push(("CITYBRAIN__MQTT__TOPICS", r#"["none/#"]"#.into()));
    }
    if let (DbKind::Postgres, Some(url), Some(schema)) =
        (setup.db, &setup.database_url, &infra.schema)
    {
        env.push(("CITYBRAIN__DB__URL", url.clone()));
        env.push(("CITYBRAIN__DB__SCHEMA", schema.clone()));
    }
    env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// Starts a fresh broker (and server) for one phase.
pub fn bring_up(setup: &Setup, phase: Phase, client: &str) -> Result<Infra, String> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("ingest-load-{}-", phase.as_str()))
        .tempdir()
        .map_err(|e| format!("temp dir: {e}"))?;
    let mut infra = Infra {
        dir,
        mosquitto: None,
        mosquitto_pid: None,
        server: None,
        schema: None,
        ports: ("127.0.0.1".into(), 0, 0),
        secret: None,
    };
    if setup.broker == BrokerKind::Mosquitto {
        let me = std::process::id();
        let before = procfs::children_named(me, "mosquitto");
        let m = Mosquitto::start().ok_or("mosquitto is not installed")?;
        infra.mosquitto_pid = procfs::children_named(me, "mosquitto")
            .into_iter()
            .find(|p| !before.contains(p));
        infra.ports = ("127.0.0.1".into(), m.port, m.port);
        infra.mosquitto = Some(m);
    }
    let needs_server = phase == Phase::Serve || setup.broker == BrokerKind::Embedded;
    if needs_server {
        if setup.broker == BrokerKind::Embedded {
            infra.secret = Some(write_secret(&infra.dir.path().join("data"), setup.seed)?);
        }
        if setup.db == DbKind::Postgres && phase == Phase::Serve {
            if setup.database_url.is_none() {
                return Err("--db postgres needs DATABASE_URL (or --database-url)".into());
            }
            infra.schema = Some(unique("ingest_load"));
        }
        let env = server_env(setup, phase, &infra, client);
        let s = Citybrain::start(&setup.bin, infra.dir.path(), &env)?;
        eprintln!(
            "  citybrain pid {} (http {}) in {}",
            s.pid,
            s.http,
            infra.dir.path().display()
        );
        if setup.broker == BrokerKind::Embedded {
            let v5 = s.mqtt_port.ok_or("the embedded broker reported no port")?;
            let v4 = s
                .mqtt_v4_port
                .ok_or("the embedded broker reported no v4 port")?;
            infra.ports = ("127.0.0.1".into(), v4, v5);
        }
        infra.server = Some(s);
    }
    Ok(infra)
}

/// Drops a PostgreSQL schema made for one phase (best effort: a leftover
/// schema only costs disk).
pub async fn drop_schema(url: &str, schema: &str) {
    use sqlx::Connection as _;
    if let Ok(mut c) = sqlx::PgConnection::connect(url).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"
        )))
        .execute(&mut c)
        .await;
    }
}

/// Stops everything `bring_up` started and drops the schema.
pub async fn tear_down(setup: &Setup, infra: Infra) {
    if let Some(s) = infra.server {
        s.stop();
    }
    drop(infra.mosquitto);
    if let (Some(url), Some(schema)) = (&setup.database_url, &infra.schema) {
        drop_schema(url, schema).await;
    }
    if setup.keep {
        let kept = infra.dir.keep();
        eprintln!("  kept {}", kept.display());
    }
}

/// Waits until the server's ingest is subscribed: publishes a probe message
/// from the first gateway until it is stored. Returns the stored count.
pub async fn probe(
    server: &Citybrain,
    infra: &Infra,
    gw: &mut workload::Gateway,
    creds: Option<(String, String)>,
    batch: usize,
    client: &str,
) -> Result<u64, String> {
    let mut o = rumqttc::MqttOptions::new(client, infra.ports.0.clone(), infra.ports.1);
    o.set_max_packet_size(1 << 20, 1 << 20);
    if let Some((u, p)) = creds {
        o.set_credentials(u, p);
    }
    let (c, mut el) = rumqttc::AsyncClient::new(o, 10);
    let poller = tokio::spawn(async move {
        loop {
            if el.poll().await.is_err() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut result = Err("the server stored no probe within 60 s".to_owned());
    'outer: while Instant::now() < deadline {
        let m = gw.message(now_ms(), batch);
        let _ = c
            .publish(gw.topic(), rumqttc::QoS::AtLeastOnce, false, m.payload)
            .await;
        let retry = Instant::now() + Duration::from_secs(5);
        while Instant::now() < retry {
            tokio::time::sleep(Duration::from_millis(100)).await;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let stored = e2e::metric_value(&server.metrics(), STORED, "") as u64;
            if stored >= batch as u64 {
                result = Ok(stored);
                break 'outer;
            }
        }
    }
    let _ = c.try_disconnect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    poller.abort();
    // let a late duplicate probe land before the baseline is taken
    tokio::time::sleep(Duration::from_millis(500)).await;
    result?;
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(e2e::metric_value(&server.metrics(), STORED, "") as u64)
}
