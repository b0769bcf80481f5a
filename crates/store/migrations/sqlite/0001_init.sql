-- CityBrain store schema, SQLite dialect. Append-only: add new files, never edit this one.
-- Times are INTEGER milliseconds since the Unix epoch (UTC), the same on both backends.

CREATE TABLE gateways (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    -- argon2id PHC string; NULL = no credentials set
    password_hash   TEXT,
    online          INTEGER,
    status_ts_ms    INTEGER,
    status_reason   TEXT
);

CREATE TABLE sensors (
    id              TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL,
    gateway_id      TEXT NOT NULL REFERENCES gateways (id),
    lat             REAL NOT NULL,
    lon             REAL NOT NULL,
    -- H3 cell of the location at resolution 15 (the finest), as a signed 64-bit integer
    cell            INTEGER NOT NULL,
    observes        TEXT,
    -- JSON array of metric names
    metrics         TEXT NOT NULL,
    -- 1 when the ingest path created it for an unknown sensor
    provisioned     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX sensors_gateway ON sensors (gateway_id);
CREATE INDEX sensors_cell ON sensors (cell);

-- obs_key is the idempotency key (domain::ObsKey); as the rowid it costs no extra index.
CREATE TABLE observations (
    obs_key         INTEGER PRIMARY KEY NOT NULL,
    sensor_id       TEXT NOT NULL,
    metric          TEXT NOT NULL,
    ts_ms           INTEGER NOT NULL,
    value           REAL NOT NULL
);
CREATE INDEX observations_series ON observations (sensor_id, metric, ts_ms);
CREATE INDEX observations_ts ON observations (ts_ms);

CREATE TABLE rollup_minute (
    sensor_id       TEXT NOT NULL,
    metric          TEXT NOT NULL,
    bucket_ms       INTEGER NOT NULL,
    cnt             INTEGER NOT NULL,
    sum             REAL NOT NULL,
    min             REAL NOT NULL,
    max             REAL NOT NULL,
    last_ts_ms      INTEGER NOT NULL,
    last_value      REAL NOT NULL,
    PRIMARY KEY (sensor_id, metric, bucket_ms)
) WITHOUT ROWID;
CREATE INDEX rollup_minute_bucket ON rollup_minute (bucket_ms);

CREATE TABLE rollup_hour (
    sensor_id       TEXT NOT NULL,
    metric          TEXT NOT NULL,
    bucket_ms       INTEGER NOT NULL,
    cnt             INTEGER NOT NULL,
    sum             REAL NOT NULL,
    min             REAL NOT NULL,
    max             REAL NOT NULL,
    last_ts_ms      INTEGER NOT NULL,
    last_value      REAL NOT NULL,
    PRIMARY KEY (sensor_id, metric, bucket_ms)
) WITHOUT ROWID;
CREATE INDEX rollup_hour_bucket ON rollup_hour (bucket_ms);

-- One row per sensor that has reported or changed status. The foreign key makes a batch
-- holding observations of an unregistered sensor fail as a whole.
CREATE TABLE sensor_status (
    sensor_id       TEXT PRIMARY KEY NOT NULL REFERENCES sensors (id),
    online          INTEGER,
    status_ts_ms    INTEGER,
    status_reason   TEXT,
    last_seen_ms    INTEGER,
    obs_total       INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE events (
    reporter        TEXT NOT NULL,
    id              TEXT NOT NULL,
    channel         TEXT NOT NULL,
    category        TEXT NOT NULL,
    priority        TEXT NOT NULL,
    ts_ms           INTEGER NOT NULL,
    lat             REAL,
    lon             REAL,
    body            TEXT NOT NULL,
    PRIMARY KEY (reporter, id)
);
CREATE INDEX events_ts ON events (ts_ms);

CREATE TABLE dead_letters (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    topic           TEXT NOT NULL,
    format          TEXT NOT NULL,
    payload         BLOB NOT NULL,
    truncated       INTEGER NOT NULL,
    reason          TEXT NOT NULL,
    received_ms     INTEGER NOT NULL
);
CREATE INDEX dead_letters_received ON dead_letters (received_ms);

-- Twin entities, kept generic: kind-specific fields live in attrs (JSON).
CREATE TABLE entities (
    id              TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    -- GeoJSON geometry object, as text
    geometry        TEXT NOT NULL,
    cell            INTEGER,
    community       TEXT,
    -- JSON object
    attrs           TEXT NOT NULL
);
CREATE INDEX entities_kind ON entities (kind);
