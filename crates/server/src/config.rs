//! The server configuration: one section per adapter, each owned by the crate
//! that uses it. Layers: defaults < `--config FILE` < `CITYBRAIN__SECTION__KEY`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::layered;

/// Everything `citybrain serve` and `citybrain demo` read.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Which city to load.
    pub city: CityConfig,
    /// The embedded MQTT broker.
    pub broker: BrokerConfig,
    /// How ingest connects to the broker (embedded or external).
    pub mqtt: ingest::MqttConfig,
    /// Decoding limits, unknown-sensor policy, FIWARE apikeys, live follow.
    pub ingest: IngestConfig,
    /// How the writer batches, commits and acknowledges.
    pub writer: WriterConfig,
    /// The database (SQLite file or PostgreSQL).
    pub db: store::DbConfig,
    /// The live twin: resolutions, windows, health thresholds.
    pub twin: TwinSection,
    /// HTTP API, live streams and the dashboard.
    pub http: api::HttpConfig,
    /// Tokens and anonymous access.
    pub auth: api::AuthConfig,
    /// Alarm rules and incident SLAs.
    pub ops: api::OpsConfig,
    /// Gateway simulators (on in `demo`, off in `serve`).
    pub simulators: simulators::SimConfig,
}

impl Config {
    /// Loads the layers: defaults, the optional file, then the environment.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        let text = match file {
            Some(p) => Some(
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
            ),
            None => None,
        };
        let name = file.map(|p| p.display().to_string()).unwrap_or_default();
        let cfg: Config = layered::load(text.as_deref().map(|t| (name.as_str(), t)), env)?;
        Ok(cfg)
    }
}

/// Where the city comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CityConfig {
    /// `demo` (central Helsinki from OpenStreetMap, with a generated sensor
    /// deployment), `osm` (an `.osm.pbf` file, plus GeoJSON layers),
    /// `geojson` (GeoJSON layers only), `synthetic` (a seeded generated city)
    /// or `store` (the entities and registry already in the database).
    pub source: CitySource,
    /// Display name.
    pub name: String,
    /// `.osm.pbf` file for `source = "osm"`.
    pub osm_file: Option<PathBuf>,
    /// GeoJSON files with extra entities (communities, feeders, sensors).
    pub geojson_files: Vec<PathBuf>,
    /// Seed of the demo sensor deployment and of synthetic cities.
    pub seed: u64,
    /// Synthetic cities: intersections along x.
    pub synthetic_grid_x: u32,
    /// Synthetic cities: intersections along y.
    pub synthetic_grid_y: u32,
}

/// City sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CitySource {
    /// The embedded Helsinki extract.
    Demo,
    /// An OSM file.
    Osm,
    /// GeoJSON only.
    Geojson,
    /// A generated grid city.
    Synthetic,
    /// What the database holds.
    Store,
}

impl Default for CityConfig {
    fn default() -> Self {
        Self {
            source: CitySource::Demo,
            name: "Helsinki (demo)".into(),
            osm_file: None,
            geojson_files: Vec::new(),
            seed: 7,
            synthetic_grid_x: 20,
            synthetic_grid_y: 20,
        }
    }
}

/// The embedded MQTT broker (rumqttd).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BrokerConfig {
    /// Run the embedded broker in this process. On in `demo`; in `serve`,
    /// off unless configured (production uses a clustered broker).
    pub enabled: Option<bool>,
    /// Address to listen on.
    pub host: String,
    /// MQTT 5 port (0 = any free port). Not 1883, where a system broker often listens.
    pub port: u16,
    /// MQTT 3.1.1 port for gateways that speak 3.1.1 (0 = any free port; unset = none).
    pub v4_port: Option<u16>,
    /// Most unacknowledged QoS 1 messages per connection.
    pub max_inflight: usize,
    /// Most concurrent connections.
    pub max_connections: usize,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        Self {
            enabled: None,
            host: "127.0.0.1".into(),
            port: 18830,
            v4_port: Some(18831),
            max_inflight: 256,
            max_connections: 10_000,
        }
    }
}

/// Decoding rules of the ingest path.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    /// Deepest JSON nesting accepted.
    pub max_json_depth: usize,
    /// Most records in one message.
    pub max_records: usize,
    /// Longest event text kept, bytes.
    pub max_text_bytes: usize,
    /// Largest accepted lead of a timestamp over the receive time, ms.
    pub max_future_ms: i64,
    /// Largest accepted age of a timestamp at receive time, ms.
    pub max_age_ms: i64,
    /// `reject` unknown sensors (dead letter) or `auto_provision` them when
    /// their gateway is registered.
    pub unknown_sensors: UnknownSensors,
    /// FIWARE IoT Agent apikey → gateway id. In `demo`, every gateway also
    /// gets `apikey-{gateway}`.
    pub fiware_apikeys: BTreeMap<String, String>,
    /// Feed the twin from a second, plain (non-shared) subscription instead of
    /// from this process's own commits. Turn on in every process that serves
    /// live state when several processes share the ingest load.
    pub follow: bool,
}

/// Unknown-sensor policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnknownSensors {
    /// Dead-letter.
    Reject,
    /// Register them on the fly.
    AutoProvision,
}

