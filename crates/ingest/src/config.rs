//! `[mqtt]` configuration: validated once by [`MqttConfig::build`].

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

use crate::client::MqttIngest;
use crate::{ConfigError, Limits};

/// A secret string whose `Debug` is redacted. Give it through the environment
/// (`CITYBRAIN__MQTT__PASSWORD`) or a file (`password_file`), never in a
/// committed config file.
#[derive(Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself; use it only where it is sent.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How ingest connects to the MQTT broker (the `[mqtt]` config section).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// Broker address as `mqtt://host[:port]` (or `tcp://`). When set it
    /// overrides `host` and `port`. TLS (`mqtts://`) is not built in.
    pub url: Option<String>,
    /// Broker host name or IP address (used when `url` is not set).
    pub host: String,
    /// Broker TCP port (used when `url` is not set). The default matches the
    /// embedded broker, which avoids 1883 where a system Mosquitto often listens.
    pub port: u16,
    /// MQTT client id. It names the persistent session on the broker, so each
    /// ingest process needs its own stable id (e.g. `citybrain-ingest-1`).
    pub client_id: String,
    /// Username for the broker, if it requires one.
    pub username: Option<String>,
    /// Password for the broker; set it through the environment
    /// (`CITYBRAIN__MQTT__PASSWORD`). Redacted in logs.
    pub password: Option<Secret>,
    /// File holding the password (trailing newline removed); alternative to `password`.
    pub password_file: Option<PathBuf>,
    /// Topic filters to subscribe to (QoS 1). See `docs/specs/mqtt.md` §1.
    pub topics: Vec<String>,
    /// When set, subscribe through the MQTT 5 shared subscription
    /// `$share/{shared_group}/{filter}` so that several ingest processes split
    /// the load. Leave unset for a process that must see every message.
    pub shared_group: Option<String>,
    /// Start a fresh session on every connect. Keep `false`: the broker then
    /// keeps the subscription and unacknowledged messages while ingest is down.
    pub clean_start: bool,
    /// How long the broker keeps the session after a disconnect, seconds.
    pub session_expiry_secs: u32,
    /// MQTT keep-alive interval, seconds (5-3600).
    pub keep_alive_secs: u64,
    /// Receive maximum: most unacknowledged QoS 1 messages the broker may
    /// have in flight to this client (1-65535). Bounds memory when the store
    /// is slow; size the delivery channel to at least this (see
    /// [`MqttIngest::channel_capacity`]). Mosquitto's `max_inflight_messages`
    /// should be at least this large.
    pub inflight: u16,
    /// Largest payload decoded, bytes. Payloads up to twice this size are
    /// dead-lettered as `payload_too_large`; the client tells the broker not
    /// to send packets larger than that at all.
    pub max_payload_bytes: usize,
    /// First reconnect delay, milliseconds; doubles per failed attempt.
    pub reconnect_min_ms: u64,
    /// Largest reconnect delay, milliseconds. Each delay is jittered to 50-100% of its value.
    pub reconnect_max_ms: u64,
    /// How long to wait for the TCP connect and CONNACK, seconds.
    pub connect_timeout_secs: u64,
}

impl Default for MqttConfig {
    fn default() -> Self {
        Self {
            url: None,
            host: "127.0.0.1".into(),
            port: crate::broker::DEFAULT_PORT,
            client_id: "citybrain-ingest".into(),
            username: None,
            password: None,
            password_file: None,
            topics: default_topics(),
            shared_group: None,
            clean_start: false,
            session_expiry_secs: 7 * 86_400,
            keep_alive_secs: 30,
            inflight: 256,
            max_payload_bytes: Limits::default().max_payload_bytes,
            reconnect_min_ms: 100,
            reconnect_max_ms: 30_000,
            connect_timeout_secs: 10,
        }
    }
}

