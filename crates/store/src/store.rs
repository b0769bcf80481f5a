//! [`Store`]: the public face of both backends.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use domain::{
    EventReport, Metric, Observation, Registry, SensorId, SensorKind, SensorSpec, Timestamp,
};
use sqlx::{PgPool, SqlitePool};

use crate::config::RetentionConfig;
use crate::{
    Batch, BatchStats, EntityRecord, Error, GatewayRecord, Resolution, RetentionStats, Rollup,
    RollupTarget, SensorStatus, StoredDeadLetter, cell, credentials, row, telemetry,
};

/// The connection pool of one backend.
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Settings the running store needs (validated by [`crate::DbConfig::build`]).
pub(crate) struct Settings {
    pub batch_size: usize,
    pub retention: RetentionConfig,
}

struct Inner {
    db: Db,
    settings: Settings,
}

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// The SQL store. Cheap to clone (the pool is shared); every method behaves
/// the same on SQLite and PostgreSQL.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// Runs `$body` with `$pool` bound to the backend's pool and `$be` to the
/// backend's SQL module.
macro_rules! on_db {
    ($self:ident, |$pool:ident, $be:ident| $body:expr) => {
        match &$self.inner.db {
            Db::Sqlite($pool) => {
                use crate::sqlite as $be;
                $body
            }
            Db::Postgres($pool) => {
                use crate::postgres as $be;
                $body
            }
        }
    };
}

/// Records a failed operation in telemetry and passes the result on.
fn observed<T>(op: &'static str, r: Result<T, Error>) -> Result<T, Error> {
    if let Err(e) = &r {
        telemetry::error(op, e);
    }
    r
}

const DAY_MS: i64 = 86_400_000;

impl Store {
    pub(crate) fn new(db: Db, settings: Settings) -> Self {
        Self {
            inner: Arc::new(Inner { db, settings }),
        }
    }

    /// The connection pool (for the operations module).
    pub(crate) fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        match self.inner.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    fn chunk(&self) -> usize {
        self.inner.settings.batch_size
    }

    // ----- writes -----

    /// Writes a [`Batch`] in one transaction and returns what was new.
    ///
    /// Observations are keyed by their natural key `(sensor, metric, ts)`
    /// (`ON CONFLICT DO NOTHING`; within the batch the first copy wins); only
    /// the rows actually inserted feed the minute and hour roll-ups and the
    /// sensors' `last_seen` and counters, so a redelivered batch changes
    /// nothing. When this returns `Ok`, the batch is durable and the MQTT
    /// messages it came from may be acknowledged. On `Err`, nothing of the
    /// batch was written; retry later if [`Error::is_retryable`], otherwise the
    /// batch itself is at fault (e.g. an unregistered sensor).
    pub async fn insert_batch(&self, batch: &Batch) -> Result<BatchStats, Error> {
        if batch.is_empty() {
            return Ok(BatchStats::default());
        }
        let t0 = Instant::now();
        let chunk = self.chunk();
        let r = on_db!(self, |p, be| be::insert_batch(p, batch, chunk).await);
        if let Ok(stats) = &r {
            telemetry::batch_committed(stats, t0.elapsed());
        }
        observed("insert_batch", r)
    }

    /// Registers gateways (insert or update the name). A record with a
    /// password stores its argon2id hash; `password: None` keeps the stored
    /// credentials. One transaction.
    pub async fn upsert_gateways(&self, gateways: &[GatewayRecord]) -> Result<(), Error> {
        let r = async {
            let mut rows = Vec::with_capacity(gateways.len());
            for g in gateways {
                let hash = match &g.password {
                    Some(pw) => {
                        let (id, pw) = (g.spec.id.to_string(), pw.clone());
                        Some(
                            tokio::task::spawn_blocking(move || credentials::hash(&id, &pw))
                                .await
                                .map_err(|source| Error::Task {
                                    op: "upsert_gateways",
                                    source,
                                })??,
                        )
                    }
                    None => None,
                };
                rows.push((g.spec.clone(), hash));
            }
            on_db!(self, |p, be| be::upsert_gateways(p, &rows).await)
        }
        .await;
        observed("upsert_gateways", r)
    }

