-- CityBrain store schema, PostgreSQL dialect. Append-only: add new files, never edit this one.
-- Times are BIGINT milliseconds since the Unix epoch (UTC), the same on both backends.

CREATE TABLE gateways (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    -- argon2id PHC string; NULL = no credentials set
    password_hash   TEXT,
    online          BOOLEAN,
    status_ts_ms    BIGINT,
    status_reason   TEXT
);

CREATE TABLE sensors (
    id              TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL,
    gateway_id      TEXT NOT NULL REFERENCES gateways (id),
    lat             DOUBLE PRECISION NOT NULL,
    lon             DOUBLE PRECISION NOT NULL,
    -- H3 cell of the location at resolution 15 (the finest), as a signed 64-bit integer
    cell            BIGINT NOT NULL,
    observes        TEXT,
    -- JSON array of metric names
    metrics         TEXT NOT NULL,
    -- true when the ingest path created it for an unknown sensor
    provisioned     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX sensors_gateway ON sensors (gateway_id);
CREATE INDEX sensors_cell ON sensors (cell);

-- obs_key is the idempotency key (domain::ObsKey).
CREATE TABLE observations (
    obs_key         BIGINT PRIMARY KEY NOT NULL,
    sensor_id       TEXT NOT NULL,
    metric          TEXT NOT NULL,
    ts_ms           BIGINT NOT NULL,
    value           DOUBLE PRECISION NOT NULL
);
CREATE INDEX observations_series ON observations (sensor_id, metric, ts_ms);
CREATE INDEX observations_ts ON observations (ts_ms);

CREATE TABLE rollup_minute (
    sensor_id       TEXT NOT NULL,
    metric          TEXT NOT NULL,
    bucket_ms       BIGINT NOT NULL,
    cnt             BIGINT NOT NULL,
    sum             DOUBLE PRECISION NOT NULL,
    min             DOUBLE PRECISION NOT NULL,
    max             DOUBLE PRECISION NOT NULL,
    last_ts_ms      BIGINT NOT NULL,
    last_value      DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (sensor_id, metric, bucket_ms)
);
CREATE INDEX rollup_minute_bucket ON rollup_minute (bucket_ms);

CREATE TABLE rollup_hour (
    sensor_id       TEXT NOT NULL,
    metric          TEXT NOT NULL,
    bucket_ms       BIGINT NOT NULL,
    cnt             BIGINT NOT NULL,
    sum             DOUBLE PRECISION NOT NULL,
    min             DOUBLE PRECISION NOT NULL,
    max             DOUBLE PRECISION NOT NULL,
    last_ts_ms      BIGINT NOT NULL,
    last_value      DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (sensor_id, metric, bucket_ms)
);
CREATE INDEX rollup_hour_bucket ON rollup_hour (bucket_ms);

-- One row per sensor that has reported or changed status. The foreign key makes a batch
-- holding observations of an unregistered sensor fail as a whole.
CREATE TABLE sensor_status (
    sensor_id       TEXT PRIMARY KEY NOT NULL REFERENCES sensors (id),
    online          BOOLEAN,
    status_ts_ms    BIGINT,
    status_reason   TEXT,
    last_seen_ms    BIGINT,
    obs_total       BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE events (
    reporter        TEXT NOT NULL,
    id              TEXT NOT NULL,
    channel         TEXT NOT NULL,
    category        TEXT NOT NULL,
    priority        TEXT NOT NULL,
    ts_ms           BIGINT NOT NULL,
    lat             DOUBLE PRECISION,
    lon             DOUBLE PRECISION,
    body            TEXT NOT NULL,
    PRIMARY KEY (reporter, id)
);
CREATE INDEX events_ts ON events (ts_ms);

CREATE TABLE dead_letters (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic           TEXT NOT NULL,
    format          TEXT NOT NULL,
    payload         BYTEA NOT NULL,
    truncated       BOOLEAN NOT NULL,
    reason          TEXT NOT NULL,
    received_ms     BIGINT NOT NULL
);
CREATE INDEX dead_letters_received ON dead_letters (received_ms);

-- Twin entities, kept generic: kind-specific fields live in attrs (JSON).
CREATE TABLE entities (
    id              TEXT PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL,
    name            TEXT NOT NULL,
    -- GeoJSON geometry object, as text
    geometry        TEXT NOT NULL,
    cell            BIGINT,
    community       TEXT,
    -- JSON object
    attrs           JSONB NOT NULL
);
CREATE INDEX entities_kind ON entities (kind);
