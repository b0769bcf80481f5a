//! Event reports (`.../event`) and gateway status (`.../status`).

use serde_json::{Map, Value};

use super::{Msg, Reason, Warning, ms_field, type_name};
use domain::{
    EventChannel, EventReport, LatLon, Metric, Priority, SensorId, SensorKind, StatusChange,
};

const EVENT_FIELDS: [&str; 8] = [
    "id", "reporter", "channel", "category", "priority", "ts", "location", "text",
];

pub(crate) fn decode_events(m: &mut Msg<'_>) {
    let Some(v) = m.json() else { return };
    match v {
        Value::Object(map) => {
            if m.check_count(1) {
                one(m, &map);
            }
        }
        Value::Array(items) => {
            if !m.check_count(items.len()) {
                return;
            }
            for item in &items {
                match item {
                    Value::Object(map) => one(m, map),
                    other => m.reject_record(
                        Reason::WrongType,
                        format_args!("an event must be an object, got {}", type_name(other)),
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

fn one(m: &mut Msg<'_>, map: &Map<String, Value>) {
    match event(m, map) {
        Ok((e, truncated_from)) => {
            if let Some(len) = truncated_from {
                m.warn(Warning::TextTruncated {
                    id: e.id.clone(),
                    len,
                });
            }
            m.push_event(e);
        }
        Err((reason, detail)) => m.reject_record(
            reason,
            detail,
            Value::Object(map.clone()).to_string().as_bytes(),
        ),
    }
}

type Checked<T> = Result<T, (Reason, String)>;

fn event(m: &mut Msg<'_>, map: &Map<String, Value>) -> Checked<(EventReport, Option<usize>)> {
    if let Some(k) = map.keys().find(|k| !EVENT_FIELDS.contains(&k.as_str())) {
        return Err((
            Reason::UnknownField,
            format!("event field {k:?} is not defined"),
        ));
    }
    let id = req_str(map, "id")?;
    domain::SensorId::new(id).map_err(|e| (Reason::InvalidId, format!("event id: {e}")))?;
    let reporter = SensorId::new(req_str(map, "reporter")?)
        .map_err(|e| (Reason::InvalidId, format!("reporter: {e}")))?;
    let channel = match req_str(map, "channel")? {
        "citizen_call" => EventChannel::CitizenCall,
        "app" => EventChannel::App,
        "iot_alarm" => EventChannel::IotAlarm,
        "patrol" => EventChannel::Patrol,
        other => {
            return Err((
                Reason::InvalidEvent,
                format!(
                    "channel {:?} is not citizen_call, app, iot_alarm or patrol",
                    short(other)
                ),
            ));
        }
    };
    let category = req_str(map, "category")?;
    Metric::new(category).map_err(|_| {
        (
            Reason::InvalidEvent,
            format!("category {:?} must be [a-z0-9_]{{1,64}}", short(category)),
        )
    })?;
    let priority = match opt_str(map, "priority")? {
        None | Some("P3") => Priority::P3,
        Some("P1") => Priority::P1,
        Some("P2") => Priority::P2,
        Some("P4") => Priority::P4,
        Some(other) => {
            return Err((
                Reason::InvalidEvent,
                format!("priority {:?} is not P1-P4", short(other)),
            ));
        }
    };
    let ts = ms_field(map.get("ts"), "ts")?.unwrap_or(m.received);
    m.check_window(ts)?;
    let location = match map.get("location") {
        None | Some(Value::Null) => None,
        Some(Value::Object(loc)) => {
            let coord = |k: &str| loc.get(k).and_then(Value::as_f64);
            let (Some(lat), Some(lon)) = (coord("lat"), coord("lon")) else {
                return Err((
                    Reason::InvalidEvent,
                    "location must be {\"lat\": number, \"lon\": number}".into(),
                ));
            };
            if loc.len() != 2 {
                return Err((
                    Reason::InvalidEvent,
                    "location must hold only lat and lon".into(),
                ));
            }
            Some(LatLon::new(lat, lon).ok_or_else(|| {
                (
                    Reason::InvalidEvent,
                    format!("location {lat}, {lon} is outside WGS-84 ranges"),
                )
            })?)
        }
        Some(other) => {
            return Err((
                Reason::WrongType,
                format!("location must be an object, got {}", type_name(other)),
            ));
        }
    };
    let (text, truncated_from) = match opt_str(map, "text")? {
        None => (String::new(), None),
        Some(t) if t.len() <= m.ctx.limits.max_text_bytes => (t.to_owned(), None),
        Some(t) => {
            let mut cut = m.ctx.limits.max_text_bytes;
            while !t.is_char_boundary(cut) {
                cut -= 1;
            }
            (t[..cut].to_owned(), Some(t.len()))
        }
    };
    m.authorize(&reporter, None, SensorKind::EventReporter)?;
    Ok((
        EventReport {
            id: id.to_owned(),
            reporter,
            channel,
            category: category.to_owned(),
            priority,
            ts,
            location,
            text,
        },
        truncated_from,
    ))
}

pub(crate) fn decode_status(m: &mut Msg<'_>) {
    let Some(gateway) = m.gateway.clone() else {
        return;
    };
    let trimmed = std::str::from_utf8(m.payload).map(str::trim);
    let (online, ts, will) = match trimmed {
        Ok("online") => (true, m.received, false),
        Ok("offline") => (false, m.received, false),
        _ => {
            let Some(v) = m.json() else { return };
            let Value::Object(map) = v else {
                m.reject(
                    Reason::WrongType,
                    format_args!(
                        "status must be an object, \"online\" or \"offline\", got {}",
                        type_name(&v)
                    ),
                );
                return;
            };
            match status_fields(m, &map) {
                Ok(s) => s,
                Err((r, d)) => return m.reject(r, d),
            }
        }
    };
    m.push_status(StatusChange {
        gateway,
        sensor: None,
        online,
        ts,
        reason: if will { "last will" } else { "status message" }.into(),
    });
}

fn status_fields(
    m: &Msg<'_>,
    map: &Map<String, Value>,
) -> Checked<(bool, domain::Timestamp, bool)> {
    if let Some(k) = map
        .keys()
        .find(|k| !matches!(k.as_str(), "online" | "ts" | "will"))
    {
        return Err((
            Reason::UnknownField,
            format!("status field {k:?} is not defined (allowed: online, ts, will)"),
        ));
    }
    let online = match map.get("online") {
        Some(Value::Bool(b)) => *b,
        Some(o) => {
            return Err((
                Reason::WrongType,
                format!("online must be a boolean, got {}", type_name(o)),
            ));
        }
        None => return Err((Reason::MissingField, "online is missing".into())),
    };
    let will = match map.get("will") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(o) => {
            return Err((
                Reason::WrongType,
                format!("will must be a boolean, got {}", type_name(o)),
            ));
        }
    };
    let ts = ms_field(map.get("ts"), "ts")?.unwrap_or(m.received);
    m.check_window(ts)?;
    Ok((online, ts, will))
}

fn req_str<'a>(map: &'a Map<String, Value>, k: &str) -> Checked<&'a str> {
    opt_str(map, k)?.ok_or_else(|| (Reason::MissingField, format!("{k} is missing")))
}

fn opt_str<'a>(map: &'a Map<String, Value>, k: &str) -> Checked<Option<&'a str>> {
    match map.get(k) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(o) => Err((
            Reason::WrongType,
            format!("{k} must be a string, got {}", type_name(o)),
        )),
    }
}

fn short(s: &str) -> String {
    s.chars().take(32).collect()
}
