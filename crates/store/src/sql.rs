//! Operations whose SQL is the same on both backends. The macro expands them
//! once per backend module (`sqlite`, `postgres`) with that module's concrete
//! sqlx types, next to the few dialect-specific functions each module defines
//! itself: `BEGIN`, `JSON_OPEN`/`JSON_CLOSE`, `MAX_BINDS`,
//! `insert_observations`, `upsert_rollups` and `upsert_activity`.
//!
//! Placeholders are `$N`, which SQLite also reads as positional parameters.

macro_rules! common_ops {
    ($DB:ty, $Pool:ty, $Conn:ty) => {
        use std::collections::BTreeSet;

        use domain::{
            DeadLetter, EventReport, GatewaySpec, LatLon, Metric, Observation, Registry,
            SensorSpec, StatusChange, Timestamp,
        };
        use sqlx::{QueryBuilder, Row};

        use crate::rollup::{self, Agg};
        use crate::row::{self, EntityRow, SensorRow, clean, count};
        use crate::{
            Batch, BatchStats, EntityRecord, Error, Resolution, RetentionStats, Rollup,
            SensorStatus, StoredDeadLetter,
        };

        fn q(op: &'static str) -> impl Fn(sqlx::Error) -> Error {
            move |source| Error::Query { op, source }
        }

        /// Rows per statement for a table of `cols` columns.
        fn rows_per_statement(chunk: usize, cols: usize) -> usize {
            chunk.min(MAX_BINDS / cols).max(1)
        }

        /// Writes a batch in one transaction (see [`crate::Store::insert_batch`]).
        pub(crate) async fn insert_batch(
            pool: &$Pool,
            batch: &Batch,
            chunk: usize,
        ) -> Result<BatchStats, Error> {
            const OP: &str = "insert_batch";
            let provisioned = row::sensor_rows(&batch.provisioned_sensors)?;
            let rows = rollup::dedup_sorted(&batch.observations);
            let mut stats = BatchStats::default();
            let mut tx = pool.begin_with(BEGIN).await.map_err(q(OP))?;
            let conn: &mut $Conn = &mut tx;
            if !provisioned.is_empty() {
                stats.sensors_provisioned = write_sensors(conn, &provisioned, true, chunk).await?;
            }
            if !rows.is_empty() {
                let new = insert_new_observations(conn, &rows, chunk).await?;
                stats.observations_new = new.len() as u64;
                stats.observations_duplicate =
                    batch.observations.len() as u64 - stats.observations_new;
                if !new.is_empty() {
                    for res in Resolution::ALL {
                        let aggs = rollup::aggregate(new.iter().copied(), res);
                        upsert_rollups(conn, res, &aggs, chunk)
                            .await
                            .map_err(q(OP))?;
                    }
                    let act = rollup::sensor_activity(new.iter().copied());
                    upsert_activity(conn, &act, chunk).await.map_err(q(OP))?;
                }
            }
            for s in &batch.status {
                if apply_status(conn, s).await.map_err(q(OP))? {
                    stats.status_applied += 1;
                } else {
                    stats.status_ignored += 1;
                }
            }
            if !batch.events.is_empty() {
                stats.events_new = insert_events(conn, &batch.events, chunk)
                    .await
                    .map_err(q(OP))?;
                stats.events_duplicate = batch.events.len() as u64 - stats.events_new;
            }
            if !batch.dead_letters.is_empty() {
                stats.dead_letters = insert_dead_letters(conn, &batch.dead_letters, chunk)
                    .await
                    .map_err(q(OP))?;
            }
            tx.commit().await.map_err(q(OP))?;
            Ok(stats)
        }

        /// Inserts `rows` (sorted and unique by natural key) part by part and
        /// returns those that were new. Each part runs in a savepoint without
        /// `RETURNING`: when every row was new (the normal case) that is all.
        /// When some were already stored (a redelivery), the part is rolled
        /// back to the savepoint and inserted again returning the new keys,
        /// so the roll-ups count each observation exactly once.
        async fn insert_new_observations<'a>(
            conn: &mut $Conn,
            rows: &[&'a Observation],
            chunk: usize,
        ) -> Result<Vec<&'a Observation>, Error> {
            const OP: &str = "insert_batch";
            let mut new = Vec::with_capacity(rows.len());
            for part in rows.chunks(observation_rows(chunk)) {
                sqlx::query("SAVEPOINT obs_part")
                    .execute(&mut *conn)
                    .await
                    .map_err(q(OP))?;
                let (n, _) = insert_observations_part(conn, part, false)
                    .await
                    .map_err(q(OP))?;
                if n == part.len() as u64 {
                    new.extend_from_slice(part);
                } else {
                    sqlx::query("ROLLBACK TO SAVEPOINT obs_part")
                        .execute(&mut *conn)
                        .await
                        .map_err(q(OP))?;
                    let (_, returned) = insert_observations_part(conn, part, true)
                        .await
                        .map_err(q(OP))?;
                    pick_inserted(part, &returned, &mut new)?;
                }
                sqlx::query("RELEASE SAVEPOINT obs_part")
                    .execute(&mut *conn)
                    .await
                    .map_err(q(OP))?;
            }
            Ok(new)
        }

        /// Appends to `new` the rows of `part` (sorted and unique by natural
        /// key) that an insert returned, in `part`'s order, whatever order the
        /// database returned them in. A returned key that matches no row
        /// fails the batch rather than leave the roll-ups short.
        fn pick_inserted<'a>(
            part: &[&'a Observation],
            returned: &[<$DB as sqlx::Database>::Row],
            new: &mut Vec<&'a Observation>,
        ) -> Result<(), Error> {
            const OP: &str = "insert_batch";
            let mut hit = vec![false; part.len()];
            for r in returned {
                let sensor: &str = r.try_get(0).map_err(q(OP))?;
                let metric: &str = r.try_get(1).map_err(q(OP))?;
                let ts: i64 = r.try_get(2).map_err(q(OP))?;
                let i = rollup::position(part, (sensor, metric, ts)).ok_or_else(|| {
                    Error::corrupt("inserted observation key", format!("{sensor} {metric} {ts}"))
                })?;
                hit[i] = true;
            }
            new.extend(part.iter().zip(hit).filter(|(_, h)| *h).map(|(o, _)| *o));
            Ok(())
        }

        /// Inserts sensors (and their gateways when missing). `provisioned`:
        /// insert only when absent and mark them auto-provisioned; otherwise
        /// insert or replace. Returns the rows written.
        async fn write_sensors(
            conn: &mut $Conn,
            rows: &[SensorRow],
            provisioned: bool,
            chunk: usize,
        ) -> Result<u64, Error> {
            const OP: &str = "upsert_sensors";
            let gateways: BTreeSet<&str> = rows.iter().map(|r| r.gateway.as_str()).collect();
            let gateways: Vec<&str> = gateways.into_iter().collect();
            for part in gateways.chunks(rows_per_statement(chunk, 2)) {
                let mut qb = QueryBuilder::<$DB>::new("INSERT INTO gateways (id, name) ");
                qb.push_values(part, |mut b, g| {
                    b.push_bind(*g).push_bind(*g);
                });
                qb.push(" ON CONFLICT (id) DO NOTHING");
                qb.build().execute(&mut *conn).await.map_err(q(OP))?;
            }
            let mut written = 0;
            for part in rows.chunks(rows_per_statement(chunk, 9)) {
                let mut qb = QueryBuilder::<$DB>::new(
                    "INSERT INTO sensors (id, kind, gateway_id, lat, lon, cell, observes, metrics, provisioned) ",
                );
                qb.push_values(part, |mut b, r| {
                    b.push_bind(r.id.as_str())
                        .push_bind(r.kind)
                        .push_bind(r.gateway.as_str())
                        .push_bind(r.lat)
                        .push_bind(r.lon)
                        .push_bind(r.cell)
                        .push_bind(r.observes.as_deref())
                        .push_bind(r.metrics.as_str())
                        .push_bind(provisioned);
                });
                if provisioned {
                    qb.push(" ON CONFLICT (id) DO NOTHING");
                } else {
                    qb.push(
                        " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, \
                         gateway_id = excluded.gateway_id, lat = excluded.lat, lon = excluded.lon, \
                         cell = excluded.cell, observes = excluded.observes, \
                         metrics = excluded.metrics, provisioned = excluded.provisioned",
                    );
                }
                written += qb
                    .build()
                    .execute(&mut *conn)
                    .await
                    .map_err(q(OP))?
                    .rows_affected();
            }
            Ok(written)
        }

        /// Applies one status change; `false` when it matched nothing (unknown
        /// gateway or sensor) or was older than the stored status.
        async fn apply_status(conn: &mut $Conn, s: &StatusChange) -> Result<bool, sqlx::Error> {
            let reason = clean(&s.reason);
            let mut applied = 0;
            if let Some(sensor) = &s.sensor {
                applied += sqlx::query(
                    "INSERT INTO sensor_status (sensor_id, online, status_ts_ms, status_reason) \
                     SELECT id, $2, $3, $4 FROM sensors WHERE id = $1 AND gateway_id = $5 \
                     ON CONFLICT (sensor_id) DO UPDATE SET online = excluded.online, \
                     status_ts_ms = excluded.status_ts_ms, status_reason = excluded.status_reason \
                     WHERE sensor_status.status_ts_ms IS NULL \
                     OR sensor_status.status_ts_ms <= excluded.status_ts_ms",
                )
                .bind(sensor.as_str())
                .bind(s.online)
                .bind(s.ts.0)
                .bind(reason.as_ref())
                .bind(s.gateway.as_str())
                .execute(&mut *conn)
                .await?
                .rows_affected();
            } else {
                applied += sqlx::query(
                    "UPDATE gateways SET online = $2, status_ts_ms = $3, status_reason = $4 \
                     WHERE id = $1 AND (status_ts_ms IS NULL OR status_ts_ms <= $3)",
                )
                .bind(s.gateway.as_str())
                .bind(s.online)
                .bind(s.ts.0)
                .bind(reason.as_ref())
                .execute(&mut *conn)
                .await?
                .rows_affected();
                applied += sqlx::query(
                    "INSERT INTO sensor_status (sensor_id, online, status_ts_ms, status_reason) \
                     SELECT id, $2, $3, $4 FROM sensors WHERE gateway_id = $1 \
                     ON CONFLICT (sensor_id) DO UPDATE SET online = excluded.online, \
                     status_ts_ms = excluded.status_ts_ms, status_reason = excluded.status_reason \
                     WHERE sensor_status.status_ts_ms IS NULL \
                     OR sensor_status.status_ts_ms <= excluded.status_ts_ms",
                )
                .bind(s.gateway.as_str())
                .bind(s.online)
                .bind(s.ts.0)
                .bind(reason.as_ref())
                .execute(&mut *conn)
                .await?
                .rows_affected();
            }
            Ok(applied > 0)
        }

        async fn insert_events(
            conn: &mut $Conn,
            events: &[EventReport],
            chunk: usize,
        ) -> Result<u64, sqlx::Error> {
            let mut new = 0;
            for part in events.chunks(rows_per_statement(chunk, 9)) {
                let mut qb = QueryBuilder::<$DB>::new(
                    "INSERT INTO events (reporter, id, channel, category, priority, ts_ms, lat, lon, body) ",
                );
                qb.push_values(part, |mut b, e| {
                    b.push_bind(e.reporter.as_str())
                        .push_bind(clean(&e.id).into_owned())
                        .push_bind(row::channel_str(e.channel))
                        .push_bind(clean(&e.category).into_owned())
                        .push_bind(row::priority_str(e.priority))
                        .push_bind(e.ts.0)
                        .push_bind(e.location.map(|l| l.lat))
                        .push_bind(e.location.map(|l| l.lon))
                        .push_bind(clean(&e.text).into_owned());
                });
                qb.push(" ON CONFLICT (reporter, id) DO NOTHING");
                new += qb.build().execute(&mut *conn).await?.rows_affected();
            }
            Ok(new)
        }

        async fn insert_dead_letters(
            conn: &mut $Conn,
            letters: &[DeadLetter],
            chunk: usize,
        ) -> Result<u64, sqlx::Error> {
            let mut n = 0;
            for part in letters.chunks(rows_per_statement(chunk, 6)) {
                let mut qb = QueryBuilder::<$DB>::new(
                    "INSERT INTO dead_letters (topic, format, payload, truncated, reason, received_ms) ",
                );
                qb.push_values(part, |mut b, d| {
                    b.push_bind(clean(&d.topic).into_owned())
                        .push_bind(clean(&d.format).into_owned())
                        .push_bind(d.payload.as_slice())
                        .push_bind(d.truncated)
                        .push_bind(clean(&d.reason).into_owned())
                        .push_bind(d.received.0);
                });
                n += qb.build().execute(&mut *conn).await?.rows_affected();
            }
            Ok(n)
        }

        /// Registers gateways (`password_hash` already hashed; `None` keeps the
        /// stored one) in one transaction.
        pub(crate) async fn upsert_gateways(
            pool: &$Pool,
            rows: &[(GatewaySpec, Option<String>)],
        ) -> Result<(), Error> {
            const OP: &str = "upsert_gateways";
            let mut tx = pool.begin_with(BEGIN).await.map_err(q(OP))?;
            for (g, hash) in rows {
                sqlx::query(
                    "INSERT INTO gateways (id, name, password_hash) VALUES ($1, $2, $3) \
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
                     password_hash = COALESCE(excluded.password_hash, gateways.password_hash)",
                )
                .bind(g.id.as_str())
                .bind(clean(&g.name).as_ref())
                .bind(hash.as_deref())
                .execute(&mut *tx)
                .await
                .map_err(q(OP))?;
            }
            tx.commit().await.map_err(q(OP))
        }

        /// Registers (inserts or replaces) sensors in one transaction.
        pub(crate) async fn upsert_sensors(
            pool: &$Pool,
            rows: &[SensorRow],
            chunk: usize,
        ) -> Result<u64, Error> {
            const OP: &str = "upsert_sensors";
            let mut tx = pool.begin_with(BEGIN).await.map_err(q(OP))?;
            let n = write_sensors(&mut tx, rows, false, chunk).await?;
            tx.commit().await.map_err(q(OP))?;
            Ok(n)
        }

        /// The stored password hash of a gateway: `None` if unknown, `Some(None)`
        /// if it has no credentials.
        pub(crate) async fn gateway_hash(
            pool: &$Pool,
            id: &str,
        ) -> Result<Option<Option<String>>, Error> {
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT password_hash FROM gateways WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(q("verify_gateway"))
        }

        pub(crate) async fn load_registry(pool: &$Pool) -> Result<Registry, Error> {
            const OP: &str = "load_registry";
            let gateways = sqlx::query("SELECT id, name FROM gateways ORDER BY id")
                .fetch_all(pool)
                .await
                .map_err(q(OP))?
                .into_iter()
                .map(|r| {
                    let id: String = r.try_get(0).map_err(q(OP))?;
                    let name: String = r.try_get(1).map_err(q(OP))?;
                    Ok(GatewaySpec {
                        id: row::gateway_id(&id)?,
                        name,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let sensors = sqlx::query(
                "SELECT id, kind, gateway_id, lat, lon, observes, metrics FROM sensors ORDER BY id",
            )
            .fetch_all(pool)
            .await
            .map_err(q(OP))?
            .into_iter()
            .map(|r| {
                let id: String = r.try_get(0).map_err(q(OP))?;
                let kind: String = r.try_get(1).map_err(q(OP))?;
                let gw: String = r.try_get(2).map_err(q(OP))?;
                let observes: Option<String> = r.try_get(5).map_err(q(OP))?;
                let metrics: String = r.try_get(6).map_err(q(OP))?;
                Ok(SensorSpec {
                    id: row::sensor_id(&id)?,
                    kind: row::sensor_kind(&kind)?,
                    gateway: row::gateway_id(&gw)?,
                    location: LatLon {
                        lat: r.try_get(3).map_err(q(OP))?,
                        lon: r.try_get(4).map_err(q(OP))?,
                    },
                    observes: observes.as_deref().map(row::entity_id).transpose()?,
                    metrics: row::metrics(&metrics)?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
            Ok(Registry::new(gateways, sensors))
        }

        pub(crate) async fn upsert_entities(
            pool: &$Pool,
            rows: &[EntityRow],
            chunk: usize,
        ) -> Result<u64, Error> {
            const OP: &str = "upsert_entities";
            let mut tx = pool.begin_with(BEGIN).await.map_err(q(OP))?;
            let mut n = 0;
            for part in rows.chunks(rows_per_statement(chunk, 7)) {
                let mut qb = QueryBuilder::<$DB>::new(
                    "INSERT INTO entities (id, kind, name, geometry, cell, community, attrs) ",
                );
                qb.push_values(part, |mut b, r| {
                    b.push_bind(r.id.as_str())
                        .push_bind(r.kind)
                        .push_bind(r.name.as_str())
                        .push_bind(r.geometry.as_str())
                        .push_bind(r.cell)
                        .push_bind(r.community.as_deref())
                        .push_unseparated(", ")
                        .push_unseparated(JSON_OPEN)
                        .push_bind_unseparated(r.attrs.as_str())
                        .push_unseparated(JSON_CLOSE);
                });
                qb.push(
                    " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
                     geometry = excluded.geometry, cell = excluded.cell, \
                     community = excluded.community, attrs = excluded.attrs",
                );
                n += qb
                    .build()
                    .execute(&mut *tx)
                    .await
                    .map_err(q(OP))?
                    .rows_affected();
            }
            tx.commit().await.map_err(q(OP))?;
            Ok(n)
        }

        pub(crate) async fn entities(pool: &$Pool) -> Result<Vec<EntityRecord>, Error> {
            const OP: &str = "entities";
            sqlx::query(
                "SELECT id, kind, name, geometry, cell, community, CAST(attrs AS TEXT) \
                 FROM entities ORDER BY id",
            )
            .fetch_all(pool)
            .await
            .map_err(q(OP))?
            .into_iter()
            .map(|r| {
                let id: String = r.try_get(0).map_err(q(OP))?;
                let kind: String = r.try_get(1).map_err(q(OP))?;
                let cell: Option<i64> = r.try_get(4).map_err(q(OP))?;
                let community: Option<String> = r.try_get(5).map_err(q(OP))?;
                let attrs: String = r.try_get(6).map_err(q(OP))?;
                Ok(EntityRecord {
                    id: row::entity_id(&id)?,
                    kind: row::entity_kind(&kind)?,
                    name: r.try_get(2).map_err(q(OP))?,
                    geometry: r.try_get(3).map_err(q(OP))?,
                    cell: cell.map(|c| c as u64),
                    community: community.as_deref().map(row::entity_id).transpose()?,
                    attrs: serde_json::from_str(&attrs)
                        .map_err(|_| Error::corrupt("entity attrs", &attrs))?,
                })
            })
            .collect()
        }

        /// The running total: the per-sensor counts of stored rows, summed.
        pub(crate) async fn count_observations(pool: &$Pool) -> Result<u64, Error> {
            sqlx::query_scalar::<_, i64>(
                "SELECT CAST(COALESCE(SUM(obs_stored), 0) AS BIGINT) FROM sensor_status",
            )
            .fetch_one(pool)
            .await
            .map(count)
            .map_err(q("count_observations"))
        }

        pub(crate) async fn count_observations_exact(pool: &$Pool) -> Result<u64, Error> {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM observations")
                .fetch_one(pool)
                .await
                .map(count)
                .map_err(q("count_observations_exact"))
        }

        pub(crate) async fn count_by_sensor_kind(pool: &$Pool) -> Result<Vec<(String, u64)>, Error> {
            const OP: &str = "count_by_sensor_kind";
            sqlx::query(
                "SELECT s.kind, CAST(SUM(st.obs_total) AS BIGINT) FROM sensor_status st \
                 JOIN sensors s ON s.id = st.sensor_id GROUP BY s.kind ORDER BY s.kind",
            )
            .fetch_all(pool)
            .await
            .map_err(q(OP))?
            .into_iter()
            .map(|r| Ok((r.try_get(0).map_err(q(OP))?, count(r.try_get(1).map_err(q(OP))?))))
            .collect()
        }

        pub(crate) async fn observations(
            pool: &$Pool,
            sensor: &domain::SensorId,
            metric: &Metric,
            from: Timestamp,
            to: Timestamp,
            limit: u32,
        ) -> Result<Vec<Observation>, Error> {
            const OP: &str = "observations";
            sqlx::query(
                "SELECT ts_ms, value FROM observations WHERE sensor_id = $1 AND metric = $2 \
                 AND ts_ms >= $3 AND ts_ms < $4 ORDER BY ts_ms LIMIT $5",
            )
            .bind(sensor.as_str())
            .bind(metric.as_str())
            .bind(from.0)
            .bind(to.0)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(q(OP))?
            .into_iter()
            .map(|r| {
                Ok(Observation {
                    sensor: sensor.clone(),
                    metric: metric.clone(),
                    ts: Timestamp(r.try_get(0).map_err(q(OP))?),
                    value: r.try_get(1).map_err(q(OP))?,
                })
            })
            .collect()
        }

        fn agg_of(r: &<$DB as sqlx::Database>::Row, first: usize) -> Result<Agg, sqlx::Error> {
            Ok(Agg {
                count: r.try_get(first)?,
                sum: r.try_get(first + 1)?,
                min: r.try_get(first + 2)?,
                max: r.try_get(first + 3)?,
                last_ts: r.try_get(first + 4)?,
                last: r.try_get(first + 5)?,
            })
        }

        pub(crate) async fn sensor_rollups(
            pool: &$Pool,
            sensor: &str,
            metric: &str,
            res: Resolution,
            from_bucket: i64,
            to: i64,
        ) -> Result<Vec<Rollup>, Error> {
            const OP: &str = "rollups";
            let sql = match res {
                Resolution::Minute => {
                    "SELECT bucket_ms, cnt, sum, min, max, last_ts_ms, last_value FROM rollup_minute \
                     WHERE sensor_id = $1 AND metric = $2 AND bucket_ms >= $3 AND bucket_ms < $4 \
                     ORDER BY bucket_ms"
                }
                Resolution::Hour => {
                    "SELECT bucket_ms, cnt, sum, min, max, last_ts_ms, last_value FROM rollup_hour \
                     WHERE sensor_id = $1 AND metric = $2 AND bucket_ms >= $3 AND bucket_ms < $4 \
                     ORDER BY bucket_ms"
                }
            };
            sqlx::query(sql)
                .bind(sensor)
                .bind(metric)
                .bind(from_bucket)
                .bind(to)
                .fetch_all(pool)
                .await
                .map_err(q(OP))?
                .iter()
                .map(|r| {
                    let b: i64 = r.try_get(0)?;
                    Ok(agg_of(r, 1)?.into_rollup(b))
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
                .map_err(q(OP))
        }

        pub(crate) async fn cell_rollups(
            pool: &$Pool,
            (lo, hi): (i64, i64),
            metric: &str,
            res: Resolution,
            from_bucket: i64,
            to: i64,
        ) -> Result<Vec<Rollup>, Error> {
            const OP: &str = "rollups";
            let sql = match res {
                Resolution::Minute => {
                    "SELECT r.bucket_ms, r.cnt, r.sum, r.min, r.max, r.last_ts_ms, r.last_value \
                     FROM rollup_minute r JOIN sensors s ON s.id = r.sensor_id \
                     WHERE s.cell >= $1 AND s.cell <= $2 AND r.metric = $3 \
                     AND r.bucket_ms >= $4 AND r.bucket_ms < $5 ORDER BY r.bucket_ms, r.sensor_id"
                }
                Resolution::Hour => {
                    "SELECT r.bucket_ms, r.cnt, r.sum, r.min, r.max, r.last_ts_ms, r.last_value \
                     FROM rollup_hour r JOIN sensors s ON s.id = r.sensor_id \
                     WHERE s.cell >= $1 AND s.cell <= $2 AND r.metric = $3 \
                     AND r.bucket_ms >= $4 AND r.bucket_ms < $5 ORDER BY r.bucket_ms, r.sensor_id"
                }
            };
            let parts = sqlx::query(sql)
                .bind(lo)
                .bind(hi)
                .bind(metric)
                .bind(from_bucket)
                .bind(to)
                .fetch_all(pool)
                .await
                .map_err(q(OP))?
                .iter()
                .map(|r| Ok((r.try_get::<i64, _>(0)?, agg_of(r, 1)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()
                .map_err(q(OP))?;
            Ok(rollup::merge_buckets(parts))
        }

        /// Recomputes the roll-ups of every bucket starting at or after the
        /// bucket holding `since`, from the raw rows, in one transaction.
        pub(crate) async fn refresh_rollups(pool: &$Pool, since: Timestamp) -> Result<u64, Error> {
            const OP: &str = "refresh_rollups";
            let mut tx = pool.begin_with(BEGIN).await.map_err(q(OP))?;
            let mut n = 0;
            for res in Resolution::ALL {
                let (del, ins) = match res {
                    Resolution::Minute => (
                        "DELETE FROM rollup_minute WHERE bucket_ms >= $1",
                        crate::sql::refresh_sql!("rollup_minute", "60000"),
                    ),
                    Resolution::Hour => (
                        "DELETE FROM rollup_hour WHERE bucket_ms >= $1",
                        crate::sql::refresh_sql!("rollup_hour", "3600000"),
                    ),
                };
                let from = since.floor_to(res.width_ms()).0;
                sqlx::query(del)
                    .bind(from)
                    .execute(&mut *tx)
                    .await
                    .map_err(q(OP))?;
                n += sqlx::query(ins)
                    .bind(from)
                    .execute(&mut *tx)
                    .await
                    .map_err(q(OP))?
                    .rows_affected();
            }
            tx.commit().await.map_err(q(OP))?;
            Ok(n)
        }

        pub(crate) async fn dead_letters(
            pool: &$Pool,
            limit: u32,
            offset: u64,
        ) -> Result<Vec<StoredDeadLetter>, Error> {
            const OP: &str = "dead_letters";
            sqlx::query(
                "SELECT id, topic, format, payload, truncated, reason, received_ms \
                 FROM dead_letters ORDER BY id DESC LIMIT $1 OFFSET $2",
            )
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await
            .map_err(q(OP))?
            .iter()
            .map(|r| {
                Ok(StoredDeadLetter {
                    id: r.try_get(0)?,
                    letter: DeadLetter {
                        topic: r.try_get(1)?,
                        format: r.try_get(2)?,
                        payload: r.try_get(3)?,
                        truncated: r.try_get(4)?,
                        reason: r.try_get(5)?,
                        received: Timestamp(r.try_get(6)?),
                    },
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(q(OP))
        }

        pub(crate) async fn dead_letter_count(pool: &$Pool) -> Result<u64, Error> {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM dead_letters")
                .fetch_one(pool)
                .await
                .map(count)
                .map_err(q("dead_letter_count"))
        }

        pub(crate) async fn events(
            pool: &$Pool,
            limit: u32,
            offset: u64,
        ) -> Result<Vec<EventReport>, Error> {
            const OP: &str = "events";
            sqlx::query(
                "SELECT reporter, id, channel, category, priority, ts_ms, lat, lon, body \
                 FROM events ORDER BY ts_ms DESC, reporter, id LIMIT $1 OFFSET $2",
            )
            .bind(i64::from(limit))
            .bind(i64::try_from(offset).unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await
            .map_err(q(OP))?
            .iter()
            .map(|r| {
                let reporter: String = r.try_get(0).map_err(q(OP))?;
                let channel: String = r.try_get(2).map_err(q(OP))?;
                let priority: String = r.try_get(4).map_err(q(OP))?;
                let lat: Option<f64> = r.try_get(6).map_err(q(OP))?;
                let lon: Option<f64> = r.try_get(7).map_err(q(OP))?;
                Ok(EventReport {
                    id: r.try_get(1).map_err(q(OP))?,
                    reporter: row::sensor_id(&reporter)?,
                    channel: row::parse_channel(&channel)?,
                    category: r.try_get(3).map_err(q(OP))?,
                    priority: row::parse_priority(&priority)?,
                    ts: Timestamp(r.try_get(5).map_err(q(OP))?),
                    location: lat.zip(lon).map(|(lat, lon)| LatLon { lat, lon }),
                    text: r.try_get(8).map_err(q(OP))?,
                })
            })
            .collect()
        }

        pub(crate) async fn event_count(pool: &$Pool) -> Result<u64, Error> {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM events")
                .fetch_one(pool)
                .await
                .map(count)
                .map_err(q("event_count"))
        }

        pub(crate) async fn sensor_status(pool: &$Pool) -> Result<Vec<SensorStatus>, Error> {
            const OP: &str = "sensor_status";
            sqlx::query(
                "SELECT s.id, s.kind, s.gateway_id, st.online, st.status_ts_ms, st.status_reason, \
                 st.last_seen_ms, COALESCE(st.obs_total, 0) \
                 FROM sensors s LEFT JOIN sensor_status st ON st.sensor_id = s.id ORDER BY s.id",
            )
            .fetch_all(pool)
            .await
            .map_err(q(OP))?
            .iter()
            .map(|r| {
                let id: String = r.try_get(0).map_err(q(OP))?;
                let kind: String = r.try_get(1).map_err(q(OP))?;
                let gw: String = r.try_get(2).map_err(q(OP))?;
                let status_ts: Option<i64> = r.try_get(4).map_err(q(OP))?;
                let last_seen: Option<i64> = r.try_get(6).map_err(q(OP))?;
                Ok(SensorStatus {
                    sensor: row::sensor_id(&id)?,
                    kind: row::sensor_kind(&kind)?,
                    gateway: row::gateway_id(&gw)?,
                    online: r.try_get(3).map_err(q(OP))?,
                    status_ts: status_ts.map(Timestamp),
                    status_reason: r.try_get(5).map_err(q(OP))?,
                    last_seen: last_seen.map(Timestamp),
                    observations_total: count(r.try_get(7).map_err(q(OP))?),
                })
            })
            .collect()
        }

        /// Deletes rows older than the cut-offs (`None` = keep). Raw
        /// observations go in slices of `slice` rows, each its own statement,
        /// so the writer is never blocked for long.
        pub(crate) async fn apply_retention(
            pool: &$Pool,
            raw_before: Option<i64>,
            minute_before: Option<i64>,
            hour_before: Option<i64>,
            dead_before: Option<i64>,
            slice: i64,
        ) -> Result<RetentionStats, Error> {
            const OP: &str = "apply_retention";
            let mut stats = RetentionStats::default();
            if let Some(cut) = raw_before {
                loop {
                    let n = delete_raw_slice(pool, cut, slice).await.map_err(q(OP))?;
                    stats.observations += n;
                    if n < slice as u64 {
                        break;
                    }
                }
            }
            // A roll-up row goes once its whole bucket is older than the cut-off.
            if let Some(cut) = minute_before {
                stats.minute_rollups = sqlx::query("DELETE FROM rollup_minute WHERE bucket_ms + 60000 <= $1")
                    .bind(cut)
                    .execute(pool)
                    .await
                    .map_err(q(OP))?
                    .rows_affected();
            }
            if let Some(cut) = hour_before {
                stats.hour_rollups = sqlx::query("DELETE FROM rollup_hour WHERE bucket_ms + 3600000 <= $1")
                    .bind(cut)
                    .execute(pool)
                    .await
                    .map_err(q(OP))?
                    .rows_affected();
            }
            if let Some(cut) = dead_before {
                stats.dead_letters = sqlx::query("DELETE FROM dead_letters WHERE received_ms < $1")
                    .bind(cut)
                    .execute(pool)
                    .await
                    .map_err(q(OP))?
                    .rows_affected();
            }
            Ok(stats)
        }

        /// Deletes up to `slice` raw rows older than `cut` and lowers their
        /// sensors' `obs_stored` by as many, in one transaction; returns the
        /// rows deleted.
        async fn delete_raw_slice(pool: &$Pool, cut: i64, slice: i64) -> Result<u64, sqlx::Error> {
            let mut tx = pool.begin_with(BEGIN).await?;
            let gone: Vec<String> = sqlx::query_scalar(
                "DELETE FROM observations WHERE (sensor_id, metric, ts_ms) IN \
                 (SELECT sensor_id, metric, ts_ms FROM observations WHERE ts_ms < $1 LIMIT $2) \
                 RETURNING sensor_id",
            )
            .bind(cut)
            .bind(slice)
            .fetch_all(&mut *tx)
            .await?;
            let mut per_sensor: std::collections::BTreeMap<&str, i64> =
                std::collections::BTreeMap::new();
            for s in &gone {
                *per_sensor.entry(s.as_str()).or_default() += 1;
            }
            // In sensor order, as the batches lock these rows.
            let rows: Vec<(&str, i64)> = per_sensor.into_iter().collect();
            for part in rows.chunks(MAX_BINDS / 2) {
                let mut qb = QueryBuilder::<$DB>::new("WITH gone (sensor_id, n) AS (");
                qb.push_values(part, |mut b, (id, n)| {
                    b.push_bind(*id).push_bind(*n);
                });
                qb.push(
                    ") UPDATE sensor_status SET obs_stored = obs_stored - gone.n \
                     FROM gone WHERE sensor_status.sensor_id = gone.sensor_id",
                );
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(gone.len() as u64)
        }

        pub(crate) async fn ping(pool: &$Pool) -> Result<(), Error> {
            sqlx::query("SELECT 1")
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(q("ping"))
        }
    };
}

/// The idempotent roll-up rebuild: aggregate the raw rows of every bucket at or
/// after `$1` and take the value at the latest timestamp as `last`. The bucket
/// start is a floor division that is also right for negative times.
macro_rules! refresh_sql {
    ($table:literal, $width:literal) => {
        concat!(
            "INSERT INTO ", $table,
            " (sensor_id, metric, bucket_ms, cnt, sum, min, max, last_ts_ms, last_value) ",
            "SELECT g.sensor_id, g.metric, g.bucket_ms, g.cnt, g.total, g.lo, g.hi, g.last_ts, o.value ",
            "FROM (SELECT sensor_id, metric, ",
            "ts_ms - (((ts_ms % ", $width, ") + ", $width, ") % ", $width, ") AS bucket_ms, ",
            "COUNT(*) AS cnt, SUM(value) AS total, MIN(value) AS lo, MAX(value) AS hi, ",
            "MAX(ts_ms) AS last_ts FROM observations WHERE ts_ms >= $1 ",
            "GROUP BY sensor_id, metric, ts_ms - (((ts_ms % ", $width, ") + ", $width, ") % ", $width, ")) g ",
            "JOIN observations o ON o.sensor_id = g.sensor_id AND o.metric = g.metric ",
            "AND o.ts_ms = g.last_ts"
        )
    };
}

pub(crate) use common_ops;
pub(crate) use refresh_sql;
