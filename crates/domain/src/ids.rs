//! Typed identifiers.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Longest identifier accepted anywhere (bytes).
pub const MAX_ID_LEN: usize = 128;

/// Why a string is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The identifier is empty.
    #[error("identifier is empty")]
    Empty,
    /// The identifier is longer than [`MAX_ID_LEN`] bytes.
    #[error("identifier is {len} bytes long, the limit is {MAX_ID_LEN}")]
    TooLong {
        /// Length in bytes.
        len: usize,
    },
    /// The identifier holds a character outside `[A-Za-z0-9:._~@-]`.
    #[error("identifier {id:?} holds the character {ch:?}; allowed are A-Z a-z 0-9 : . _ ~ @ -")]
    BadChar {
        /// The (possibly truncated) identifier.
        id: String,
        /// The first offending character.
        ch: char,
    },
}

/// Checks the identifier grammar shared by sensors, entities and gateways.
///
/// Allowed characters are ASCII letters, digits and `: . _ ~ @ -`, which covers
/// NGSI-LD URNs (`urn:ngsi-ld:Sensor:aq-001`) and excludes MQTT topic
/// separators and wildcards (`/ + #`), whitespace and control characters.
pub fn validate_id(s: &str) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.len() > MAX_ID_LEN {
        return Err(IdError::TooLong { len: s.len() });
    }
    if let Some(ch) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '_' | '~' | '@' | '-')))
    {
        let id: String = s.chars().take(64).collect();
        return Err(IdError::BadChar { id, ch });
    }
    Ok(())
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(Arc<str>);

        impl $name {
            /// Builds the identifier, checking its grammar.
            pub fn new(s: impl AsRef<str>) -> Result<Self, IdError> {
                let s = s.as_ref();
                validate_id(s)?;
                Ok(Self(Arc::from(s)))
            }

            /// The identifier as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), &*self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = IdError;
            fn try_from(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0.to_string()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// Identifies a sensor (device) across MQTT, the store and the API.
    SensorId
);
string_id!(
    /// Identifies a twin entity: a road segment, intersection, building, POI,
    /// community, feeder or sensor.
    EntityId
);
string_id!(
    /// Identifies a gateway: the MQTT publisher that owns a set of sensors.
    GatewayId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urns_and_plain_ids_are_accepted() {
        assert!(SensorId::new("urn:ngsi-ld:Sensor:aq-001").is_ok());
        assert!(SensorId::new("det_12.a~b@c").is_ok());
    }

    #[test]
    fn topic_separators_wildcards_and_whitespace_are_rejected() {
        for bad in ["a/b", "a+b", "a#", "a b", "a\nb", "ä"] {
            assert!(
                matches!(SensorId::new(bad), Err(IdError::BadChar { .. })),
                "{bad}"
            );
        }
        assert_eq!(SensorId::new(""), Err(IdError::Empty));
        assert_eq!(
            SensorId::new("x".repeat(MAX_ID_LEN + 1)),
            Err(IdError::TooLong {
                len: MAX_ID_LEN + 1
            })
        );
    }

    #[test]
    fn ids_round_trip_through_serde_and_reject_bad_text() {
        let id = EntityId::new("road-1").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"road-1\"");
        assert_eq!(serde_json::from_str::<EntityId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<EntityId>("\"a/b\"").is_err());
    }
}
