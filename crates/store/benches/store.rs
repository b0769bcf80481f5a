//! Rows per second of `Store::insert_batch` next to raw sqlx peers, measured in
//! the same run on the same database:
//!
//! - `store_insert_batch`: the adapter (observations + minute/hour roll-ups +
//!   sensor activity, one transaction, keys returned).
//! - `store_redelivered`: the same batch again (every row a duplicate).
//! - `raw_multi_row` (SQLite) / `raw_unnest` (PostgreSQL): one bare insert of
//!   the same rows into an identical table (same keys and indexes), no
//!   roll-ups: the floor of the adapter's approach.
//! - `hash_key_multi_row` / `hash_key_unnest`: the same bare insert into the
//!   layout before migration 0003 (hash primary key `obs_key` plus an index on
//!   the natural key), to show what the change of key does to the floor.
//! - `raw_single_row`: one prepared INSERT per row in one transaction, what a
//!   naive writer does.
//! - `copy` (PostgreSQL): `COPY ... FROM STDIN` into the identical table, the
//!   bulk-load limit.
//!
//! Then `count_observations/*`: `Store::count_observations` (the running total)
//! next to `count_observations_exact` (`COUNT(*)`) on the table the insert
//! benches filled.
//!
//! ```text
//! DATABASE_URL=postgres://postgres@127.0.0.1:5432/test cargo bench -p store --bench store
//! ```
//! Without `DATABASE_URL` only SQLite runs.

#![allow(clippy::unwrap_used, clippy::cast_precision_loss)]

use std::hint::black_box;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use domain::{GatewayId, LatLon, Metric, Observation, SensorId, SensorKind, SensorSpec, Timestamp};
use sqlx::{Connection, PgConnection, SqliteConnection};
use store::{Batch, DbConfig, Store};
use tokio::runtime::Runtime;

const SENSORS: usize = 1000;
const SIZES: [usize; 2] = [1_000, 10_000];

/// The peers' table: the layout of `observations` (natural primary key, index
/// on time; SQLite appends `WITHOUT ROWID`, as migration 0003 does).
const RAW_TABLE: &str = "CREATE TABLE bench_raw (
    sensor_id TEXT NOT NULL, metric TEXT NOT NULL, ts_ms BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL, PRIMARY KEY (sensor_id, metric, ts_ms))";
const RAW_INDEX: &str = "CREATE INDEX bench_raw_ts ON bench_raw (ts_ms)";

/// The layout before migration 0003: the 63-bit hash `obs_key` as primary key
/// plus an index on the natural key, kept as a peer to show what the change
/// of key costs or saves.
const HASH_TABLE: &str = "CREATE TABLE bench_hash (
    obs_key BIGINT PRIMARY KEY NOT NULL, sensor_id TEXT NOT NULL, metric TEXT NOT NULL,
    ts_ms BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL);
CREATE INDEX bench_hash_series ON bench_hash (sensor_id, metric, ts_ms);
CREATE INDEX bench_hash_ts ON bench_hash (ts_ms);";

fn sensors() -> Vec<SensorSpec> {
    (0..SENSORS)
        .map(|i| SensorSpec {
            id: SensorId::new(format!("det-{i:04}")).unwrap(),
            kind: SensorKind::TrafficDetector,
            gateway: GatewayId::new(format!("gw-{:02}", i / 50)).unwrap(),
            location: LatLon {
                lat: 60.15 + (i / 40) as f64 * 0.002,
                lon: 24.90 + (i % 40) as f64 * 0.003,
            },
            observes: None,
            metrics: vec![Metric::new("flow").unwrap(), Metric::new("speed").unwrap()],
        })
        .collect()
}

/// A batch of `n` fresh observations: one time step of every sensor, two
/// metrics each, then the next step. Every call moves on in time.
fn fresh_batch(ids: &[SensorId], n: usize) -> Vec<Observation> {
    static STEP: AtomicI64 = AtomicI64::new(0);
    let metrics = [Metric::new("flow").unwrap(), Metric::new("speed").unwrap()];
    let per_step = ids.len() * metrics.len();
    let steps = n.div_ceil(per_step) as i64;
    let first = STEP.fetch_add(steps, Ordering::Relaxed);
    (0..n)
        .map(|k| {
            let step = first + (k / per_step) as i64;
            let s = &ids[(k / 2) % ids.len()];
            Observation {
                sensor: s.clone(),
                metric: metrics[k % 2].clone(),
                ts: Timestamp(1_700_000_000_000 + step * 1000),
                value: (k % 97) as f64,
            }
        })
        .collect()
}

