-- Observations become unique on their natural key (sensor_id, metric, ts_ms). Until now the
-- primary key was obs_key, a 63-bit hash of that triple, so two different observations whose
-- hashes collide were taken for one and the second was dropped.
--
-- SQLite cannot change a primary key in place, so the table is rebuilt WITHOUT ROWID with the
-- natural key as its primary key: the rows are stored in series order (the order of range
-- reads), and the former observations_series index is the table itself. obs_key is not kept:
-- nothing reads it, and a non-unique hash invites wrong joins.
--
-- The copy cannot fail on a duplicate: equal natural keys had equal obs_key, the old primary
-- key, so no two stored rows share one. It rewrites the whole table inside the migration's
-- transaction; see docs/specs/storage.md (Upgrading) for the time it takes.
CREATE TABLE observations_by_key (
    sensor_id       TEXT NOT NULL,
    metric          TEXT NOT NULL,
    ts_ms           INTEGER NOT NULL,
    value           REAL NOT NULL,
    PRIMARY KEY (sensor_id, metric, ts_ms)
) WITHOUT ROWID;
INSERT INTO observations_by_key (sensor_id, metric, ts_ms, value)
    SELECT sensor_id, metric, ts_ms, value FROM observations ORDER BY sensor_id, metric, ts_ms;
DROP TABLE observations;
ALTER TABLE observations_by_key RENAME TO observations;
CREATE INDEX observations_ts ON observations (ts_ms);
