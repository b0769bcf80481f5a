-- Operations centre, API and NGSI-LD tables, SQLite dialect. Append-only.
-- Documents (`doc`) are JSON text whose schema the API owns; the columns next to them are
-- copies of the fields that queries filter or sort on. Times are INTEGER ms since the epoch.

CREATE TABLE alarm_rules (
    id              INTEGER PRIMARY KEY NOT NULL,
    enabled         INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL,
    doc             TEXT NOT NULL
);

CREATE TABLE alarms (
    id              INTEGER PRIMARY KEY NOT NULL,
    rule_id         INTEGER NOT NULL,
    -- open | acknowledged | cleared
    state           TEXT NOT NULL,
    opened_ms       INTEGER NOT NULL,
    cleared_ms      INTEGER,
    incident_id     INTEGER,
    doc             TEXT NOT NULL
);
CREATE INDEX alarms_state ON alarms (state, opened_ms);
CREATE INDEX alarms_opened ON alarms (opened_ms);

CREATE TABLE incidents (
    id              INTEGER PRIMARY KEY NOT NULL,
    -- REPORTED | DISPATCHED | IN_PROGRESS | RESOLVED | CLOSED | ESCALATED | REOPENED
    state           TEXT NOT NULL,
    community       TEXT,
    -- H3 cell (resolution 9) as a signed 64-bit integer
    cell            INTEGER,
    created_ms      INTEGER NOT NULL,
    sla_due_ms      INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL,
    doc             TEXT NOT NULL
);
CREATE INDEX incidents_state ON incidents (state);
CREATE INDEX incidents_community ON incidents (community);
CREATE INDEX incidents_cell ON incidents (cell);
CREATE INDEX incidents_created ON incidents (created_ms);
CREATE INDEX incidents_sla_due ON incidents (sla_due_ms);

-- API tokens: only the argon2id hash of a token is stored.
CREATE TABLE api_tokens (
    id              TEXT PRIMARY KEY NOT NULL,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL,
    -- JSON object {communities: [...], cells: [...]}
    scope           TEXT NOT NULL,
    hash            TEXT NOT NULL,
    revoked         INTEGER NOT NULL DEFAULT 0,
    created_ms      INTEGER NOT NULL
);

-- One row per write request (method other than GET, HEAD, OPTIONS), refused ones included.
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    ts_ms           INTEGER NOT NULL,
    principal       TEXT NOT NULL,
    method          TEXT NOT NULL,
    path            TEXT NOT NULL,
    status          INTEGER NOT NULL,
    entity          TEXT,
    request_id      TEXT
);
CREATE INDEX audit_log_ts ON audit_log (ts_ms);

-- NGSI-LD entities created through the API (twin entities are not stored here).
CREATE TABLE ngsi_entities (
    id              TEXT PRIMARY KEY NOT NULL,
    type            TEXT NOT NULL,
    -- GeoJSON geometry of the `location` attribute, if any
    location        TEXT,
    created_ms      INTEGER NOT NULL,
    modified_ms     INTEGER NOT NULL,
    -- the entity in NGSI-LD normalized form
    doc             TEXT NOT NULL
);
CREATE INDEX ngsi_entities_type ON ngsi_entities (type, id);

CREATE TABLE ngsi_subscriptions (
    id              TEXT PRIMARY KEY NOT NULL,
    created_ms      INTEGER NOT NULL,
    modified_ms     INTEGER NOT NULL,
    doc             TEXT NOT NULL
);

-- Static indicator inputs (annual statistics) entered by planners.
CREATE TABLE indicator_inputs (
    indicator       TEXT NOT NULL,
    year            INTEGER NOT NULL,
    value           REAL NOT NULL,
    numerator       REAL,
    denominator     REAL,
    quality         REAL NOT NULL,
    updated_ms      INTEGER NOT NULL,
    updated_by      TEXT NOT NULL,
    PRIMARY KEY (indicator, year)
);

-- The live composite index, sampled about once a minute.
CREATE TABLE indicator_history (
    ts_ms           INTEGER PRIMARY KEY NOT NULL,
    composite       REAL,
    doc             TEXT NOT NULL
);