async fn raw_single_sqlite(c: &mut SqliteConnection, rows: &[Observation]) {
    let mut tx = c.begin().await.unwrap();
    for o in rows {
        sqlx::query(
            "INSERT INTO bench_raw (sensor_id, metric, ts_ms, value) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(o.sensor.as_str())
        .bind(o.metric.as_str())
        .bind(o.ts.0)
        .bind(o.value)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn raw_multi_sqlite(c: &mut SqliteConnection, rows: &[Observation]) {
    let mut tx = c.begin().await.unwrap();
    for part in rows.chunks(1000) {
        let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO bench_raw (sensor_id, metric, ts_ms, value) ",
        );
        qb.push_values(part, |mut b, o| {
            b.push_bind(o.sensor.as_str())
                .push_bind(o.metric.as_str())
                .push_bind(o.ts.0)
                .push_bind(o.value);
        });
        qb.push(" ON CONFLICT DO NOTHING");
        qb.build().execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn hash_key_multi_sqlite(c: &mut SqliteConnection, rows: &[Observation]) {
    let mut tx = c.begin().await.unwrap();
    for part in rows.chunks(1000) {
        let mut qb = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO bench_hash (obs_key, sensor_id, metric, ts_ms, value) ",
        );
        qb.push_values(part, |mut b, o| {
            b.push_bind(o.key().0)
                .push_bind(o.sensor.as_str())
                .push_bind(o.metric.as_str())
                .push_bind(o.ts.0)
                .push_bind(o.value);
        });
        qb.push(" ON CONFLICT DO NOTHING");
        qb.build().execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
}

async fn raw_single_pg(c: &mut PgConnection, rows: &[Observation]) {
    let mut tx = c.begin().await.unwrap();
    for o in rows {
        sqlx::query(
            "INSERT INTO bench_raw (sensor_id, metric, ts_ms, value) VALUES ($1, $2, $3, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(o.sensor.as_str())
        .bind(o.metric.as_str())
        .bind(o.ts.0)
        .bind(o.value)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn raw_unnest_pg(c: &mut PgConnection, rows: &[Observation]) {
    let mut tx = c.begin().await.unwrap();
    for part in rows.chunks(1000) {
        sqlx::query(
            "INSERT INTO bench_raw (sensor_id, metric, ts_ms, value) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::float8[]) \
             ON CONFLICT DO NOTHING",
        )
        .bind(part.iter().map(|o| o.sensor.as_str()).collect::<Vec<_>>())
        .bind(part.iter().map(|o| o.metric.as_str()).collect::<Vec<_>>())
        .bind(part.iter().map(|o| o.ts.0).collect::<Vec<_>>())
        .bind(part.iter().map(|o| o.value).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn hash_key_unnest_pg(c: &mut PgConnection, rows: &[Observation]) {
    let mut tx = c.begin().await.unwrap();
    for part in rows.chunks(1000) {
        sqlx::query(
            "INSERT INTO bench_hash (obs_key, sensor_id, metric, ts_ms, value) \
             SELECT * FROM UNNEST($1::int8[], $2::text[], $3::text[], $4::int8[], $5::float8[]) \
             ON CONFLICT DO NOTHING",
        )
        .bind(part.iter().map(|o| o.key().0).collect::<Vec<_>>())
        .bind(part.iter().map(|o| o.sensor.as_str()).collect::<Vec<_>>())
        .bind(part.iter().map(|o| o.metric.as_str()).collect::<Vec<_>>())
        .bind(part.iter().map(|o| o.ts.0).collect::<Vec<_>>())
        .bind(part.iter().map(|o| o.value).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn copy_pg(c: &mut PgConnection, rows: &[Observation]) {
    use std::fmt::Write;
    let mut text = String::with_capacity(rows.len() * 48);
    for o in rows {
        writeln!(text, "{}\t{}\t{}\t{}", o.sensor, o.metric, o.ts.0, o.value).unwrap();
    }
    let mut tx = c.begin().await.unwrap();
    let mut copy = tx
        .copy_in_raw("COPY bench_raw (sensor_id, metric, ts_ms, value) FROM STDIN")
        .await
        .unwrap();
    copy.send(text.as_bytes()).await.unwrap();
    copy.finish().await.unwrap();
    tx.commit().await.unwrap();
}

/// `iters` fresh batches, generated before the clock starts.
fn batches(ids: &[SensorId], n: usize, iters: u64) -> Vec<Vec<Observation>> {
    (0..iters).map(|_| fresh_batch(ids, n)).collect()
}

/// Benchmarks a raw peer `$f(&mut conn, &rows)` over fresh batches.
macro_rules! bench_peer {
    ($g:expr, $rt:expr, $ids:expr, $n:expr, $name:literal, $conn:expr, $f:ident) => {
        $g.bench_with_input(BenchmarkId::new($name, $n), &$n, |b, &n| {
            b.iter_custom(|iters| {
                let all = batches($ids, n, iters);
                $rt.block_on(async {
                    let t0 = Instant::now();
                    for rows in &all {
                        $f(&mut *$conn, rows).await;
                    }
                    t0.elapsed()
                })
            })
        });
    };
}

fn store_benches(c: &mut Criterion, rt: &Runtime, label: &str, store: &Store, peers: &mut Peers) {
    let ids: Vec<SensorId> = sensors().into_iter().map(|s| s.id).collect();
    let mut g = c.benchmark_group(format!("insert_batch/{label}"));
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(6));
    for n in SIZES {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("store_insert_batch", n), &n, |b, &n| {
            b.iter_custom(|iters| {
                let all: Vec<Batch> = batches(&ids, n, iters)
                    .into_iter()
                    .map(|observations| Batch {
                        observations,
                        ..Batch::default()
                    })
                    .collect();
                rt.block_on(async {
                    let t0 = Instant::now();
                    for batch in &all {
                        let s = store.insert_batch(batch).await.unwrap();
                        assert_eq!(s.observations_new, n as u64);
                        black_box(s);
                    }
                    t0.elapsed()
                })
            });
        });
        let again = Batch {
            observations: fresh_batch(&ids, n),
            ..Batch::default()
        };
        rt.block_on(store.insert_batch(&again)).unwrap();
        g.bench_with_input(BenchmarkId::new("store_redelivered", n), &n, |b, &n| {
            b.iter(|| {
                let s = rt.block_on(store.insert_batch(&again)).unwrap();
                assert_eq!(s.observations_duplicate, n as u64);
                black_box(s)
            });
        });
        match peers {
            Peers::Sqlite(conn) => {
                bench_peer!(g, rt, &ids, n, "raw_multi_row", conn, raw_multi_sqlite);
                bench_peer!(
                    g,
                    rt,
                    &ids,
                    n,
                    "hash_key_multi_row",
                    conn,
                    hash_key_multi_sqlite
                );
                bench_peer!(g, rt, &ids, n, "raw_single_row", conn, raw_single_sqlite);
            }
            Peers::Postgres(conn) => {
                bench_peer!(g, rt, &ids, n, "raw_unnest", conn, raw_unnest_pg);
                bench_peer!(g, rt, &ids, n, "hash_key_unnest", conn, hash_key_unnest_pg);
                bench_peer!(g, rt, &ids, n, "copy", conn, copy_pg);
                bench_peer!(g, rt, &ids, n, "raw_single_row", conn, raw_single_pg);
            }
        }
    }
    g.finish();

    // Reading the number of stored rows, now that the table holds every row
    // written above: the running total next to COUNT(*) over the table.
    let rows = rt.block_on(store.count_observations_exact()).unwrap();
    let mut g = c.benchmark_group(format!("count_observations/{label}"));
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Elements(1));
    g.bench_function(BenchmarkId::new("running_total", rows), |b| {
        b.iter(|| assert_eq!(rt.block_on(store.count_observations()).unwrap(), rows));
    });
    g.bench_function(BenchmarkId::new("count_star", rows), |b| {
        b.iter(|| assert_eq!(rt.block_on(store.count_observations_exact()).unwrap(), rows));
    });
    g.finish();
}

enum Peers {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

fn benches(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();

    // SQLite: a temporary file, WAL + synchronous=NORMAL for the store and the peers
    let dir = tempfile::tempdir().unwrap();
    let store = rt
        .block_on(
            DbConfig {
                data_dir: dir.path().to_owned(),
                ..DbConfig::default()
            }
            .build(),
        )
        .unwrap();
    rt.block_on(store.upsert_sensors(&sensors())).unwrap();
    let file = dir.path().join(store::DEFAULT_SQLITE_FILE);
    let mut peer = rt
        .block_on(SqliteConnection::connect(&format!(
            "sqlite://{}?mode=rwc",
            file.display()
        )))
        .unwrap();
    rt.block_on(async {
        sqlx::raw_sql("PRAGMA synchronous = NORMAL")
            .execute(&mut peer)
            .await
            .unwrap();
        let setup = format!("{RAW_TABLE} WITHOUT ROWID; {RAW_INDEX}; {HASH_TABLE}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(setup))
            .execute(&mut peer)
            .await
            .unwrap();
    });
    let mut peers = Peers::Sqlite(peer);
    store_benches(c, &rt, "sqlite", &store, &mut peers);
    rt.block_on(store.close());

    let Ok(url) = std::env::var("DATABASE_URL") else {
        eprintln!("SKIPPED: DATABASE_URL not set (PostgreSQL benches)");
        return;
    };
    let schema = format!("bench_{}", std::process::id());
    let store = rt
        .block_on(
            DbConfig {
                url: Some(url.clone()),
                schema: Some(schema.clone()),
                ..DbConfig::default()
            }
            .build(),
        )
        .unwrap();
    rt.block_on(store.upsert_sensors(&sensors())).unwrap();
    let mut peer = rt.block_on(PgConnection::connect(&url)).unwrap();
    rt.block_on(async {
        let setup = format!("SET search_path = {schema}; {RAW_TABLE}; {RAW_INDEX}; {HASH_TABLE}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(setup))
            .execute(&mut peer)
            .await
            .unwrap();
    });
    let mut peers = Peers::Postgres(peer);
    store_benches(c, &rt, "postgres", &store, &mut peers);
    rt.block_on(async {
        store.close().await;
        if let Peers::Postgres(mut peer) = peers {
            let drop = format!("DROP SCHEMA {schema} CASCADE");
            sqlx::raw_sql(sqlx::AssertSqlSafe(drop))
                .execute(&mut peer)
                .await
                .unwrap();
        }
    });
}

criterion_group!(store_benches_group, benches);
criterion_main!(store_benches_group);
