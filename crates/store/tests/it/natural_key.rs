//! Observations are unique on their natural key `(sensor, metric, ts)`, not on
//! the 63-bit `domain::ObsKey` hash: two different observations whose hashes
//! collide are both stored, and a database created before migration 0003 (hash
//! primary key) is upgraded in place with its rows, counters and roll-ups.

use std::path::PathBuf;

use domain::{ObsKey, Observation, SensorKind, Timestamp};
use h3o::{LatLng, Resolution as H3Res};
use sqlx::migrate::Migrator;
use sqlx::{AssertSqlSafe, Connection};
use store::{Batch, DbConfig, Resolution, Rollup, RollupTarget, Store};

use crate::support::*;

fn batch(observations: Vec<Observation>) -> Batch {
    Batch {
        observations,
        ..Batch::default()
    }
}

#[test]
fn the_pair_really_collides() {
    let (a, b) = colliding_pair();
    assert_ne!(a.sensor, b.sensor);
    assert_eq!(a.key(), b.key());
}

#[tokio::test]
async fn observations_whose_hashes_collide_are_both_stored_across_batches() {
    each_backend(|store| async move {
        register_colliding(&store).await;
        let (a, b) = colliding_pair();
        let s = store.insert_batch(&batch(vec![a.clone()])).await.unwrap();
        assert_eq!((s.observations_new, s.observations_duplicate), (1, 0));
        let s = store.insert_batch(&batch(vec![b, a])).await.unwrap();
        assert_eq!((s.observations_new, s.observations_duplicate), (1, 1));
        check_both_stored(&store).await;
    })
    .await;
}

#[tokio::test]
async fn observations_whose_hashes_collide_are_both_stored_within_a_batch() {
    each_backend(|store| async move {
        register_colliding(&store).await;
        let (a, b) = colliding_pair();
        let rows = vec![a.clone(), b.clone(), a.clone(), b.clone()];
        let s = store.insert_batch(&batch(rows)).await.unwrap();
        assert_eq!((s.observations_new, s.observations_duplicate), (2, 2));
        // a redelivery stores nothing
        let s = store.insert_batch(&batch(vec![b, a])).await.unwrap();
        assert_eq!((s.observations_new, s.observations_duplicate), (0, 2));
        check_both_stored(&store).await;
    })
    .await;
}

/// Both observations of the pair are stored once, each with its own roll-ups
/// and sensor counters.
async fn check_both_stored(store: &Store) {
    let (a, b) = colliding_pair();
    assert_eq!(store.count_observations().await.unwrap(), 2);
    for o in [&a, &b] {
        let next = Timestamp(o.ts.0 + 1);
        let got = store
            .observations(&o.sensor, &o.metric, o.ts, next, 10)
            .await
            .unwrap();
        assert_eq!(got, vec![o.clone()]);
        for res in Resolution::ALL {
            let target = RollupTarget::Sensor(o.sensor.clone());
            let r = store
                .rollups(&target, &o.metric, res, o.ts, next)
                .await
                .unwrap();
            assert_eq!(r.len(), 1, "{res:?}");
            assert_eq!(
                (r[0].count, r[0].sum, r[0].last_ts, r[0].last),
                (1, o.value, o.ts, o.value),
                "{res:?}"
            );
        }
    }
    let status = store.sensor_status().await.unwrap();
    for id in COLLIDING_SENSORS {
        let s = status.iter().find(|s| s.sensor.as_str() == id).unwrap();
        assert_eq!(s.observations_total, 1, "{id}");
        assert_eq!(s.last_seen, Some(Timestamp(COLLIDING_TS)), "{id}");
    }
}

/// The start of `ts`'s bucket of `width` ms.
fn floor(ts: i64, width: i64) -> i64 {
    ts - ts.rem_euclid(width)
}

