//! SQLite dialect: multi-row `VALUES` inserts within the 32,766 bound-value
//! limit, `BEGIN IMMEDIATE` so a writer takes the lock up front (no deadlock
//! on upgrade), scalar `min`/`max` in upserts.

use std::collections::BTreeMap;

use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, SqliteConnection, SqlitePool};

use crate::rollup::RollupKey;

pub(crate) const BEGIN: &str = "BEGIN IMMEDIATE";
/// SQLite's default `SQLITE_MAX_VARIABLE_NUMBER`.
pub(crate) const MAX_BINDS: usize = 32_766;
pub(crate) const JSON_OPEN: &str = "(";
pub(crate) const JSON_CLOSE: &str = ")";

crate::sql::common_ops!(Sqlite, SqlitePool, SqliteConnection);

/// Inserts one part of the batch's observations (`ON CONFLICT DO NOTHING`)
/// and returns the count of new rows and, with `returning`, their keys.
pub(crate) async fn insert_observations_part(
    conn: &mut SqliteConnection,
    part: &[&Observation],
    returning: bool,
) -> Result<(u64, Vec<SqliteRow>), sqlx::Error> {
    let mut qb =
        QueryBuilder::<Sqlite>::new("INSERT INTO observations (sensor_id, metric, ts_ms, value) ");
    qb.push_values(part, |mut b, o| {
        b.push_bind(o.sensor.as_str())
            .push_bind(o.metric.as_str())
            .push_bind(o.ts.0)
            .push_bind(o.value);
    });
    qb.push(" ON CONFLICT (sensor_id, metric, ts_ms) DO NOTHING");
    if returning {
        qb.push(" RETURNING sensor_id, metric, ts_ms");
        let keys = qb.build().fetch_all(&mut *conn).await?;
        Ok((keys.len() as u64, keys))
    } else {
        let n = qb.build().execute(&mut *conn).await?.rows_affected();
        Ok((n, Vec::new()))
    }
}

/// Rows per observation insert statement.
pub(crate) fn observation_rows(chunk: usize) -> usize {
    rows_per_statement(chunk, 4)
}

const ROLLUP_UPSERT: &str = concat!(
    " ON CONFLICT (sensor_id, metric, bucket_ms) DO UPDATE SET ",
    "cnt = r.cnt + excluded.cnt, sum = r.sum + excluded.sum, ",
    "min = min(r.min, excluded.min), max = max(r.max, excluded.max), ",
    "last_value = CASE WHEN excluded.last_ts_ms >= r.last_ts_ms ",
    "THEN excluded.last_value ELSE r.last_value END, ",
    "last_ts_ms = max(r.last_ts_ms, excluded.last_ts_ms)"
);

/// Adds a batch's per-bucket aggregates into a roll-up table.
pub(crate) async fn upsert_rollups(
    conn: &mut SqliteConnection,
    res: Resolution,
    aggs: &BTreeMap<RollupKey<'_>, Agg>,
    chunk: usize,
) -> Result<(), sqlx::Error> {
    let rows: Vec<_> = aggs.iter().collect();
    let head = match res {
        Resolution::Minute => "INSERT INTO rollup_minute AS r ",
        Resolution::Hour => "INSERT INTO rollup_hour AS r ",
    };
    for part in rows.chunks(rows_per_statement(chunk, 9)) {
        let mut qb = QueryBuilder::<Sqlite>::new(head);
        qb.push("(sensor_id, metric, bucket_ms, cnt, sum, min, max, last_ts_ms, last_value) ");
        qb.push_values(part, |mut b, ((s, m, bucket), a)| {
            b.push_bind(*s)
                .push_bind(*m)
                .push_bind(*bucket)
                .push_bind(a.count)
                .push_bind(a.sum)
                .push_bind(a.min)
                .push_bind(a.max)
                .push_bind(a.last_ts)
                .push_bind(a.last);
        });
        qb.push(ROLLUP_UPSERT);
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Adds new-row counts (to the monotonic `obs_total` and to `obs_stored`) and
/// last-seen times to `sensor_status`. The foreign key to `sensors` fails the
/// batch for an unregistered sensor.
pub(crate) async fn upsert_activity(
    conn: &mut SqliteConnection,
    act: &BTreeMap<&str, (i64, i64)>,
    chunk: usize,
) -> Result<(), sqlx::Error> {
    let rows: Vec<_> = act.iter().collect();
    for part in rows.chunks(rows_per_statement(chunk, 4)) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO sensor_status AS s (sensor_id, obs_total, obs_stored, last_seen_ms) ",
        );
        qb.push_values(part, |mut b, (id, (n, last))| {
            b.push_bind(**id)
                .push_bind(*n)
                .push_bind(*n)
                .push_bind(*last);
        });
        qb.push(
            " ON CONFLICT (sensor_id) DO UPDATE SET obs_total = s.obs_total + excluded.obs_total, \
             obs_stored = s.obs_stored + excluded.obs_stored, \
             last_seen_ms = max(coalesce(s.last_seen_ms, excluded.last_seen_ms), excluded.last_seen_ms)",
        );
        qb.build().execute(&mut *conn).await?;
    }
    Ok(())
}
