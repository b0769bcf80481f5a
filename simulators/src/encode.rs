//! Payload encoders for the formats of the MQTT contract (docs/specs/mqtt.md),
//! written independently of the decoders so each checks the other, and a
//! generator of malformed payloads.

use std::fmt::Write as _;

use domain::{EventReport, SensorId};
use rand::RngExt as _;
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

/// One reading to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// Sensor.
    pub sensor: SensorId,
    /// Metric name.
    pub metric: &'static str,
    /// Value in the metric's canonical unit.
    pub value: f64,
    /// Measurement time, ms since the epoch.
    pub ts: i64,
}

/// A message ready to publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Topic.
    pub topic: String,
    /// Payload bytes.
    pub payload: Vec<u8>,
}

/// Native JSON batch on `citybrain/v1/{gateway}/obs`. Every fourth reading
/// carries an explicit unit; temperatures go out in kelvin to exercise conversion.
pub fn native(gateway: &str, batch_ts: i64, readings: &[Reading]) -> Message {
    let obs: Vec<Value> = readings
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let mut o = json!({"sensor": r.sensor.as_str(), "metric": r.metric, "value": r.value});
            if r.ts != batch_ts {
                o["ts"] = json!(r.ts);
            }
            if r.metric == "temperature" {
                o["value"] = json!(((r.value + 273.15) * 1000.0).round() / 1000.0);
                o["unit"] = json!("K");
            } else if i % 4 == 0
                && let Some(info) = domain::Metric::new(r.metric).ok().and_then(|m| m.info())
            {
                o["unit"] = json!(info.unit.symbol());
            }
            o
        })
        .collect();
    let payload = json!({"ts": batch_ts, "obs": obs});
    Message {
        topic: format!("citybrain/v1/{gateway}/obs"),
        payload: payload.to_string().into_bytes(),
    }
}

/// SenML pack on `citybrain/v1/{gateway}/senml`, one base name per sensor.
#[allow(clippy::cast_precision_loss)]
pub fn senml(gateway: &str, readings: &[Reading]) -> Message {
    let mut pack = Vec::with_capacity(readings.len());
    let mut last_sensor: Option<&SensorId> = None;
    let bt = readings.first().map_or(0, |r| r.ts);
    for (i, r) in readings.iter().enumerate() {
        let mut rec = serde_json::Map::new();
        if i == 0 {
            rec.insert("bt".into(), json!(bt as f64 / 1000.0));
        }
        if last_sensor != Some(&r.sensor) {
            rec.insert("bn".into(), json!(format!("{}/", r.sensor)));
            last_sensor = Some(&r.sensor);
        }
        rec.insert("n".into(), json!(r.metric));
        if r.metric == "temperature" {
            rec.insert("u".into(), json!("Cel"));
        }
        rec.insert("v".into(), json!(r.value));
        if r.ts != bt {
            rec.insert("t".into(), json!((r.ts - bt) as f64 / 1000.0));
        }
        pack.push(Value::Object(rec));
    }
    Message {
        topic: format!("citybrain/v1/{gateway}/senml"),
        payload: Value::Array(pack).to_string().into_bytes(),
    }
}

/// FIWARE IoT Agent JSON: one message per device on `/json/{apikey}/{device}/attrs`.
/// Traffic metrics use the Smart Data Models names (`intensity`, `occupancy` as a ratio).
pub fn fiware(apikey: &str, readings: &[Reading]) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::new();
    let mut i = 0;
    while i < readings.len() {
        let sensor = &readings[i].sensor;
        let ts = readings[i].ts;
        let mut obj = serde_json::Map::new();
        while i < readings.len() && &readings[i].sensor == sensor && readings[i].ts == ts {
            let r = &readings[i];
            let (name, value) = match r.metric {
                "flow" => ("intensity", json!(r.value)),
                "speed" => ("averageVehicleSpeed", json!(r.value)),
                "occupancy" => ("occupancy", json!(r.value / 100.0)),
                "water_level" => ("waterLevel", json!(r.value)),
                // IoT agents often send numbers as strings
                "pm10" => ("pm10", json!(format!("{}", r.value))),
                m => (m, json!(r.value)),
            };
            obj.insert(name.into(), value);
            i += 1;
        }
        obj.insert("TimeInstant".into(), json!(rfc3339(ts)));
        out.push(Message {
            topic: format!("/json/{apikey}/{sensor}/attrs"),
            payload: Value::Object(obj).to_string().into_bytes(),
        });
    }
    out
}

/// An event report on `citybrain/v1/{gateway}/event`.
pub fn event(gateway: &str, e: &EventReport) -> Message {
    let mut o = json!({
        "id": e.id,
        "reporter": e.reporter.as_str(),
        "channel": e.channel,
        "category": e.category,
        "priority": e.priority,
        "ts": e.ts.0,
        "text": e.text,
    });
    if let Some(l) = e.location {
        o["location"] = json!({"lat": l.lat, "lon": l.lon});
    }
    Message {
        topic: format!("citybrain/v1/{gateway}/event"),
        payload: o.to_string().into_bytes(),
    }
}

/// The gateway status message (`online`) and its last will (`offline`).
pub fn status(gateway: &str, online: bool, ts: Option<i64>) -> Message {
    let payload = match (online, ts) {
        (true, Some(ts)) => json!({"online": true, "ts": ts}),
        (true, None) => json!({"online": true}),
        (false, _) => json!({"online": false, "will": true}),
    };
    Message {
        topic: format!("citybrain/v1/{gateway}/status"),
        payload: payload.to_string().into_bytes(),
    }
}