/// Rows as the store wrote them at schema version 2: three `s1` flow readings
/// and the first observation of the colliding pair, each under its `obs_key`,
/// with the sensor counters and roll-ups that went with them.
fn v2_rows() -> String {
    let t0 = COLLIDING_TS;
    let (a, _) = colliding_pair();
    let mut sql = String::from("INSERT INTO gateways (id, name) VALUES ('gw1', 'gw1');\n");
    for (id, dx) in [
        ("s1", 0.0),
        (COLLIDING_SENSORS[0], 0.001),
        (COLLIDING_SENSORS[1], 0.002),
    ] {
        let (lat, lon) = (60.1710, 24.9410 + dx);
        let cell = LatLng::new(lat, lon).unwrap().to_cell(H3Res::Fifteen);
        sql += &format!(
            "INSERT INTO sensors (id, kind, gateway_id, lat, lon, cell, metrics) VALUES \
             ('{id}', '{}', 'gw1', {lat}, {lon}, {}, '[\"flow\",\"speed\"]');\n",
            SensorKind::TrafficDetector.as_str(),
            u64::from(cell) as i64,
        );
    }
    let old = [
        obs("s1", "flow", t0, 1.0),
        obs("s1", "flow", t0 + 1000, 2.0),
        obs("s1", "flow", t0 + 2000, 3.0),
        a.clone(),
    ];
    for o in &old {
        sql += &format!(
            "INSERT INTO observations (obs_key, sensor_id, metric, ts_ms, value) \
             VALUES ({}, '{}', '{}', {}, {});\n",
            o.key().0,
            o.sensor,
            o.metric,
            o.ts.0,
            o.value
        );
    }
    sql += &format!(
        "INSERT INTO sensor_status (sensor_id, last_seen_ms, obs_total) \
         VALUES ('s1', {}, 3), ('{}', {}, 1);\n",
        t0 + 2000,
        a.sensor,
        a.ts.0
    );
    for (table, width) in [("rollup_minute", 60_000), ("rollup_hour", 3_600_000)] {
        sql += &format!(
            "INSERT INTO {table} (sensor_id, metric, bucket_ms, cnt, sum, min, max, \
             last_ts_ms, last_value) VALUES \
             ('s1', 'flow', {}, 3, 6, 1, 3, {}, 3), ('{}', 'flow', {}, 1, 10, 10, 10, {}, 10);\n",
            floor(t0, width),
            t0 + 2000,
            a.sensor,
            floor(a.ts.0, width),
            a.ts.0
        );
    }
    sql
}

/// The statement the store used before migration 0003, for the second
/// observation of the colliding pair.
fn v2_insert_of_the_colliding_twin() -> String {
    let (_, b) = colliding_pair();
    format!(
        "INSERT INTO observations (obs_key, sensor_id, metric, ts_ms, value) \
         VALUES ({}, '{}', 'flow', {}, {}) ON CONFLICT (obs_key) DO NOTHING",
        b.key().0,
        b.sensor,
        b.ts.0,
        b.value
    )
}

/// The migration folder of a backend (the embedded migrations are the same
/// files: `migrate::tests::every_migration_file_is_embedded`).
async fn migrations_up_to_v2(backend: &str) -> Migrator {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let m = Migrator::new(dir).await.unwrap();
    assert!(m.iter().any(|m| m.version == 2));
    m
}

#[tokio::test]
async fn a_database_at_version_2_is_upgraded_with_its_rows() {
    // SQLite: a file at version 2, then the store opens it and migrates
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(store::DEFAULT_SQLITE_FILE);
    {
        let mut c =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", file.display()))
                .await
                .unwrap();
        migrations_up_to_v2("sqlite")
            .await
            .run_to(2, &mut c)
            .await
            .unwrap();
        sqlx::raw_sql(AssertSqlSafe(v2_rows()))
            .execute(&mut c)
            .await
            .unwrap();
        // the hash key drops the second observation of the pair
        let n = sqlx::query(AssertSqlSafe(v2_insert_of_the_colliding_twin()))
            .execute(&mut c)
            .await
            .unwrap()
            .rows_affected();
        assert_eq!(n, 0, "at version 2 the colliding observation is dropped");
        c.close().await.unwrap();
    }
    let store = DbConfig {
        data_dir: dir.path().to_owned(),
        ..DbConfig::default()
    }
    .build()
    .await
    .unwrap();
    check_upgraded(&store).await;
    store.close().await;

    // PostgreSQL: a schema at version 2
    let Some(url) = database_url() else { return };
    let schema = PgSchema::new(&url);
    {
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        let setup = format!(
            "CREATE SCHEMA \"{0}\"; SET search_path TO \"{0}\"",
            schema.name
        );
        sqlx::raw_sql(AssertSqlSafe(setup))
            .execute(&mut c)
            .await
            .unwrap();
        migrations_up_to_v2("postgres")
            .await
            .run_to(2, &mut c)
            .await
            .unwrap();
        sqlx::raw_sql(AssertSqlSafe(v2_rows()))
            .execute(&mut c)
            .await
            .unwrap();
        let n = sqlx::query(AssertSqlSafe(v2_insert_of_the_colliding_twin()))
            .execute(&mut c)
            .await
            .unwrap()
            .rows_affected();
        assert_eq!(n, 0, "at version 2 the colliding observation is dropped");
        c.close().await.unwrap();
    }
    let store = schema.config().build().await.unwrap();
    check_upgraded(&store).await;
    store.close().await;
    schema.drop_now().await;
}