    /// Registers sensors: inserts new ones and replaces stored ones (the last
    /// spec of a repeated id wins). A missing gateway is created, named after
    /// its id, as [`Registry::upsert_sensor`] does. Returns the rows written.
    pub async fn upsert_sensors(&self, sensors: &[SensorSpec]) -> Result<u64, Error> {
        let r = async {
            let rows = row::sensor_rows(sensors)?;
            let chunk = self.chunk();
            on_db!(self, |p, be| be::upsert_sensors(p, &rows, chunk).await)
        }
        .await;
        observed("upsert_sensors", r)
    }

    /// Upserts twin entities (one transaction; the last record of a repeated
    /// id wins). Geometry must be a GeoJSON geometry object and `attrs` a JSON
    /// object. Returns the rows written.
    pub async fn upsert_entities(&self, entities: &[EntityRecord]) -> Result<u64, Error> {
        let r = async {
            let rows = row::entity_rows(entities)?;
            let chunk = self.chunk();
            on_db!(self, |p, be| be::upsert_entities(p, &rows, chunk).await)
        }
        .await;
        observed("upsert_entities", r)
    }

    /// Recomputes the minute and hour roll-ups of every bucket that starts at
    /// or after the bucket holding `since`, from the raw observations, in one
    /// transaction. Idempotent: a repair job after manual edits or a change of
    /// roll-up rules. Buckets whose raw rows were already removed by retention
    /// would be emptied, so keep `since` inside the raw retention horizon.
    /// Returns the roll-up rows written.
    pub async fn refresh_rollups(&self, since: Timestamp) -> Result<u64, Error> {
        let r = on_db!(self, |p, be| be::refresh_rollups(p, since).await);
        observed("refresh_rollups", r)
    }

    /// Deletes what is older than the configured horizons, measured back from
    /// `now`: raw observations by timestamp, roll-up rows whose whole bucket is
    /// older, dead letters by receive time. A horizon of 0 days keeps forever.
    /// Raw rows go in slices of 10,000 so writers are not blocked for long;
    /// each slice lowers the running total of [`Store::count_observations`]
    /// in its own transaction.
    pub async fn apply_retention(&self, now: Timestamp) -> Result<RetentionStats, Error> {
        let ret = &self.inner.settings.retention;
        let cut = |days: u32| (days > 0).then(|| now.0 - i64::from(days) * DAY_MS);
        let (raw, minute, hour, dead) = (
            cut(ret.raw_days),
            cut(ret.minute_rollup_days),
            cut(ret.hour_rollup_days),
            cut(ret.dead_letter_days),
        );
        let r = on_db!(self, |p, be| be::apply_retention(
            p, raw, minute, hour, dead, 10_000
        )
        .await);
        if let Ok(s) = &r {
            telemetry::retention_applied(s);
        }
        observed("apply_retention", r)
    }

    // ----- reads -----

    /// Gateways and sensors, as the ingest path needs them.
    pub async fn load_registry(&self) -> Result<Registry, Error> {
        let r = on_db!(self, |p, be| be::load_registry(p).await);
        observed("load_registry", r)
    }

    /// Whether `password` is the gateway's password. Unknown gateways and
    /// gateways without credentials never verify (and take as long to say so).
    pub async fn verify_gateway(&self, id: &str, password: &str) -> Result<bool, Error> {
        let r = async {
            let stored = on_db!(self, |p, be| be::gateway_hash(p, id).await)?;
            let (phc, known) = match stored.flatten() {
                Some(h) => (h, true),
                None => (credentials::decoy().to_owned(), false),
            };
            let pw = password.to_owned();
            let ok = tokio::task::spawn_blocking(move || credentials::verify(&pw, &phc))
                .await
                .map_err(|source| Error::Task {
                    op: "verify_gateway",
                    source,
                })?;
            Ok(ok && known)
        }
        .await;
        observed("verify_gateway", r)
    }

    /// Every stored entity, in id order.
    pub async fn entities(&self) -> Result<Vec<EntityRecord>, Error> {
        let r = on_db!(self, |p, be| be::entities(p).await);
        observed("entities", r)
    }

    /// Number of raw observations stored now (after retention), exact and
    /// cheap: a running total per sensor that every batch raises and retention
    /// lowers in the same transactions as the rows, summed over the sensors
    /// (one row each) rather than counted over the table.
    pub async fn count_observations(&self) -> Result<u64, Error> {
        let r = on_db!(self, |p, be| be::count_observations(p).await);
        observed("count_observations", r)
    }