/// RFC 3339 UTC time with milliseconds (`2026-01-01T00:00:00.000Z`).
pub fn rfc3339(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    // civil-from-days (H. Hinnant), valid for the whole proleptic Gregorian range
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let mut s = String::with_capacity(24);
    let _ = write!(
        s,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    );
    s
}

/// Kinds of damage done to a good message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// Cut the payload in half (malformed JSON or protobuf).
    Truncate,
    /// Insert bytes that are not UTF-8.
    InvalidUtf8,
    /// Replace a value with a string that is not a number.
    NotANumber,
    /// Make every value physically impossible.
    OutOfRange,
    /// Wrap the payload in 100 levels of arrays.
    DeepNesting,
    /// Name a sensor that does not exist.
    UnknownSensor,
    /// Date it a day in the future.
    FutureTimestamp,
}

impl Damage {
    /// Every kind.
    pub const ALL: [Damage; 7] = [
        Damage::Truncate,
        Damage::InvalidUtf8,
        Damage::NotANumber,
        Damage::OutOfRange,
        Damage::DeepNesting,
        Damage::UnknownSensor,
        Damage::FutureTimestamp,
    ];
}

/// A wholly bad native-JSON message for `gateway`: every record in it must be
/// dead-lettered by ingest. Returns the message and the damage done.
pub fn malformed(gateway: &str, ts: i64, rng: &mut ChaCha8Rng) -> (Message, Damage) {
    let damage = Damage::ALL[rng.random_range(0..Damage::ALL.len())];
    let topic = format!("citybrain/v1/{gateway}/obs");
    let good = json!({"sensor": "x", "metric": "pm25", "value": 10.0, "ts": ts});
    let payload: Vec<u8> = match damage {
        Damage::Truncate => {
            let s = json!({"ts": ts, "obs": [good, good]}).to_string();
            s.as_bytes()[..s.len() / 2].to_vec()
        }
        Damage::InvalidUtf8 => {
            let mut b = br#"{"sensor": "x"#.to_vec();
            b.extend_from_slice(&[0xff, 0xfe, 0x80]);
            b.extend_from_slice(br#"", "metric": "pm25", "value": 1}"#);
            b
        }
        Damage::NotANumber => json!({"sensor": "unknown-0", "metric": "pm25", "value": "NaN", "ts": ts}).to_string().into_bytes(),
        Damage::OutOfRange => json!({"sensor": "unknown-0", "metric": "pm25", "value": -1.0e9, "ts": ts}).to_string().into_bytes(),
        Damage::DeepNesting => {
            let mut s = String::new();
            s.push_str(&"[".repeat(100));
            s.push_str(&good.to_string());
            s.push_str(&"]".repeat(100));
            s.into_bytes()
        }
        Damage::UnknownSensor => {
            json!({"sensor": "no-such-sensor", "metric": "pm25", "value": 10.0, "ts": ts}).to_string().into_bytes()
        }
        Damage::FutureTimestamp => {
            json!({"sensor": "no-such-sensor", "metric": "pm25", "value": 10.0, "ts": ts + 86_400_000}).to_string().into_bytes()
        }
    };
    (Message { topic, payload }, damage)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(sensor: &str, metric: &'static str, value: f64, ts: i64) -> Reading {
        Reading {
            sensor: SensorId::new(sensor).unwrap(),
            metric,
            value,
            ts,
        }
    }

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_767_225_600_123), "2026-01-01T00:00:00.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn senml_uses_base_name_per_sensor_and_relative_times() {
        let m = senml(
            "gw",
            &[
                r("a", "pm25", 1.0, 1000),
                r("a", "pm10", 2.0, 1000),
                r("b", "pm25", 3.0, 3000),
            ],
        );
        let v: Value = serde_json::from_slice(&m.payload).unwrap();
        assert_eq!(v[0]["bn"], "a/");
        assert_eq!(v[0]["bt"], 1.0);
        assert!(v[1].get("bn").is_none());
        assert_eq!(v[2]["bn"], "b/");
        assert_eq!(v[2]["t"], 2.0);
    }

    #[test]
    fn fiware_groups_by_device_and_maps_names() {
        let ms = fiware(
            "key",
            &[
                r("d1", "flow", 600.0, 0),
                r("d1", "occupancy", 25.0, 0),
                r("d2", "pm25", 3.0, 0),
            ],
        );
        assert_eq!(ms.len(), 2);
        assert_eq!(ms[0].topic, "/json/key/d1/attrs");
        let v: Value = serde_json::from_slice(&ms[0].payload).unwrap();
        assert_eq!(v["intensity"], 600.0);
        assert_eq!(v["occupancy"], 0.25);
        assert_eq!(v["TimeInstant"], "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn native_converts_temperature_to_kelvin() {
        let m = native("gw", 5, &[r("a", "temperature", 0.0, 5)]);
        let v: Value = serde_json::from_slice(&m.payload).unwrap();
        assert_eq!(v["obs"][0]["unit"], "K");
        assert_eq!(v["obs"][0]["value"], 273.15);
        assert!(v["obs"][0].get("ts").is_none());
    }
}