/// The subscription filters that cover every topic scheme of the contract.
pub fn default_topics() -> Vec<String> {
    [
        "citybrain/v1/+/+",
        "/json/+/+/attrs",
        "/json/+/+/attrs/+",
        "spBv1.0/+/+/+/#",
    ]
    .map(String::from)
    .to_vec()
}

/// Parses `mqtt://host[:port]`, `tcp://host[:port]` (port default 1883).
pub(crate) fn parse_url(url: &str) -> Option<(String, u16)> {
    let rest = url
        .strip_prefix("mqtt://")
        .or_else(|| url.strip_prefix("tcp://"))?;
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.contains('/') || rest.contains('@') {
        return None;
    }
    // [v6]:port, host:port or host
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (h, tail) = v6.split_once(']')?;
        let port = match tail.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if tail.is_empty() => 1883,
            None => return None,
        };
        (h.to_owned(), port)
    } else {
        match rest.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), p.parse().ok()?),
            None => (rest.to_owned(), 1883),
        }
    };
    (!host.is_empty() && port != 0).then_some((host, port))
}

fn check_filter(f: &str) -> Result<(), ConfigError> {
    let bad = |why| ConfigError::TopicFilter {
        filter: f.chars().take(128).collect(),
        why,
    };
    if f.is_empty() {
        return Err(bad("empty"));
    }
    if f.starts_with("$share/") {
        return Err(bad("use shared_group instead of a $share/ prefix"));
    }
    let levels: Vec<&str> = f.split('/').collect();
    for (i, l) in levels.iter().enumerate() {
        if l.contains('#') && (*l != "#" || i + 1 != levels.len()) {
            return Err(bad("# must be a whole last level"));
        }
        if l.contains('+') && *l != "+" {
            return Err(bad("+ must be a whole level"));
        }
    }
    Ok(())
}

