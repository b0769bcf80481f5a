-- Observations stored now, per sensor. Every batch adds the rows it inserted and retention
-- subtracts the rows it deleted, in the same transactions as the rows themselves, so that
-- Store::count_observations sums one small row per sensor instead of counting the table.
-- obs_total stays the monotonic count of observations ever stored.
--
-- Every stored observation has a sensor_status row: the batch that inserted it also upserted
-- its sensor's activity. The initial values are counted from the table once, here.
ALTER TABLE sensor_status ADD COLUMN obs_stored BIGINT NOT NULL DEFAULT 0;
UPDATE sensor_status AS s SET obs_stored = c.n
    FROM (SELECT sensor_id, COUNT(*) AS n FROM observations GROUP BY sensor_id) AS c
    WHERE s.sensor_id = c.sensor_id;