    /// Number of raw observations stored now, counted row by row (`COUNT(*)`
    /// over the table: slow on a large table). For tests and for checking the
    /// running total of [`Store::count_observations`].
    pub async fn count_observations_exact(&self) -> Result<u64, Error> {
        let r = on_db!(self, |p, be| be::count_observations_exact(p).await);
        observed("count_observations_exact", r)
    }

    /// Observations stored per sensor kind since the sensors were registered:
    /// a monotonic count (retention does not lower it), cheap to read (one row
    /// per sensor), with every kind present.
    pub async fn count_by_sensor_kind(&self) -> Result<BTreeMap<SensorKind, u64>, Error> {
        let r = async {
            let rows = on_db!(self, |p, be| be::count_by_sensor_kind(p).await)?;
            let mut out: BTreeMap<SensorKind, u64> =
                SensorKind::ALL.into_iter().map(|k| (k, 0)).collect();
            for (kind, n) in rows {
                *out.entry(row::sensor_kind(&kind)?).or_default() += n;
            }
            Ok(out)
        }
        .await;
        observed("count_by_sensor_kind", r)
    }

    /// Raw observations of one series with `from <= ts < to`, oldest first, at
    /// most `limit`.
    pub async fn observations(
        &self,
        sensor: &SensorId,
        metric: &Metric,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<Observation>, Error> {
        let r = on_db!(self, |p, be| be::observations(
            p, sensor, metric, from, to, limit
        )
        .await);
        observed("observations", r)
    }

    /// Roll-ups of `metric` for the buckets that overlap `[from, to)`, oldest
    /// first. For a cell, the buckets of every sensor located in the cell are
    /// merged (counts and sums add, min/max combine, `last` is the latest
    /// reading; on equal times the sensor with the greatest id wins).
    pub async fn rollups(
        &self,
        target: &RollupTarget,
        metric: &Metric,
        resolution: Resolution,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Rollup>, Error> {
        let r = async {
            let from = from.floor_to(resolution.width_ms()).0;
            match target {
                RollupTarget::Sensor(s) => {
                    on_db!(self, |p, be| be::sensor_rollups(
                        p,
                        s.as_str(),
                        metric.as_str(),
                        resolution,
                        from,
                        to.0
                    )
                    .await)
                }
                RollupTarget::Cell(c) => {
                    let range = cell::descendant_range(*c)?;
                    on_db!(self, |p, be| be::cell_rollups(
                        p,
                        range,
                        metric.as_str(),
                        resolution,
                        from,
                        to.0
                    )
                    .await)
                }
            }
        }
        .await;
        observed("rollups", r)
    }

    /// Dead letters, newest first.
    pub async fn dead_letters(
        &self,
        limit: u32,
        offset: u64,
    ) -> Result<Vec<StoredDeadLetter>, Error> {
        let r = on_db!(self, |p, be| be::dead_letters(p, limit, offset).await);
        observed("dead_letters", r)
    }

    /// Number of dead letters stored.
    pub async fn dead_letter_count(&self) -> Result<u64, Error> {
        let r = on_db!(self, |p, be| be::dead_letter_count(p).await);
        observed("dead_letter_count", r)
    }

    /// Event reports, newest first (by event time).
    pub async fn events(&self, limit: u32, offset: u64) -> Result<Vec<EventReport>, Error> {
        let r = on_db!(self, |p, be| be::events(p, limit, offset).await);
        observed("events", r)
    }

    /// Number of event reports stored.
    pub async fn event_count(&self) -> Result<u64, Error> {
        let r = on_db!(self, |p, be| be::event_count(p).await);
        observed("event_count", r)
    }

    /// Status of every registered sensor, in id order.
    pub async fn sensor_status(&self) -> Result<Vec<SensorStatus>, Error> {
        let r = on_db!(self, |p, be| be::sensor_status(p).await);
        observed("sensor_status", r)
    }

    /// Runs `SELECT 1`: a readiness probe.
    pub async fn ping(&self) -> Result<(), Error> {
        on_db!(self, |p, be| be::ping(p).await)
    }

    /// Closes the pool, waiting for checked-out connections to come back.
    pub async fn close(&self) {
        match &self.inner.db {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}