impl MqttConfig {
    /// Validates the configuration and reads the password file, giving the
    /// runtime client. No network I/O happens here.
    pub fn build(self) -> Result<MqttIngest, ConfigError> {
        let (host, port) = match &self.url {
            Some(u) => parse_url(u).ok_or_else(|| ConfigError::InvalidUrl { url: u.clone() })?,
            None => (self.host.clone(), self.port),
        };
        if host.is_empty() {
            return Err(ConfigError::InvalidUrl { url: host });
        }
        if self.client_id.is_empty() || self.client_id.len() > 256 {
            return Err(ConfigError::ClientId {
                len: self.client_id.len(),
            });
        }
        if self.topics.is_empty() {
            return Err(ConfigError::TopicFilter {
                filter: String::new(),
                why: "at least one topic filter is needed",
            });
        }
        for f in &self.topics {
            check_filter(f)?;
        }
        if let Some(g) = &self.shared_group
            && (g.is_empty() || g.contains(['/', '+', '#']))
        {
            return Err(ConfigError::SharedGroup { group: g.clone() });
        }
        let range = |field, value: u64, lo: u64, hi: u64, allowed| {
            if (lo..=hi).contains(&value) {
                Ok(())
            } else {
                Err(ConfigError::OutOfRange {
                    field,
                    value,
                    allowed,
                })
            }
        };
        range("keep_alive_secs", self.keep_alive_secs, 5, 3600, "5-3600")?;
        range("inflight", u64::from(self.inflight), 1, 65_535, "1-65535")?;
        range(
            "max_payload_bytes",
            self.max_payload_bytes as u64,
            64,
            128 * 1024 * 1024,
            "64 B - 128 MiB",
        )?;
        range(
            "reconnect_min_ms",
            self.reconnect_min_ms,
            1,
            600_000,
            "1-600000",
        )?;
        range(
            "reconnect_max_ms",
            self.reconnect_max_ms,
            self.reconnect_min_ms,
            3_600_000,
            "reconnect_min_ms-3600000",
        )?;
        range(
            "connect_timeout_secs",
            self.connect_timeout_secs,
            1,
            600,
            "1-600",
        )?;
        let password = match (&self.password, &self.password_file) {
            (Some(_), Some(_)) => return Err(ConfigError::TwoPasswords),
            (Some(p), None) => Some(p.clone()),
            (None, Some(path)) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| ConfigError::PasswordFile {
                        path: path.clone(),
                        source,
                    })?;
                Some(Secret::new(text.trim_end_matches(['\n', '\r'])))
            }
            (None, None) => None,
        };
        if password.is_some() && self.username.is_none() {
            return Err(ConfigError::PasswordWithoutUsername);
        }
        let filters = self
            .topics
            .iter()
            .map(|f| match &self.shared_group {
                Some(g) => format!("$share/{g}/{f}"),
                None => f.clone(),
            })
            .collect();
        Ok(MqttIngest::new(crate::client::Settings {
            host,
            port,
            client_id: self.client_id,
            credentials: self.username.map(|u| (u, password.unwrap_or_default())),
            filters,
            clean_start: self.clean_start,
            session_expiry_secs: self.session_expiry_secs,
            keep_alive_secs: self.keep_alive_secs,
            inflight: self.inflight,
            max_payload_bytes: self.max_payload_bytes,
            reconnect_min_ms: self.reconnect_min_ms,
            reconnect_max_ms: self.reconnect_max_ms,
            connect_timeout_secs: self.connect_timeout_secs,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_with_and_without_port() {
        assert_eq!(
            parse_url("mqtt://127.0.0.1:1883"),
            Some(("127.0.0.1".into(), 1883))
        );
        assert_eq!(parse_url("tcp://broker"), Some(("broker".into(), 1883)));
        assert_eq!(
            parse_url("mqtt://[::1]:18830/"),
            Some(("::1".into(), 18830))
        );
        for bad in [
            "http://x:1",
            "mqtt://",
            "mqtt://h:0",
            "mqtt://h:x",
            "mqtt://u:p@h:1",
            "mqtts://h",
        ] {
            assert_eq!(parse_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_default_config_builds_and_bad_values_are_named() {
        assert!(MqttConfig::default().build().is_ok());
        let bad = |c: MqttConfig| c.build().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(
            bad(MqttConfig {
                inflight: 0,
                ..Default::default()
            })
            .contains("inflight")
        );
        assert!(
            bad(MqttConfig {
                topics: vec!["a/#/b".into()],
                ..Default::default()
            })
            .contains("a/#/b")
        );
        assert!(
            bad(MqttConfig {
                shared_group: Some("g/1".into()),
                ..Default::default()
            })
            .contains("g/1")
        );
        assert!(
            bad(MqttConfig {
                password: Some(Secret::new("x")),
                ..Default::default()
            })
            .contains("username")
        );
        assert!(
            bad(MqttConfig {
                reconnect_min_ms: 10,
                reconnect_max_ms: 5,
                ..Default::default()
            })
            .contains("reconnect_max_ms")
        );
        assert!(
            bad(MqttConfig {
                url: Some("http://x".into()),
                ..Default::default()
            })
            .contains("http://x")
        );
    }

    #[test]
    fn unknown_keys_are_rejected_and_secrets_are_redacted() {
        let c: MqttConfig = toml_like(r#"{"host": "b", "password": "hunter2", "username": "gw"}"#);
        assert!(!format!("{c:?}").contains("hunter2"));
        assert!(serde_json::from_str::<MqttConfig>(r#"{"hots": "b"}"#).is_err());
    }

    #[test]
    fn a_password_file_is_read_and_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pw");
        std::fs::write(&p, "s3cret\n").unwrap();
        let c = MqttConfig {
            username: Some("gw".into()),
            password_file: Some(p),
            ..Default::default()
        };
        let ingest = c.build().unwrap();
        assert_eq!(
            ingest.credentials().map(|(_, p)| p.expose().to_owned()),
            Some("s3cret".into())
        );
    }

    fn toml_like(json: &str) -> MqttConfig {
        serde_json::from_str(json).unwrap()
    }
}