/// After the upgrade: the old rows are there, the natural key rejects their
/// redelivery, the colliding twin is stored, and new rows merge into the old
/// roll-ups and counters.
async fn check_upgraded(store: &Store) {
    let t0 = COLLIDING_TS;
    let (a, b) = colliding_pair();
    // the running total starts from the rows already there
    assert_eq!(store.count_observations().await.unwrap(), 4);
    assert_eq!(store.count_observations_exact().await.unwrap(), 4);
    let s1 = store
        .observations(
            &sid("s1"),
            &metric("flow"),
            Timestamp(0),
            Timestamp(t0 + 60_000),
            10,
        )
        .await
        .unwrap();
    assert_eq!(
        s1.iter().map(|o| (o.ts.0, o.value)).collect::<Vec<_>>(),
        [(t0, 1.0), (t0 + 1000, 2.0), (t0 + 2000, 3.0)]
    );

    let s = store
        .insert_batch(&batch(vec![
            b.clone(),
            obs("s1", "flow", t0 + 3000, 4.0),
            // redelivered old rows, one with another value: the stored one stays
            obs("s1", "flow", t0 + 1000, 99.0),
            a.clone(),
        ]))
        .await
        .unwrap();
    assert_eq!((s.observations_new, s.observations_duplicate), (2, 2));
    assert_eq!(store.count_observations().await.unwrap(), 6);
    assert_eq!(store.count_observations_exact().await.unwrap(), 6);
    for o in [&a, &b] {
        let got = store
            .observations(&o.sensor, &o.metric, o.ts, Timestamp(o.ts.0 + 1), 10)
            .await
            .unwrap();
        assert_eq!(got, vec![o.clone()]);
    }
    let second = store
        .observations(
            &sid("s1"),
            &metric("flow"),
            Timestamp(t0 + 1000),
            Timestamp(t0 + 1001),
            10,
        )
        .await
        .unwrap();
    assert_eq!(second[0].value, 2.0);

    for (res, width) in [(Resolution::Minute, 60_000), (Resolution::Hour, 3_600_000)] {
        let got = store
            .rollups(
                &RollupTarget::Sensor(sid("s1")),
                &metric("flow"),
                res,
                Timestamp(t0),
                Timestamp(t0 + 1),
            )
            .await
            .unwrap();
        let want = Rollup {
            bucket: Timestamp(floor(t0, width)),
            count: 4,
            sum: 10.0,
            min: 1.0,
            max: 4.0,
            last_ts: Timestamp(t0 + 3000),
            last: 4.0,
        };
        assert_eq!(got, vec![want], "{res:?}");
    }
    let status = store.sensor_status().await.unwrap();
    let total = |id: &str| {
        status
            .iter()
            .find(|s| s.sensor.as_str() == id)
            .map(|s| (s.observations_total, s.last_seen))
            .unwrap()
    };
    assert_eq!(total("s1"), (4, Some(Timestamp(t0 + 3000))));
    assert_eq!(total(COLLIDING_SENSORS[0]), (1, Some(Timestamp(t0))));
    assert_eq!(total(COLLIDING_SENSORS[1]), (1, Some(Timestamp(t0))));
    // the natural key is what the roll-up rebuild reads, too
    store.refresh_rollups(Timestamp(0)).await.unwrap();
    let rebuilt = store
        .rollups(
            &RollupTarget::Sensor(sid("s1")),
            &metric("flow"),
            Resolution::Minute,
            Timestamp(t0),
            Timestamp(t0 + 1),
        )
        .await
        .unwrap();
    assert_eq!((rebuilt[0].count, rebuilt[0].sum), (4, 10.0));
}

