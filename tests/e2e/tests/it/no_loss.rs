//! Acceptance: no loss. QoS 1 observations are published while the ingest
//! process is killed with SIGKILL three times and restarted, the broker is
//! restarted once and PostgreSQL is restarted once; afterwards the stored count
//! equals the published count, with zero duplicates.
//!
//! It restarts the machine's PostgreSQL, so it is `#[ignore]`d and run on its
//! own by `.ci/run`:
//! `E2E_NO_LOSS_OBS=200000 cargo test -p e2e --test it -- --ignored --test-threads 1 no_loss`
//! (CI uses 30,000 observations; the full run of 200,000 is in docs/benchmarks/ingest.md).

use std::time::{Duration, Instant};

use e2e::Server;
use e2e::publish::Publisher;
use testkit::services::{Mosquitto, database_url};

use crate::common::{self, DbTarget};

fn restart_postgres() {
    let version = std::fs::read_dir("/etc/postgresql")
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .expect("a PostgreSQL cluster under /etc/postgresql");
    let status = std::process::Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version, "main", "restart"])
        .status()
        .expect("pg_ctlcluster runs");
    assert!(status.success(), "PostgreSQL restart failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "restarts the machine's PostgreSQL; run alone (see module docs)"]
async fn no_loss_through_three_ingest_kills_a_broker_restart_and_a_database_restart() {
    let Some(db_url) = database_url() else { return };
    let Some(mut broker) = Mosquitto::start() else {
        return;
    };
    let total: usize = std::env::var("E2E_NO_LOSS_OBS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30_000);
    let per_msg = 50;
    let schema = common::unique_schema("e2e_noloss");
    let db = DbTarget::Postgres {
        url: &db_url,
        schema: &schema,
    };
    let dir = tempfile::tempdir().unwrap();
    let env = common::serve_env(broker.port, "e2e-noloss-ingest", db);
    let dirp = dir.path().to_owned();
    let mut server =
        tokio::task::spawn_blocking(move || Server::start(&dirp, &["serve"], &env, common::START))
            .await
            .unwrap();

    let reg = common::registry();
    let messages = common::native_messages(
        &reg,
        total / per_msg,
        per_msg,
        common::now_ms() - i64::try_from(total).unwrap(),
    );
    let n = messages.len();
    let mut p = Publisher::connect("127.0.0.1", broker.port, "e2e-noloss-gateway", None);
    let started = Instant::now();
    let mut events = Vec::new();
    for (i, m) in messages.into_iter().enumerate() {
        let f = i * 20 / n; // twentieths of the run
        match (i * 20 % n < 20, f) {
            (true, 3 | 7 | 11) => {
                server.kill9();
                events.push(format!("{:?} ingest SIGKILL at {i}", started.elapsed()));
                tokio::time::sleep(Duration::from_millis(300)).await;
                server = tokio::task::spawn_blocking(move || {
                    server.restart(common::START);
                    server
                })
                .await
                .unwrap();
            }
            (true, 14) => {
                broker.restart();
                events.push(format!("{:?} broker restart at {i}", started.elapsed()));
            }
            (true, 17) => {
                tokio::task::spawn_blocking(restart_postgres).await.unwrap();
                events.push(format!("{:?} PostgreSQL restart at {i}", started.elapsed()));
            }
            _ => {}
        }
        p.publish(&m.topic, m.payload).await;
        // pace the gateway so the disruptions land mid-stream
        if i % 20 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    assert!(
        p.wait_acked(Duration::from_secs(120)).await,
        "broker did not acknowledge every message; events: {events:?}"
    );

    let store = common::open_store(dir.path(), db).await;
    let deadline = Instant::now() + Duration::from_secs(180);
    let stored = loop {
        let c = store.count_observations().await.unwrap_or(0);
        if c as usize >= total || Instant::now() > deadline {
            break c;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    eprintln!("no-loss run: published {total} observations in {n} messages; events: {events:#?}");
    assert_eq!(
        stored as usize,
        total,
        "stored != published; events: {events:?}\nlog:\n{}",
        server.log()
    );
    // no duplicates: every stored row is one of the published keys, and the
    // per-sensor counters (kept from inserted rows only) add up to the same total
    let per_sensor: u64 = store
        .sensor_status()
        .await
        .unwrap()
        .iter()
        .map(|s| s.observations_total)
        .sum();
    assert_eq!(
        per_sensor as usize, total,
        "per-sensor counters disagree: duplicates were counted"
    );
    drop(server);
    p.close().await;
    drop_schema(&db_url, &schema).await;
}

/// Removes a test schema.
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
