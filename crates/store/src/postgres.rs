//! PostgreSQL dialect: observations and roll-ups travel as one array per
//! column (`UNNEST`), so a statement has a fixed handful of parameters and a
//! stable prepared plan whatever the batch size.

use std::collections::BTreeMap;

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Postgres};

use crate::rollup::RollupKey;

pub(crate) const BEGIN: &str = "BEGIN";
/// PostgreSQL's limit of bound parameters per statement.
pub(crate) const MAX_BINDS: usize = 65_535;
pub(crate) const JSON_OPEN: &str = "CAST(";
pub(crate) const JSON_CLOSE: &str = " AS JSONB)";

crate::sql::common_ops!(Postgres, PgPool, PgConnection);

/// Inserts one part of the batch's observations (`ON CONFLICT DO NOTHING`)
/// as arrays (`UNNEST`: one statement text whatever the size), and returns
/// the count of new rows and, with `returning`, their keys.
pub(crate) async fn insert_observations_part(
    conn: &mut PgConnection,
    part: &[&Observation],
    returning: bool,
) -> Result<(u64, Vec<PgRow>), sqlx::Error> {
    const PLAIN: &str = "INSERT INTO observations (sensor_id, metric, ts_ms, value) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::float8[]) \
         ON CONFLICT (sensor_id, metric, ts_ms) DO NOTHING";
    const RETURNING: &str = "INSERT INTO observations (sensor_id, metric, ts_ms, value) \
         SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::float8[]) \
         ON CONFLICT (sensor_id, metric, ts_ms) DO NOTHING RETURNING sensor_id, metric, ts_ms";
    let sensors: Vec<&str> = part.iter().map(|o| o.sensor.as_str()).collect();
    let metrics: Vec<&str> = part.iter().map(|o| o.metric.as_str()).collect();
    let ts: Vec<i64> = part.iter().map(|o| o.ts.0).collect();
    let values: Vec<f64> = part.iter().map(|o| o.value).collect();
    let q = sqlx::query(if returning { RETURNING } else { PLAIN })
        .bind(sensors)
        .bind(metrics)
        .bind(ts)
        .bind(values);
    if returning {
        let keys = q.fetch_all(&mut *conn).await?;
        Ok((keys.len() as u64, keys))
    } else {
        Ok((q.execute(&mut *conn).await?.rows_affected(), Vec::new()))
    }
}

/// Rows per observation insert statement (arrays: no bind limit).
pub(crate) fn observation_rows(chunk: usize) -> usize {
    chunk.max(1)
}

macro_rules! rollup_upsert {
    ($table:literal) => {
        concat!(
            "INSERT INTO ",
            $table,
            " AS r (sensor_id, metric, bucket_ms, cnt, sum, min, max, last_ts_ms, last_value) ",
            "SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::int8[], $5::float8[], ",
            "$6::float8[], $7::float8[], $8::int8[], $9::float8[]) ",
            "ON CONFLICT (sensor_id, metric, bucket_ms) DO UPDATE SET ",
            "cnt = r.cnt + EXCLUDED.cnt, sum = r.sum + EXCLUDED.sum, ",
            "min = LEAST(r.min, EXCLUDED.min), max = GREATEST(r.max, EXCLUDED.max), ",
            "last_value = CASE WHEN EXCLUDED.last_ts_ms >= r.last_ts_ms ",
            "THEN EXCLUDED.last_value ELSE r.last_value END, ",
            "last_ts_ms = GREATEST(r.last_ts_ms, EXCLUDED.last_ts_ms)"
        )
    };
}

/// Adds a batch's per-bucket aggregates into a roll-up table.
pub(crate) async fn upsert_rollups(
    conn: &mut PgConnection,
    res: Resolution,
    aggs: &BTreeMap<RollupKey<'_>, Agg>,
    chunk: usize,
) -> Result<(), sqlx::Error> {
    let rows: Vec<_> = aggs.iter().collect();
    let sql = match res {
        Resolution::Minute => rollup_upsert!("rollup_minute"),
        Resolution::Hour => rollup_upsert!("rollup_hour"),
    };
    for part in rows.chunks(chunk.max(1)) {
        let col = |f: fn(&(&RollupKey<'_>, &Agg)) -> f64| part.iter().map(f).collect::<Vec<f64>>();
        sqlx::query(sql)
            .bind(part.iter().map(|((s, _, _), _)| *s).collect::<Vec<&str>>())
            .bind(part.iter().map(|((_, m, _), _)| *m).collect::<Vec<&str>>())
            .bind(part.iter().map(|((_, _, b), _)| *b).collect::<Vec<i64>>())
            .bind(part.iter().map(|(_, a)| a.count).collect::<Vec<i64>>())
            .bind(col(|(_, a)| a.sum))
            .bind(col(|(_, a)| a.min))
            .bind(col(|(_, a)| a.max))
            .bind(part.iter().map(|(_, a)| a.last_ts).collect::<Vec<i64>>())
            .bind(col(|(_, a)| a.last))
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Adds new-row counts (to the monotonic `obs_total` and to `obs_stored`) and
/// last-seen times to `sensor_status`. The foreign key to `sensors` fails the
/// batch for an unregistered sensor.
pub(crate) async fn upsert_activity(
    conn: &mut PgConnection,
    act: &BTreeMap<&str, (i64, i64)>,
    chunk: usize,
) -> Result<(), sqlx::Error> {
    let rows: Vec<_> = act.iter().collect();
    for part in rows.chunks(chunk.max(1)) {
        sqlx::query(
            "INSERT INTO sensor_status AS s (sensor_id, obs_total, obs_stored, last_seen_ms) \
             SELECT id, n, n, last FROM UNNEST($1::text[], $2::int8[], $3::int8[]) AS u(id, n, last) \
             ON CONFLICT (sensor_id) DO UPDATE SET obs_total = s.obs_total + EXCLUDED.obs_total, \
             obs_stored = s.obs_stored + EXCLUDED.obs_stored, \
             last_seen_ms = GREATEST(s.last_seen_ms, EXCLUDED.last_seen_ms)",
        )
        .bind(part.iter().map(|(id, _)| **id).collect::<Vec<&str>>())
        .bind(part.iter().map(|(_, (n, _))| *n).collect::<Vec<i64>>())
        .bind(part.iter().map(|(_, (_, t))| *t).collect::<Vec<i64>>())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