/// Load run, not a check: how long the upgrade takes for a table of
/// `UPGRADE_ROWS` rows at version 2 (hash keys in random order, 1,000 sensors,
/// one metric, 1 s steps). Prints the time of `DbConfig::build`, which runs
/// every migration after version 2.
///
/// ```text
/// DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
///   cargo test -p store --release --test it -- --ignored --nocapture upgrade_load_run
/// ```
#[tokio::test]
#[ignore = "load run; see the doc comment for the command"]
async fn upgrade_load_run() {
    const UPGRADE_ROWS: i64 = 1_000_000;
    // `series(n)` is a FROM clause yielding one column `i` = 0..n.
    // Hash-like keys: i * an odd constant mod 2^32 is a permutation of 0..2^32.
    let fill = |series: &dyn Fn(i64) -> String| {
        format!(
            "INSERT INTO gateways (id, name) VALUES ('gw', 'gw');
             INSERT INTO sensors (id, kind, gateway_id, lat, lon, cell, metrics)
                 SELECT 'det-' || i, 'traffic_detector', 'gw', 60.17, 24.94, 0, '[\"flow\"]'
                 FROM {};
             INSERT INTO observations (obs_key, sensor_id, metric, ts_ms, value)
                 SELECT (i * 2654435761) % 4294967296, 'det-' || (i % 1000), 'flow',
                        1700000000000 + (i / 1000) * 1000, i % 97
                 FROM {};
             INSERT INTO sensor_status (sensor_id, last_seen_ms, obs_total)
                 SELECT id, 0, {} FROM sensors;",
            series(999),
            series(UPGRADE_ROWS - 1),
            UPGRADE_ROWS / 1000,
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(store::DEFAULT_SQLITE_FILE);
    {
        let mut c =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", file.display()))
                .await
                .unwrap();
        migrations_up_to_v2("sqlite")
            .await
            .run_to(2, &mut c)
            .await
            .unwrap();
        // SQLite has no generate_series without an extension: a recursive CTE
        let sql = fill(&|n| {
            format!(
                "(WITH RECURSIVE gs(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM gs WHERE i < {n}) \
                 SELECT i FROM gs)"
            )
        });
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
    }
    let t0 = std::time::Instant::now();
    let store = DbConfig {
        data_dir: dir.path().to_owned(),
        ..DbConfig::default()
    }
    .build()
    .await
    .unwrap();
    let took = t0.elapsed();
    assert_eq!(
        store.count_observations().await.unwrap(),
        UPGRADE_ROWS as u64
    );
    eprintln!("sqlite: upgrade of {UPGRADE_ROWS} rows took {took:.2?}");
    store.close().await;

    let Some(url) = database_url() else { return };
    let schema = PgSchema::new(&url);
    {
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        let setup = format!(
            "CREATE SCHEMA \"{0}\"; SET search_path TO \"{0}\"",
            schema.name
        );
        sqlx::raw_sql(AssertSqlSafe(setup))
            .execute(&mut c)
            .await
            .unwrap();
        migrations_up_to_v2("postgres")
            .await
            .run_to(2, &mut c)
            .await
            .unwrap();
        let sql = fill(&|n| format!("generate_series(0, {n}) AS i"));
        sqlx::raw_sql(AssertSqlSafe(sql))
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::raw_sql("ANALYZE").execute(&mut c).await.unwrap();
        c.close().await.unwrap();
    }
    let t0 = std::time::Instant::now();
    let store = schema.config().build().await.unwrap();
    let took = t0.elapsed();
    assert_eq!(
        store.count_observations().await.unwrap(),
        UPGRADE_ROWS as u64
    );
    eprintln!("postgres: upgrade of {UPGRADE_ROWS} rows took {took:.2?}");
    store.close().await;
    schema.drop_now().await;
}

/// Finds the colliding pair of [`COLLIDING_SENSORS`] again: a
/// distinguished-point (van Oorschot-Wiener) collision search on the map
/// key -> sensor id `det-` + 11 characters of the key -> `ObsKey` of that
/// sensor's `flow` at [`COLLIDING_TS`]. Walks start from a fixed LCG and stop at
/// keys whose low 18 bits are zero; two walks that end at the same point are
/// re-walked to where they merge. About 5 × 10⁹ `ObsKey::of` calls: minutes in
/// a release build.
///
/// ```text
/// cargo test -p store --release --test it -- --ignored --nocapture obskey_collision_search
/// ```
#[test]
#[ignore = "several minutes of CPU; see the doc comment for the command"]
fn obskey_collision_search() {
    use std::collections::HashMap;

    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const DISTINGUISHED: u64 = (1 << 18) - 1;
    let flow = metric("flow");
    // 66 bits of id for a 63-bit key: the map from key to id is one-to-one
    let id_of = |k: u64| {
        let tail: String = (0..11)
            .map(|i| char::from(ALPHABET[((k >> (6 * i)) & 63) as usize]))
            .collect();
        format!("det-{tail}")
    };
    let step = |k: u64| ObsKey::of(&sid(&id_of(k)), &flow, Timestamp(COLLIDING_TS)).0 as u64;

    let mut ends: HashMap<u64, (u64, u64)> = HashMap::new();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let (a, b) = loop {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let start = seed >> 1;
        let (mut x, mut len) = (start, 0u64);
        loop {
            x = step(x);
            len += 1;
            if x & DISTINGUISHED == 0 || len > 40 * (DISTINGUISHED + 1) {
                break;
            }
        }
        if x & DISTINGUISHED != 0 {
            continue; // a walk caught in a short cycle: drop it
        }
        let Some(&(start2, len2)) = ends.get(&x) else {
            ends.insert(x, (start, len));
            continue;
        };
        let (mut p, mut np, mut q, mut nq) = (start, len, start2, len2);
        while np > nq {
            p = step(p);
            np -= 1;
        }
        while nq > np {
            q = step(q);
            nq -= 1;
        }
        if p == q {
            continue; // one walk started on the other's path
        }
        while step(p) != step(q) {
            (p, q) = (step(p), step(q));
        }
        break (id_of(p), id_of(q));
    };
    eprintln!("collision: {a} {b}");
    let mut found = [a, b];
    found.sort();
    assert_eq!(found, COLLIDING_SENSORS.map(String::from));
}
