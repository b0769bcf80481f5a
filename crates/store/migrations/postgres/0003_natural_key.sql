-- Observations become unique on their natural key (sensor_id, metric, ts_ms). Until now the
-- primary key was obs_key, a 63-bit hash of that triple, so two different observations whose
-- hashes collide were taken for one and the second was dropped.
--
-- obs_key is dropped (and its primary key with it): nothing reads it, and a non-unique hash
-- invites wrong joins. The natural key becomes the primary key, whose index replaces
-- observations_series (same columns, now unique).
--
-- Adding the key cannot fail on a duplicate: equal natural keys had equal obs_key, the old
-- primary key, so no two stored rows share one. Building the index locks the table for writes
-- inside the migration's transaction; see docs/specs/storage.md (Upgrading) for the time it takes.
ALTER TABLE observations DROP COLUMN obs_key;
ALTER TABLE observations ADD CONSTRAINT observations_pkey PRIMARY KEY (sensor_id, metric, ts_ms);
DROP INDEX observations_series;
