//! Layered configuration: defaults < TOML file < `CITYBRAIN__SECTION__KEY`
//! environment variables.
//!
//! The file and the environment are merged key by key into one TOML table,
//! which is deserialised into the config type. Every section is
//! `#[serde(default)]`, so absent keys take their defaults, and
//! `deny_unknown_fields`, so a misspelt key is an error that names it rather
//! than a silently ignored setting.

use serde::de::DeserializeOwned;
use toml::{Table, Value};

/// Prefix of configuration environment variables.
pub const ENV_PREFIX: &str = "CITYBRAIN__";

/// Why the configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    /// The file is not valid TOML.
    #[error("failed to parse the configuration file {path}")]
    File {
        /// The file.
        path: String,
        /// Parser error.
        #[source]
        source: toml::de::Error,
    },
    /// An environment variable names no key path.
    #[error(
        "environment variable {name} does not name a configuration key (use CITYBRAIN__SECTION__KEY)"
    )]
    EnvName {
        /// The variable.
        name: String,
    },
    /// The merged configuration does not fit the schema.
    #[error("invalid configuration: {0}")]
    Invalid(#[source] toml::de::Error),
}

/// Builds a `T` from an optional TOML text (`file` = (path, text))
/// and environment variables (`(name, value)` pairs; only `CITYBRAIN__*` are used).
pub fn load<T: DeserializeOwned>(
    file: Option<(&str, &str)>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<T, LayerError> {
    let mut merged = Table::new();
    if let Some((path, text)) = file {
        let t: Table = toml::from_str(text).map_err(|source| LayerError::File {
            path: path.to_owned(),
            source,
        })?;
        merge(&mut merged, t);
    }
    let mut vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with(ENV_PREFIX))
        .collect();
    vars.sort();
    for (name, raw) in vars {
        let path: Vec<String> = name[ENV_PREFIX.len()..]
            .split("__")
            .map(str::to_ascii_lowercase)
            .collect();
        if path.iter().any(String::is_empty) {
            return Err(LayerError::EnvName { name });
        }
        set_path(&mut merged, &path, parse_scalar(&raw));
    }
    Value::Table(merged).try_into().map_err(LayerError::Invalid)
}

/// An environment value as TOML (`8080`, `true`, `[1, 2]`, `"x"`), else a plain string.
fn parse_scalar(raw: &str) -> Value {
    toml::from_str::<Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_owned()))
}

fn merge(base: &mut Table, over: Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

fn set_path(t: &mut Table, path: &[String], v: Value) {
    let (head, rest) = path.split_first().expect("path is non-empty");
    if rest.is_empty() {
        t.insert(head.clone(), v);
        return;
    }
    let entry = t
        .entry(head.clone())
        .or_insert_with(|| Value::Table(Table::new()));
    if !entry.is_table() {
        *entry = Value::Table(Table::new());
    }
    if let Value::Table(inner) = entry {
        set_path(inner, rest, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Cfg {
        name: String,
        mqtt: Mqtt,
    }
    impl Default for Cfg {
        fn default() -> Self {
            Self {
                name: "d".into(),
                mqtt: Mqtt::default(),
            }
        }
    }
    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields, default)]
    struct Mqtt {
        host: String,
        port: u16,
        topics: Vec<String>,
    }
    impl Default for Mqtt {
        fn default() -> Self {
            Self {
                host: "localhost".into(),
                port: 1883,
                topics: vec!["a".into()],
            }
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn layers_apply_in_order_defaults_file_env() {
        let c: Cfg = load(None, env(&[])).unwrap();
        assert_eq!(c, Cfg::default());
        let file = "[mqtt]\nhost = \"broker\"\nport = 1884\n";
        let c: Cfg = load(Some(("c.toml", file)), env(&[])).unwrap();
        assert_eq!((c.mqtt.host.as_str(), c.mqtt.port), ("broker", 1884));
        assert_eq!(c.name, "d", "untouched keys keep their defaults");
        let c: Cfg = load(
            Some(("c.toml", file)),
            env(&[
                ("CITYBRAIN__MQTT__PORT", "1999"),
                ("CITYBRAIN__MQTT__TOPICS", "[\"x\", \"y\"]"),
                ("OTHER", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(c.mqtt.port, 1999);
        assert_eq!(c.mqtt.host, "broker");
        assert_eq!(c.mqtt.topics, ["x", "y"]);
    }

    #[test]
    fn env_strings_need_no_quotes() {
        let c: Cfg = load(None, env(&[("CITYBRAIN__MQTT__HOST", "10.0.0.5")])).unwrap();
        assert_eq!(c.mqtt.host, "10.0.0.5");
    }

    #[test]
    fn unknown_keys_and_bad_types_are_errors_that_name_the_key() {
        let e = load::<Cfg>(Some(("c.toml", "[mqtt]\nhots = \"x\"\n")), env(&[])).unwrap_err();
        assert!(
            e.to_string().contains("hots") || format!("{e:?}").contains("hots"),
            "{e:?}"
        );
        let e = load::<Cfg>(None, env(&[("CITYBRAIN__MQTT__PORT", "\"high\"")])).unwrap_err();
        assert!(matches!(e, LayerError::Invalid(_)));
        let e = load::<Cfg>(None, env(&[("CITYBRAIN____X", "1")])).unwrap_err();
        assert!(matches!(e, LayerError::EnvName { .. }));
        let e = load::<Cfg>(Some(("c.toml", "not toml ==")), env(&[])).unwrap_err();
        assert!(matches!(e, LayerError::File { .. }));
    }
}