impl Default for IngestConfig {
    fn default() -> Self {
        let l = ingest::Limits::default();
        Self {
            max_json_depth: l.max_json_depth,
            max_records: l.max_records,
            max_text_bytes: l.max_text_bytes,
            max_future_ms: l.window.max_future_ms,
            max_age_ms: l.window.max_age_ms,
            unknown_sensors: UnknownSensors::Reject,
            fiware_apikeys: BTreeMap::new(),
            follow: false,
        }
    }
}

/// How the writer turns deliveries into durable batches.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WriterConfig {
    /// Most observations in one transaction.
    pub batch_max_observations: usize,
    /// Longest wait for more deliveries before committing, ms.
    pub batch_max_wait_ms: u64,
    /// First retry delay after a retryable store error, ms.
    pub retry_min_ms: u64,
    /// Largest retry delay, ms.
    pub retry_max_ms: u64,
    /// Batches committed at once; 0 = by backend (SQLite 1: it has one
    /// writer; PostgreSQL 2). Acknowledgements keep arrival order whatever
    /// this is.
    pub concurrency: usize,
}

impl Default for WriterConfig {
    fn default() -> Self {
        Self {
            batch_max_observations: 10_000,
            batch_max_wait_ms: 25,
            retry_min_ms: 100,
            retry_max_ms: 10_000,
            concurrency: 0,
        }
    }
}

impl WriterConfig {
    /// Batches in flight for this backend (at least 1).
    pub fn concurrency_for(&self, backend: store::Backend) -> usize {
        match (self.concurrency, backend) {
            (0, store::Backend::Sqlite) => 1,
            (0, store::Backend::Postgres) => 2,
            (n, _) => n,
        }
    }
}

/// The `[twin]` section (see `twin::TwinConfig`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TwinSection {
    /// Base H3 resolution of entities and observations.
    pub base_resolution: u8,
    /// Roll-up resolutions.
    pub rollup_resolutions: Vec<u8>,
    /// Tumbling window of cell aggregates, seconds.
    pub window_secs: u32,
    /// A sensor silent this long is stale, seconds.
    pub stale_after_secs: u32,
    /// How often readers get a new snapshot, ms.
    pub snapshot_every_ms: u64,
    /// How often live cell updates are pushed to streams, ms.
    pub live_every_ms: u64,
}

impl Default for TwinSection {
    fn default() -> Self {
        Self {
            base_resolution: 10,
            rollup_resolutions: vec![7, 8, 9, 10],
            window_secs: 60,
            stale_after_secs: 900,
            snapshot_every_ms: 100,
            live_every_ms: 1000,
        }
    }
}

impl TwinSection {
    /// The pure crate's config.
    pub fn to_twin(&self) -> anyhow::Result<twin::TwinConfig> {
        use anyhow::Context as _;
        let res = |r: u8| {
            h3o::Resolution::try_from(r).with_context(|| format!("H3 resolution {r} is not 0-15"))
        };
        let cfg = twin::TwinConfig {
            base_resolution: res(self.base_resolution)?,
            rollup_resolutions: self
                .rollup_resolutions
                .iter()
                .map(|r| res(*r))
                .collect::<anyhow::Result<_>>()?,
            window_ms: i64::from(self.window_secs) * 1000,
            stale_after_ms: i64::from(self.stale_after_secs) * 1000,
            ..twin::TwinConfig::default()
        };
        Ok(cfg.validated()?)
    }
}

impl IngestConfig {
    /// The decoding limits.
    pub fn limits(&self, max_payload_bytes: usize) -> ingest::Limits {
        ingest::Limits {
            max_payload_bytes,
            max_json_depth: self.max_json_depth,
            max_records: self.max_records,
            max_text_bytes: self.max_text_bytes,
            window: domain::TimeWindow {
                max_future_ms: self.max_future_ms,
                max_age_ms: self.max_age_ms,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_documents_keys_that_parse() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/config.example.toml");
        let cfg = Config::load(Some(&path), Vec::new()).expect("deploy/config.example.toml parses");
        assert!(cfg.twin.to_twin().is_ok());
    }

    #[test]
    fn env_overrides_reach_adapter_sections() {
        let env = vec![
            ("CITYBRAIN__MQTT__PORT".to_owned(), "1999".to_owned()),
            (
                "CITYBRAIN__DB__URL".to_owned(),
                "postgres://u@h/db".to_owned(),
            ),
            (
                "CITYBRAIN__SIMULATORS__ENABLED".to_owned(),
                "false".to_owned(),
            ),
        ];
        let cfg = Config::load(None, env).unwrap();
        assert_eq!(cfg.mqtt.port, 1999);
        assert_eq!(cfg.db.url.as_deref(), Some("postgres://u@h/db"));
        assert!(!cfg.simulators.enabled);
    }

    #[test]
    fn misspelt_keys_are_rejected() {
        let env = vec![("CITYBRAIN__MQTT__PROT".to_owned(), "1".to_owned())];
        let e = Config::load(None, env).unwrap_err();
        assert!(format!("{e:#}").contains("prot"), "{e:#}");
    }
}
