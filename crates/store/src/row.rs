//! Conversions between domain values and column values, shared by both
//! backends so they store the same text.

use std::borrow::Cow;
use std::collections::BTreeMap;

use domain::{
    EntityId, EntityKind, EventChannel, GatewayId, Metric, Priority, SensorId, SensorKind,
    SensorSpec,
};

use crate::{EntityRecord, Error, cell};

/// Text columns never hold NUL: PostgreSQL rejects it in `text`, so both
/// backends store U+FFFD instead, and a hostile payload cannot fail a batch.
pub(crate) fn clean(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A count column (never negative) as `u64`.
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(crate) const fn channel_str(c: EventChannel) -> &'static str {
    match c {
        EventChannel::CitizenCall => "citizen_call",
        EventChannel::App => "app",
        EventChannel::IotAlarm => "iot_alarm",
        EventChannel::Patrol => "patrol",
    }
}

pub(crate) fn parse_channel(s: &str) -> Result<EventChannel, Error> {
    [
        EventChannel::CitizenCall,
        EventChannel::App,
        EventChannel::IotAlarm,
        EventChannel::Patrol,
    ]
    .into_iter()
    .find(|c| channel_str(*c) == s)
    .ok_or_else(|| Error::corrupt("event channel", s))
}

pub(crate) const fn priority_str(p: Priority) -> &'static str {
    match p {
        Priority::P1 => "P1",
        Priority::P2 => "P2",
        Priority::P3 => "P3",
        Priority::P4 => "P4",
    }
}

pub(crate) fn parse_priority(s: &str) -> Result<Priority, Error> {
    [Priority::P1, Priority::P2, Priority::P3, Priority::P4]
        .into_iter()
        .find(|p| priority_str(*p) == s)
        .ok_or_else(|| Error::corrupt("event priority", s))
}

pub(crate) fn sensor_id(s: &str) -> Result<SensorId, Error> {
    SensorId::new(s).map_err(|_| Error::corrupt("sensor id", s))
}

pub(crate) fn gateway_id(s: &str) -> Result<GatewayId, Error> {
    GatewayId::new(s).map_err(|_| Error::corrupt("gateway id", s))
}

pub(crate) fn entity_id(s: &str) -> Result<EntityId, Error> {
    EntityId::new(s).map_err(|_| Error::corrupt("entity id", s))
}

pub(crate) fn sensor_kind(s: &str) -> Result<SensorKind, Error> {
    SensorKind::parse(s).ok_or_else(|| Error::corrupt("sensor kind", s))
}

pub(crate) fn entity_kind(s: &str) -> Result<EntityKind, Error> {
    EntityKind::from_type_name(s).ok_or_else(|| Error::corrupt("entity kind", s))
}

pub(crate) fn metrics(json: &str) -> Result<Vec<Metric>, Error> {
    serde_json::from_str(json).map_err(|_| Error::corrupt("metric list", json))
}

/// A sensor as its columns.
#[derive(Debug, Clone)]
pub(crate) struct SensorRow {
    pub id: String,
    pub kind: &'static str,
    pub gateway: String,
    pub lat: f64,
    pub lon: f64,
    pub cell: i64,
    pub observes: Option<String>,
    pub metrics: String,
}

/// Columns of sensors, one per id (the last spec of an id wins, as in
/// [`domain::Registry::upsert_sensor`]), in id order.
pub(crate) fn sensor_rows(specs: &[SensorSpec]) -> Result<Vec<SensorRow>, Error> {
    let mut by_id: BTreeMap<&str, &SensorSpec> = BTreeMap::new();
    for s in specs {
        by_id.insert(s.id.as_str(), s);
    }
    by_id
        .into_values()
        .map(|s| {
            let cell = cell::sensor_cell(s.location).ok_or_else(|| Error::InvalidSensor {
                id: s.id.clone(),
                reason: format!(
                    "location {},{} is not a valid WGS-84 position",
                    s.location.lat, s.location.lon
                ),
            })?;
            let names: Vec<&str> = s.metrics.iter().map(Metric::as_str).collect();
            Ok(SensorRow {
                id: s.id.to_string(),
                kind: s.kind.as_str(),
                gateway: s.gateway.to_string(),
                lat: s.location.lat,
                lon: s.location.lon,
                cell,
                observes: s.observes.as_ref().map(ToString::to_string),
                metrics: serde_json::to_string(&names).unwrap_or_else(|_| "[]".into()),
            })
        })
        .collect()
}

