//! The `[http]`, `[auth]` and `[ops]` configuration sections.

use std::path::PathBuf;

use serde::Deserialize;

/// HTTP server settings (the `[http]` section).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Address to listen on. `127.0.0.1` keeps the API on this machine; use
    /// `0.0.0.0` behind a reverse proxy.
    pub bind: String,
    /// TCP port (0 = any free port).
    pub port: u16,
    /// Folder of the built dashboard (`index.html` and assets). Unset: the
    /// dashboard build next to the sources (`crates/api/dashboard/dist`) when
    /// present, else a plain status page.
    pub dashboard_dir: Option<PathBuf>,
    /// Origins allowed to call the API from a browser (CORS). Empty = CORS off.
    pub cors_origins: Vec<String>,
    /// Largest request body, bytes.
    pub body_limit_bytes: usize,
    /// Requests per second allowed per token (or per client address when
    /// anonymous); 0 = unlimited.
    pub rate_limit_per_sec: u32,
    /// Burst above the steady rate.
    pub rate_limit_burst: u32,
    /// Longest time a request may take, seconds (streams excluded).
    pub request_timeout_secs: u64,
    /// Updates buffered per live-stream client before the oldest are dropped
    /// (the client is told how many it missed).
    pub stream_buffer: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            bind: "127.0.0.1".into(),
            port: 8080,
            dashboard_dir: None,
            cors_origins: Vec::new(),
            body_limit_bytes: crate::BODY_LIMIT_BYTES,
            rate_limit_per_sec: 200,
            rate_limit_burst: 400,
            request_timeout_secs: 30,
            stream_buffer: 256,
        }
    }
}

/// Authentication settings (the `[auth]` section).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// Let requests without a token read (GET) as a viewer. Writes always
    /// need a token. On in `demo`.
    pub anonymous_read: bool,
    /// At start, create one token per role if the store has none, and write
    /// them (in clear, readable only by this user) to this file. `demo` uses
    /// `<data dir>/demo-tokens.json`.
    pub bootstrap_tokens_file: Option<PathBuf>,
}

/// Alarm and incident settings (the `[ops]` section).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpsConfig {
    /// Resolution targets per priority.
    pub sla: ops::SlaPolicy,
    /// Install the standard rule set (PM2.5, water level, detector occupancy,
    /// stale sensors) when the store holds no rules.
    pub default_rules: bool,
    /// Open incidents from citizen and IoT event reports.
    pub incidents_from_reports: bool,
}

impl Default for OpsConfig {
    fn default() -> Self {
        Self {
            sla: ops::SlaPolicy::default(),
            default_rules: true,
            incidents_from_reports: true,
        }
    }
}
