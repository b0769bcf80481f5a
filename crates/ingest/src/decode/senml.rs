//! SenML JSON (RFC 8428): base fields, resolved records, `{sensor}/{metric}` names.

use serde_json::{Map, Value};

use super::{Msg, Reading, Reason, UnitIn, type_name};
use domain::Timestamp;

/// Resolved times below this many seconds are relative to "now" (RFC 8428 §4.5.3).
const RELATIVE_LIMIT_S: f64 = 268_435_456.0; // 2^28

/// Highest SenML version understood.
const MAX_VERSION: i64 = 10;

const KNOWN: [&str; 10] = ["bn", "bt", "bu", "bv", "bver", "n", "u", "v", "t", "ut"];
const BASE: [&str; 5] = ["bn", "bt", "bu", "bv", "bver"];
const OTHER_VALUES: [&str; 4] = ["vs", "vb", "vd", "s"];

/// Base values in force (they carry over to later records).
#[derive(Default)]
struct Base {
    name: String,
    time: f64,
    unit: Option<String>,
    value: f64,
}

pub(crate) fn decode(m: &mut Msg<'_>) {
    let Some(v) = m.json() else { return };
    let Value::Array(records) = v else {
        m.reject(
            Reason::WrongType,
            format_args!("a SenML pack must be an array, got {}", type_name(&v)),
        );
        return;
    };
    if !m.check_count(records.len()) {
        return;
    }
    // RFC 8428 §4.4: a pack with a newer version must not be used at all
    if let Some(ver) = records
        .iter()
        .filter_map(|r| r.get("bver").and_then(Value::as_i64))
        .find(|v| *v > MAX_VERSION)
    {
        m.reject(
            Reason::UnsupportedVersion,
            format_args!("SenML version {ver} is newer than {MAX_VERSION}"),
        );
        return;
    }
    let mut base = Base::default();
    for r in &records {
        let raw = || r.to_string().into_bytes();
        let Value::Object(map) = r else {
            m.reject_record(
                Reason::WrongType,
                format_args!("a SenML record must be an object, got {}", type_name(r)),
                &raw(),
            );
            continue;
        };
        if let Err((reason, detail)) = record(m, map, &mut base, raw) {
            m.reject_record(reason, detail, &raw());
        }
    }
}

fn record(
    m: &mut Msg<'_>,
    map: &Map<String, Value>,
    base: &mut Base,
    raw: impl FnOnce() -> Vec<u8>,
) -> Result<(), (Reason, String)> {
    for k in map.keys() {
        if k.ends_with('_') {
            return Err((
                Reason::UnknownField,
                format!("must-understand field {k:?} is not supported"),
            ));
        }
    }
    if let Some(v) = map.get("bver") {
        let ver = v.as_i64().ok_or_else(|| {
            (
                Reason::WrongType,
                format!("bver must be an integer, got {}", type_name(v)),
            )
        })?;
        if ver > MAX_VERSION {
            return Err((
                Reason::UnsupportedVersion,
                format!("SenML version {ver} is newer than {MAX_VERSION}"),
            ));
        }
    }
    // read everything first so a bad record does not change the base values
    let bn = opt_str(map, "bn")?;
    let bt = opt_num(map, "bt")?;
    let bu = opt_str(map, "bu")?;
    let bv = opt_num(map, "bv")?;
    let n = opt_str(map, "n")?;
    let u = opt_str(map, "u")?;
    let v = opt_num(map, "v")?;
    let t = opt_num(map, "t")?;
    if let Some(bn) = bn {
        base.name = bn.to_owned();
    }
    if let Some(bt) = bt {
        base.time = bt;
    }
    if let Some(bu) = bu {
        base.unit = Some(bu.to_owned());
    }
    if let Some(bv) = bv {
        base.value = bv;
    }
    let Some(v) = v else {
        if let Some(k) = OTHER_VALUES.iter().find(|k| map.contains_key(**k)) {
            return Err((
                Reason::UnsupportedValue,
                format!("only numeric values (v) are stored, got {k}"),
            ));
        }
        let base_only = map
            .keys()
            .all(|k| BASE.contains(&k.as_str()) || !KNOWN.contains(&k.as_str()));
        if base_only {
            return Ok(());
        }
        return Err((Reason::MissingField, "v is missing".into()));
    };
    let name = format!("{}{}", base.name, n.unwrap_or(""));
    let Some((sensor, metric)) = name.split_once('/') else {
        return Err((
            Reason::InvalidMetric,
            format!("resolved name {name:?} must read {{sensor}}/{{metric}}"),
        ));
    };
    let secs = base.time + t.unwrap_or(0.0);
    let ts = if secs.abs() < RELATIVE_LIMIT_S {
        Timestamp::from_secs_f64(secs).map(|d| Timestamp(m.received.0.saturating_add(d.0)))
    } else {
        Timestamp::from_secs_f64(secs)
    }
    .ok_or_else(|| {
        (
            Reason::BadTimestamp,
            format!("time {secs} s is out of range"),
        )
    })?;
    let unit = u
        .or(base.unit.as_deref())
        .map_or(UnitIn::None, UnitIn::Text);
    m.observe(
        Reading {
            sensor,
            metric,
            value: base.value + v,
            unit,
        },
        ts,
        raw,
    );
    Ok(())
}

fn opt_str<'a>(map: &'a Map<String, Value>, k: &str) -> Result<Option<&'a str>, (Reason, String)> {
    match map.get(k) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(o) => Err((
            Reason::WrongType,
            format!("{k} must be a string, got {}", type_name(o)),
        )),
    }
}

fn opt_num(map: &Map<String, Value>, k: &str) -> Result<Option<f64>, (Reason, String)> {
    match map.get(k) {
        None => Ok(None),
        Some(Value::Number(n)) => Ok(Some(n.as_f64().unwrap_or(f64::NAN))),
        Some(o) => Err((
            Reason::WrongType,
            format!("{k} must be a number, got {}", type_name(o)),
        )),
    }
}