/// An entity as its columns.
#[derive(Debug, Clone)]
pub(crate) struct EntityRow {
    pub id: String,
    pub kind: &'static str,
    pub name: String,
    pub geometry: String,
    pub cell: Option<i64>,
    pub community: Option<String>,
    pub attrs: String,
}

/// Validates entities and turns them into columns, one per id (last wins), in
/// id order.
pub(crate) fn entity_rows(entities: &[EntityRecord]) -> Result<Vec<EntityRow>, Error> {
    let mut by_id: BTreeMap<&str, &EntityRecord> = BTreeMap::new();
    for e in entities {
        by_id.insert(e.id.as_str(), e);
    }
    by_id
        .into_values()
        .map(|e| {
            let invalid = |reason: String| Error::InvalidEntity {
                id: e.id.clone(),
                reason,
            };
            let geom: serde_json::Value = serde_json::from_str(&e.geometry)
                .map_err(|err| invalid(format!("geometry is not JSON: {err}")))?;
            if geom.get("type").and_then(|t| t.as_str()).is_none() {
                return Err(invalid("geometry has no GeoJSON \"type\"".into()));
            }
            if !e.attrs.is_object() {
                return Err(invalid("attrs must be a JSON object".into()));
            }
            let cell = e
                .cell
                .map(|c| {
                    h3o::CellIndex::try_from(c)
                        .ok()
                        .and_then(|_| i64::try_from(c).ok())
                        .ok_or_else(|| invalid(format!("{c:#x} is not a valid H3 cell")))
                })
                .transpose()?;
            Ok(EntityRow {
                id: e.id.to_string(),
                kind: e.kind.type_name(),
                name: clean(&e.name).into_owned(),
                geometry: clean(&e.geometry).into_owned(),
                cell,
                community: e.community.as_ref().map(ToString::to_string),
                attrs: clean(&e.attrs.to_string()).into_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_replaced() {
        assert_eq!(clean("a\0b"), "a\u{FFFD}b");
        assert!(matches!(clean("ab"), Cow::Borrowed("ab")));
    }

    #[test]
    fn enum_texts_round_trip() {
        for c in [
            EventChannel::CitizenCall,
            EventChannel::App,
            EventChannel::IotAlarm,
            EventChannel::Patrol,
        ] {
            assert_eq!(parse_channel(channel_str(c)).unwrap(), c);
            // the store's text is the serde name, so JSON and SQL agree
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", channel_str(c))
            );
        }
        for p in [Priority::P1, Priority::P2, Priority::P3, Priority::P4] {
            assert_eq!(parse_priority(priority_str(p)).unwrap(), p);
        }
        assert!(parse_priority("P9").is_err());
    }

    #[test]
    fn entities_need_geojson_and_object_attrs() {
        let good = EntityRecord {
            id: EntityId::new("b1").unwrap(),
            kind: EntityKind::Building,
            name: "x".into(),
            geometry: r#"{"type":"Point","coordinates":[24.9,60.1]}"#.into(),
            cell: None,
            community: None,
            attrs: serde_json::json!({}),
        };
        assert_eq!(entity_rows(std::slice::from_ref(&good)).unwrap().len(), 1);
        for bad in [
            EntityRecord {
                geometry: "{".into(),
                ..good.clone()
            },
            EntityRecord {
                geometry: "[1]".into(),
                ..good.clone()
            },
            EntityRecord {
                attrs: serde_json::json!([1]),
                ..good.clone()
            },
            EntityRecord {
                cell: Some(12),
                ..good.clone()
            },
        ] {
            assert!(matches!(
                entity_rows(&[bad]),
                Err(Error::InvalidEntity { .. })
            ));
        }
    }
}
