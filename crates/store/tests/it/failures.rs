//! Outages and faults: what is retryable, and that the store recovers.

use std::time::Duration;

use sqlx::Connection;
use store::{Batch, DbConfig, Error};

use crate::support::*;

#[tokio::test]
async fn the_default_config_opens_a_wal_sqlite_file_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("nested").join("data");
    let store = DbConfig {
        data_dir: data_dir.clone(),
        ..DbConfig::default()
    }
    .build()
    .await
    .unwrap();
    assert_eq!(store.backend(), store::Backend::Sqlite);
    let file = data_dir.join(store::DEFAULT_SQLITE_FILE);
    assert!(file.exists());
    store.close().await;
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    // building again on the same file is a no-op migration
    let again = DbConfig {
        url: Some(format!("sqlite://{}", file.display())),
        ..DbConfig::default()
    }
    .build()
    .await
    .unwrap();
    assert_eq!(again.count_observations().await.unwrap(), 0);
}

#[tokio::test]
async fn an_unreachable_server_is_a_retryable_connect_error() {
    let err = DbConfig {
        // port 1 (tcpmux) is closed on any sane machine: connection refused
        url: Some("postgres://postgres@127.0.0.1:1/none".into()),
        acquire_timeout_secs: 2,
        ..DbConfig::default()
    }
    .build()
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn a_busy_sqlite_database_is_retryable_and_the_batch_goes_through_later() {
    let dir = tempfile::tempdir().unwrap();
    let store = DbConfig {
        data_dir: dir.path().to_owned(),
        sqlite_busy_timeout_ms: 50,
        ..DbConfig::default()
    }
    .build()
    .await
    .unwrap();
    register_default(&store).await;
    let file = dir.path().join(store::DEFAULT_SQLITE_FILE);
    let mut other = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    let batch = Batch {
        observations: vec![obs("s1", "flow", 1, 1.0)],
        dead_letters: vec![dead("x", b"x", 1)],
        ..Batch::default()
    };
    let err = store.insert_batch(&batch).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    let s = store.insert_batch(&batch).await.unwrap();
    assert_eq!((s.observations_new, s.dead_letters), (1, 1));
}

#[tokio::test]
async fn an_edited_migration_is_refused_and_not_retryable() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = DbConfig {
        data_dir: dir.path().to_owned(),
        ..DbConfig::default()
    };
    cfg.clone().build().await.unwrap().close().await;
    let file = dir.path().join(store::DEFAULT_SQLITE_FILE);
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 1")
        .execute(&mut c)
        .await
        .unwrap();
    let err = cfg.build().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Migrate {
                backend: "sqlite",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());

    let Some(url) = database_url() else { return };
    let schema = PgSchema::new(&url);
    schema.config().build().await.unwrap().close().await;
    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
    let sql = format!(
        "UPDATE \"{}\"._sqlx_migrations SET checksum = '\\x00' WHERE version = 1",
        schema.name
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .execute(&mut c)
        .await
        .unwrap();
    let err = schema.config().build().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Migrate {
                backend: "postgres",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    schema.drop_now().await;
}

/// `url` with an `application_name`, so the test can find its own backends.
fn tagged(url: &str, name: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}application_name={name}")
}

#[tokio::test]
async fn terminated_postgres_sessions_are_retryable_and_the_pool_reconnects() {
    let Some(url) = database_url() else { return };
    // a session killed by the server reports SQLSTATE 57P01 (admin shutdown)
    let mut victim = sqlx::PgConnection::connect(&url).await.unwrap();
    let source = sqlx::query("SELECT pg_terminate_backend(pg_backend_pid())")
        .execute(&mut victim)
        .await
        .unwrap_err();
    let err = Error::Query { op: "test", source };
    assert!(err.is_retryable(), "{err:?}");

    // a data error (division by zero) from the same server is not retryable
    let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
    let source = sqlx::query("SELECT 1/0").execute(&mut c).await.unwrap_err();
    assert!(!Error::Query { op: "test", source }.is_retryable());

    let schema = PgSchema::new(&url);
    let store = DbConfig {
        url: Some(tagged(&url, &schema.name)),
        ..schema.config()
    }
    .build()
    .await
    .unwrap();
    register_default(&store).await;
    store
        .insert_batch(&Batch {
            observations: vec![obs("s1", "flow", 1, 1.0)],
            ..Batch::default()
        })
        .await
        .unwrap();
    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
    )
    .bind(&schema.name)
    .fetch_all(&mut c)
    .await
    .unwrap();
    assert!(!killed.is_empty());
    // the pool notices the dead sessions and opens new ones
    let s = store
        .insert_batch(&Batch {
            observations: vec![obs("s1", "flow", 2, 2.0)],
            ..Batch::default()
        })
        .await
        .unwrap();
    assert_eq!(s.observations_new, 1);
    assert_eq!(store.count_observations().await.unwrap(), 2);
    store.close().await;
    schema.drop_now().await;
}

fn pg_ctl(action: &str) {
    let version = std::fs::read_dir("/etc/postgresql")
        .expect("a Debian PostgreSQL cluster")
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    let status = std::process::Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect"])
        .arg(&version)
        .args(["main", action])
        .status()
        .expect("pg_ctlcluster");
    assert!(status.success(), "pg_ctlcluster {action}");
}

/// Stops and restarts the local PostgreSQL cluster, which disrupts every other
/// client, so it only runs on demand:
///
/// ```text
/// DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
///   cargo test -p store --test it -- --ignored --test-threads 1 postgres_restart
/// ```
#[tokio::test]
#[ignore = "restarts the PostgreSQL cluster (pg_ctlcluster); run on demand"]
async fn the_store_survives_a_postgres_restart() {
    let Some(url) = database_url() else { return };
    let schema = PgSchema::new(&url);
    let store = DbConfig {
        acquire_timeout_secs: 2,
        ..schema.config()
    }
    .build()
    .await
    .unwrap();
    register_default(&store).await;
    let batch = |ts: i64| Batch {
        observations: vec![obs("s1", "flow", ts, 1.0)],
        ..Batch::default()
    };
    store.insert_batch(&batch(1)).await.unwrap();

    pg_ctl("stop");
    let err = store.insert_batch(&batch(2)).await.unwrap_err();
    let outage_retryable = err.is_retryable();
    pg_ctl("start");
    assert!(outage_retryable, "during the outage: {err:?}");

    // the writer's loop: retry with back-off until the server accepts
    let mut tries = 0;
    let stats = loop {
        match store.insert_batch(&batch(2)).await {
            Ok(s) => break s,
            Err(e) if e.is_retryable() && tries < 30 => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("not recovered after {tries} tries: {e:?}"),
        }
    };
    assert_eq!(stats.observations_new, 1);
    assert_eq!(store.count_observations().await.unwrap(), 2);
    store.close().await;
    schema.drop_now().await;
}
