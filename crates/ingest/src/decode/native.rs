//! Native JSON: one record, `{"ts": .., "obs": [..]}`, or a bare array of records.

use serde_json::{Map, Value};

use super::{Msg, Reading, Reason, UnitIn, ms_field, type_name};
use domain::Timestamp;

const RECORD_FIELDS: [&str; 5] = ["sensor", "metric", "value", "unit", "ts"];

pub(crate) fn decode(m: &mut Msg<'_>) {
    let Some(v) = m.json() else { return };
    match v {
        Value::Array(items) => batch(m, &items, None),
        Value::Object(map) if map.contains_key("obs") => {
            if let Some(k) = map.keys().find(|k| !matches!(k.as_str(), "obs" | "ts")) {
                m.reject(
                    Reason::UnknownField,
                    format_args!("batch field {k:?} is not defined (allowed: ts, obs)"),
                );
                return;
            }
            let ts = match ms_field(map.get("ts"), "ts") {
                Ok(ts) => ts,
                Err((r, d)) => return m.reject(r, d),
            };
            match map.get("obs") {
                Some(Value::Array(items)) => batch(m, items, ts),
                Some(other) => m.reject(
                    Reason::WrongType,
                    format_args!("obs must be an array, got {}", type_name(other)),
                ),
                None => m.reject(Reason::MissingField, "obs is missing"),
            }
        }
        Value::Object(map) => {
            if !m.check_count(1) {
                return;
            }
            record(m, &map, None, || m_payload_record(&map));
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

fn m_payload_record(map: &Map<String, Value>) -> Vec<u8> {
    serde_json::to_vec(map).unwrap_or_default()
}

fn batch(m: &mut Msg<'_>, items: &[Value], batch_ts: Option<Timestamp>) {
    if !m.check_count(items.len()) {
        return;
    }
    for item in items {
        match item {
            Value::Object(map) => record(m, map, batch_ts, || m_payload_record(map)),
            other => m.reject_record(
                Reason::WrongType,
                format_args!("a record must be an object, got {}", type_name(other)),
                other.to_string().as_bytes(),
            ),
        }
    }
}

fn record(
    m: &mut Msg<'_>,
    map: &Map<String, Value>,
    batch_ts: Option<Timestamp>,
    raw: impl FnOnce() -> Vec<u8>,
) {
    match fields(map) {
        Ok((sensor, metric, value, unit, ts)) => {
            let ts = ts.or(batch_ts).unwrap_or(m.received);
            let unit = unit.map_or(UnitIn::None, UnitIn::Text);
            m.observe(
                Reading {
                    sensor,
                    metric,
                    value,
                    unit,
                },
                ts,
                raw,
            );
        }
        Err((reason, detail)) => m.reject_record(reason, detail, &raw()),
    }
}

type Fields<'a> = (&'a str, &'a str, f64, Option<&'a str>, Option<Timestamp>);

fn fields(map: &Map<String, Value>) -> Result<Fields<'_>, (Reason, String)> {
    if let Some(k) = map.keys().find(|k| !RECORD_FIELDS.contains(&k.as_str())) {
        return Err((
            Reason::UnknownField,
            format!("record field {k:?} is not defined (allowed: sensor, metric, value, unit, ts)"),
        ));
    }
    let sensor = str_field(map, "sensor")?;
    let metric = str_field(map, "metric")?;
    let value = match map.get("value") {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
        Some(other) => {
            return Err((
                Reason::WrongType,
                format!("value must be a number, got {}", type_name(other)),
            ));
        }
        None => return Err((Reason::MissingField, "value is missing".into())),
    };
    let unit = match map.get("unit") {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(other) => {
            return Err((
                Reason::WrongType,
                format!("unit must be a string, got {}", type_name(other)),
            ));
        }
    };
    let ts = ms_field(map.get("ts"), "ts")?;
    Ok((sensor, metric, value, unit, ts))
}

fn str_field<'a>(map: &'a Map<String, Value>, name: &str) -> Result<&'a str, (Reason, String)> {
    match map.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err((
            Reason::WrongType,
            format!("{name} must be a string, got {}", type_name(other)),
        )),
        None => Err((Reason::MissingField, format!("{name} is missing"))),
    }
}
