//! FIWARE IoT Agent JSON: `/json/{apikey}/{device}/attrs[/{attribute}]`.

use serde_json::{Map, Value};

use super::{Msg, Reading, Reason, UnitIn, parse_rfc3339, type_name};
use domain::{Timestamp, Unit};

/// FIWARE Smart Data Models attribute names → (metric, unit on the wire).
/// Every other attribute name must itself be a metric name in canonical units.
pub const FIWARE_ATTRIBUTES: &[(&str, &str, Option<Unit>)] = &[
    ("intensity", "flow", Some(Unit::VehPerHour)),
    ("averageVehicleSpeed", "speed", Some(Unit::KmPerHour)),
    ("occupancy", "occupancy", Some(Unit::Ratio)),
    ("relativeHumidity", "humidity", Some(Unit::Ratio)),
    ("airQualityIndex", "aqi", Some(Unit::Dimensionless)),
    ("precipitation", "rainfall", Some(Unit::Millimetre)),
    ("waterLevel", "water_level", Some(Unit::Metre)),
    ("batteryLevel", "battery", Some(Unit::Ratio)),
    ("t", "temperature", Some(Unit::Celsius)),
    ("h", "humidity", Some(Unit::Percent)),
];

const TIME_INSTANT: &str = "TimeInstant";

pub(crate) fn decode(m: &mut Msg<'_>) {
    let levels: Vec<&str> = m.topic.split('/').collect();
    // "", "json", apikey, device, "attrs", [attribute]
    let shape_ok = matches!(levels.len(), 5 | 6) && levels[4] == "attrs";
    if !shape_ok || levels[2].is_empty() || levels[3].is_empty() {
        m.reject(
            Reason::UnknownTopic,
            "expected /json/{apikey}/{device}/attrs[/{attribute}]",
        );
        return;
    }
    let apikey = levels[2];
    let Some(gateway) = m.ctx.fiware_apikeys.get(apikey) else {
        let shown: String = apikey.chars().take(64).collect();
        m.reject(
            Reason::UnknownApikey,
            format_args!("apikey {shown:?} maps to no gateway"),
        );
        return;
    };
    if !m.set_gateway(gateway.as_str()) {
        return;
    }
    let device = levels[3];
    if let Some(&attr) = levels.get(5) {
        single(m, device, attr);
        return;
    }
    let Some(v) = m.json() else { return };
    match v {
        Value::Object(map) => {
            if m.check_count(map.len()) {
                measures(m, device, &map);
            }
        }
        Value::Array(items) => {
            let total: usize = items
                .iter()
                .map(|i| i.as_object().map_or(1, Map::len))
                .sum();
            if !m.check_count(total) {
                return;
            }
            for item in &items {
                match item {
                    Value::Object(map) => measures(m, device, map),
                    other => m.reject_record(
                        Reason::WrongType,
                        format_args!("a measure must be an object, got {}", type_name(other)),
                        other.to_string().as_bytes(),
                    ),
                }
            }
        }
        other => m.reject(
            Reason::WrongType,
            format_args!(
                "payload must be an object or an array, got {}",
                type_name(&other)
            ),
        ),
    }
}

/// `/attrs/{attribute}`: the payload is the bare value.
fn single(m: &mut Msg<'_>, device: &str, attr: &str) {
    let text = match std::str::from_utf8(m.payload) {
        Ok(t) => t.trim(),
        Err(e) => return m.reject(Reason::InvalidUtf8, e),
    };
    let value = if text.starts_with('"') {
        match serde_json::from_str::<String>(text) {
            Ok(s) => Value::String(s),
            Err(e) => return m.reject(Reason::MalformedJson, e),
        }
    } else {
        Value::String(text.to_owned())
    };
    if attr == TIME_INSTANT {
        m.reject(
            Reason::InvalidMetric,
            "TimeInstant is a time, not a measure",
        );
        return;
    }
    let (payload, received) = (m.payload, m.received);
    attribute(m, device, attr, &value, received, || payload.to_vec());
}

fn measures(m: &mut Msg<'_>, device: &str, map: &Map<String, Value>) {
    let ts = match map.get(TIME_INSTANT) {
        None => m.received,
        Some(Value::String(s)) => match parse_rfc3339(s) {
            Some(ts) => ts,
            None => {
                let shown: String = s.chars().take(64).collect();
                m.reject_record(
                    Reason::BadTimestamp,
                    format_args!("TimeInstant {shown:?} is not an ISO 8601 date-time"),
                    Value::Object(map.clone()).to_string().as_bytes(),
                );
                return;
            }
        },
        Some(other) => {
            m.reject_record(
                Reason::WrongType,
                format_args!("TimeInstant must be a string, got {}", type_name(other)),
                Value::Object(map.clone()).to_string().as_bytes(),
            );
            return;
        }
    };
    for (attr, v) in map {
        if attr == TIME_INSTANT {
            continue;
        }
        attribute(m, device, attr, v, ts, || {
            let mut one = Map::new();
            one.insert(attr.clone(), v.clone());
            Value::Object(one).to_string().into_bytes()
        });
    }
}

fn attribute(
    m: &mut Msg<'_>,
    device: &str,
    attr: &str,
    v: &Value,
    ts: Timestamp,
    raw: impl FnOnce() -> Vec<u8>,
) {
    let value = match v {
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => match s.trim().parse::<f64>() {
            Ok(x) => x,
            Err(_) => {
                let shown: String = s.chars().take(32).collect();
                m.reject_record(
                    Reason::WrongType,
                    format_args!("attribute {attr} must be a number, got {shown:?}"),
                    &raw(),
                );
                return;
            }
        },
        other => {
            m.reject_record(
                Reason::WrongType,
                format_args!(
                    "attribute {attr} must be a number, got {}",
                    type_name(other)
                ),
                &raw(),
            );
            return;
        }
    };
    let (metric, unit) = FIWARE_ATTRIBUTES
        .iter()
        .find(|(a, _, _)| *a == attr)
        .map_or((attr, UnitIn::None), |(_, metric, unit)| {
            (metric, unit.map_or(UnitIn::None, UnitIn::Known))
        });
    m.observe(
        Reading {
            sensor: device,
            metric,
            value,
            unit,
        },
        ts,
        raw,
    );
}
