//! `/ngsi-ld/v1/temporal/entities`: the history of the twin's sensors from
//! the store's raw observations, with `timerel` (`before`, `after`,
//! `between`), `lastN`, and aggregation (`aggrMethods` avg, min, max, sum,
//! totalCount over `aggrPeriodDuration` periods, ISO 8601 durations).
//!
//! Periods start at the range start (`timeAt` for `after` and `between`,
//! the first observation for `before`) and are `[start, start + d)`.
//! Representations: normalized (one attribute instance per observation),
//! `options=temporalValues` (`values: [[value, observedAt], …]`) and
//! `options=aggregatedValues` (`avg: [[value, start, end], …]`).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use domain::{EntityKind, Metric, Observation, SensorId, Timestamp};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::IntoParams;

use super::entities::{Selection, split_list};
use super::model::{metric_unit_code, twin_entity_of, twin_urn};
use super::repr::Repr;
use crate::util::{iso, parse_time};
use crate::{ApiError, ApiResult, AppState, Problem};

/// Most observations read per attribute.
pub const MAX_INSTANCES: u32 = 100_000;
/// Range when no `timerel` is given: the last 7 days (of data time).
pub const DEFAULT_RANGE_MS: i64 = 7 * 86_400_000;

/// Query of the temporal endpoints.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemporalQuery {
    /// Entity types, comma-separated (history exists for `Sensor`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub types: Option<String>,
    /// Entity ids, comma-separated.
    pub id: Option<String>,
    /// Regular expression on entity ids.
    #[serde(rename = "idPattern")]
    #[param(rename = "idPattern")]
    pub id_pattern: Option<String>,
    /// Attributes (metrics), comma-separated; default every metric of the sensor.
    pub attrs: Option<String>,
    /// Query on the entities' current values.
    pub q: Option<String>,
    /// Geo relation.
    pub georel: Option<String>,
    /// GeoJSON geometry type.
    pub geometry: Option<String>,
    /// GeoJSON coordinates.
    pub coordinates: Option<String>,
    /// GeoProperty of the geo-query.
    pub geoproperty: Option<String>,
    /// `before`, `after` or `between`.
    pub timerel: Option<String>,
    /// Reference time (RFC 3339 or epoch ms).
    #[serde(rename = "timeAt")]
    #[param(rename = "timeAt")]
    pub time_at: Option<String>,
    /// End of `between`.
    #[serde(rename = "endTimeAt")]
    #[param(rename = "endTimeAt")]
    pub end_time_at: Option<String>,
    /// Only the last N instances of each attribute.
    #[serde(rename = "lastN")]
    #[param(rename = "lastN")]
    pub last_n: Option<u32>,
    /// `avg,min,max,sum,totalCount`.
    #[serde(rename = "aggrMethods")]
    #[param(rename = "aggrMethods")]
    pub aggr_methods: Option<String>,
    /// Period of aggregation (ISO 8601 duration, e.g. `PT1H`); default the whole range.
    #[serde(rename = "aggrPeriodDuration")]
    #[param(rename = "aggrPeriodDuration")]
    pub aggr_period: Option<String>,
    /// `temporalValues`, `aggregatedValues`, `keyValues`.
    pub options: Option<String>,
    /// Page size (entities; default 20, max 100).
    pub limit: Option<u32>,
    /// Entities to skip.
    pub offset: Option<u64>,
}

/// Parses an ISO 8601 duration with fixed-length units (`P1W`, `P2D`,
/// `PT1H30M`, `PT0.5S`) into milliseconds. Calendar years and months have
/// no fixed length and are refused.
pub fn parse_duration(s: &str) -> Result<i64, ApiError> {
    let bad = |why: &str| ApiError::BadRequestData(format!("duration {s:?}: {why}"));
    let rest = s
        .strip_prefix('P')
        .ok_or_else(|| bad("must start with P"))?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (rest, None),
    };
    let mut total = 0f64;
    let mut any = false;
    let mut eat = |part: &str, units: &[(char, f64)]| -> Result<(), ApiError> {
        let mut num = String::new();
        let mut last_unit = 0usize;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' || c == ',' {
                num.push(if c == ',' { '.' } else { c });
                continue;
            }
            let pos = units
                .iter()
                .position(|(u, _)| *u == c)
                .ok_or_else(|| match c {
                    'Y' | 'M' if units[0].0 == 'W' => {
                        bad("calendar years and months have no fixed length; use weeks or days")
                    }
                    _ => bad(&format!("unknown unit {c}")),
                })?;
            if pos < last_unit {
                return Err(bad("units out of order"));
            }
            last_unit = pos + 1;
            let v: f64 = num.parse().map_err(|_| bad("missing or bad number"))?;
            if !v.is_finite() || v < 0.0 {
                return Err(bad("bad number"));
            }
            total += v * units[pos].1;
            any = true;
            num.clear();
        }
        if num.is_empty() {
            Ok(())
        } else {
            Err(bad("a number without a unit"))
        }
    };
    eat(date, &[('W', 604_800_000.0), ('D', 86_400_000.0)])?;
    if let Some(t) = time {
        if t.is_empty() {
            return Err(bad("T without a time part"));
        }
        eat(t, &[('H', 3_600_000.0), ('M', 60_000.0), ('S', 1000.0)])?;
    }
    if !any {
        return Err(bad("no value"));
    }
    if !(1.0..=1e15).contains(&total) {
        return Err(bad("must be between 1 ms and about 30,000 years"));
    }
    #[allow(clippy::cast_possible_truncation)]
    Ok(total.round() as i64)
}

/// The time range `[from, to)` of a query, at data time `as_of`.
pub fn time_range(
    timerel: Option<&str>,
    time_at: Option<&str>,
    end: Option<&str>,
    as_of: Timestamp,
) -> Result<(Timestamp, Timestamp), ApiError> {
    let at = |v: Option<&str>, name: &str| -> Result<Timestamp, ApiError> {
        let v = v.ok_or_else(|| {
            ApiError::BadRequestData(format!("{name} is required with this timerel"))
        })?;
        parse_time(name, v).map_err(|e| ApiError::BadRequestData(e.to_string()))
    };
    let range = match timerel {
        None => {
            if time_at.is_some() || end.is_some() {
                return Err(ApiError::BadRequestData(
                    "timeAt needs timerel (before, after or between)".into(),
                ));
            }
            let to = if as_of.0 == i64::MIN {
                crate::util::now()
            } else {
                as_of
            };
            (Timestamp(to.0 - DEFAULT_RANGE_MS), Timestamp(to.0 + 1))
        }
        Some("before") => (Timestamp(i64::MIN / 2), at(time_at, "timeAt")?),
        Some("after") => (at(time_at, "timeAt")?, Timestamp(i64::MAX / 2)),
        Some("between") => {
            let (a, b) = (at(time_at, "timeAt")?, at(end, "endTimeAt")?);
            if b <= a {
                return Err(ApiError::BadRequestData(
                    "endTimeAt must be after timeAt".into(),
                ));
            }
            (a, b)
        }
        Some(other) => {
            return Err(ApiError::BadRequestData(format!(
                "timerel {other:?} must be before, after or between"
            )));
        }
    };
    Ok(range)
}

/// An aggregation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggr {
    /// Mean.
    Avg,
    /// Minimum.
    Min,
    /// Maximum.
    Max,
    /// Sum.
    Sum,
    /// Number of instances.
    TotalCount,
}

impl Aggr {
    fn parse(s: &str) -> Result<Self, ApiError> {
        Ok(match s {
            "avg" => Aggr::Avg,
            "min" => Aggr::Min,
            "max" => Aggr::Max,
            "sum" => Aggr::Sum,
            "totalCount" => Aggr::TotalCount,
            other => {
                return Err(ApiError::BadRequestData(format!(
                    "aggrMethods {other:?} is not supported (avg, min, max, sum, totalCount)"
                )));
            }
        })
    }

    fn name(self) -> &'static str {
        match self {
            Aggr::Avg => "avg",
            Aggr::Min => "min",
            Aggr::Max => "max",
            Aggr::Sum => "sum",
            Aggr::TotalCount => "totalCount",
        }
    }
}

/// Aggregates `obs` (ascending) over periods of `period_ms` starting at
/// `start`: per method, `[[value, period start, period end], …]` for the
/// periods holding observations.
pub fn aggregate(
    obs: &[(Timestamp, f64)],
    methods: &[Aggr],
    start: Timestamp,
    period_ms: i64,
) -> Map<String, Value> {
    let mut buckets: Vec<(i64, Vec<f64>)> = Vec::new();
    for (t, v) in obs {
        let k = (t.0 - start.0).div_euclid(period_ms);
        match buckets.last_mut() {
            Some((kk, vs)) if *kk == k => vs.push(*v),
            _ => buckets.push((k, vec![*v])),
        }
    }
    let mut out = Map::new();
    out.insert("type".into(), "Property".into());
    for m in methods {
        let series: Vec<Value> = buckets
            .iter()
            .map(|(k, vs)| {
                let s = Timestamp(start.0 + k * period_ms);
                let e = Timestamp(s.0 + period_ms);
                let v = match m {
                    Aggr::Avg => json!(vs.iter().sum::<f64>() / vs.len() as f64),
                    Aggr::Min => json!(vs.iter().copied().fold(f64::INFINITY, f64::min)),
                    Aggr::Max => json!(vs.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
                    Aggr::Sum => json!(vs.iter().sum::<f64>()),
                    Aggr::TotalCount => json!(vs.len()),
                };
                json!([v, iso(s), iso(e)])
            })
            .collect();
        out.insert(m.name().into(), Value::Array(series));
    }
    out
}

/// Observations of one series in `[from, to)`, ascending; with `last_n` the
/// last N (windows widen backwards from `to` until N are found).
async fn series(
    s: &AppState,
    sensor: &SensorId,
    metric: &Metric,
    from: Timestamp,
    to: Timestamp,
    last_n: Option<u32>,
) -> ApiResult<Vec<Observation>> {
    let Some(n) = last_n else {
        return Ok(s
            .store
            .observations(sensor, metric, from, to, MAX_INSTANCES)
            .await?);
    };
    let mut width = 3_600_000i64;
    loop {
        let lo = Timestamp(to.0.saturating_sub(width).max(from.0));
        let v = s
            .store
            .observations(sensor, metric, lo, to, MAX_INSTANCES)
            .await?;
        if v.len() >= n as usize || lo == from || width > 400 * 86_400_000 {
            let skip = v.len().saturating_sub(n as usize);
            return Ok(v[skip..].to_vec());
        }
        width = width.saturating_mul(8);
    }
}

struct Plan {
    from: Timestamp,
    to: Timestamp,
    last_n: Option<u32>,
    aggr: Option<(Vec<Aggr>, Option<i64>)>,
    values: bool,
    kv: bool,
}

fn plan(q: &TemporalQuery, as_of: Timestamp) -> ApiResult<Plan> {
    let (from, to) = time_range(
        q.timerel.as_deref(),
        q.time_at.as_deref(),
        q.end_time_at.as_deref(),
        as_of,
    )?;
    if q.last_n == Some(0) {
        return Err(ApiError::BadRequestData("lastN must be at least 1".into()));
    }
    let opts = split_list(q.options.as_deref());
    let methods = split_list(q.aggr_methods.as_deref())
        .iter()
        .map(|m| Aggr::parse(m))
        .collect::<Result<Vec<_>, _>>()?;
    let aggregated = opts.iter().any(|o| o == "aggregatedValues") || !methods.is_empty();
    let aggr = if aggregated {
        if methods.is_empty() {
            return Err(ApiError::BadRequestData(
                "aggregatedValues needs aggrMethods".into(),
            ));
        }
        Some((
            methods,
            q.aggr_period.as_deref().map(parse_duration).transpose()?,
        ))
    } else {
        if q.aggr_period.is_some() {
            return Err(ApiError::BadRequestData(
                "aggrPeriodDuration needs aggrMethods".into(),
            ));
        }
        None
    };
    Ok(Plan {
        from,
        to,
        last_n: q.last_n,
        aggr,
        values: opts.iter().any(|o| o == "temporalValues"),
        kv: opts.iter().any(|o| o == "keyValues"),
    })
}

/// The temporal representation of one sensor entity.
async fn temporal_entity(
    s: &AppState,
    e: &twin::Entity,
    attrs: &[String],
    p: &Plan,
) -> ApiResult<Value> {
    let mut out = Map::new();
    out.insert("id".into(), twin_urn(e.kind, e.id.as_str()).into());
    out.insert("type".into(), e.kind.type_name().into());
    let Some(spec) = e.sensor() else {
        return Ok(Value::Object(out));
    };
    for m in &spec.metrics {
        if !attrs.is_empty() && !attrs.iter().any(|a| a == m.as_str()) {
            continue;
        }
        let obs = series(s, &spec.id, m, p.from, p.to, p.last_n).await?;
        if obs.is_empty() {
            continue;
        }
        let unit = metric_unit_code(m.as_str());
        let v = if let Some((methods, period)) = &p.aggr {
            let pts: Vec<(Timestamp, f64)> = obs.iter().map(|o| (o.ts, o.value)).collect();
            let start = if p.from.0 <= i64::MIN / 2 {
                obs[0].ts
            } else {
                p.from
            };
            let period = period.unwrap_or_else(|| {
                let end = if p.to.0 >= i64::MAX / 2 {
                    obs[obs.len() - 1].ts.0 + 1
                } else {
                    p.to.0
                };
                (end - start.0).max(1)
            });
            Value::Object(aggregate(&pts, methods, start, period))
        } else if p.values || p.kv {
            let vals: Vec<Value> = obs.iter().map(|o| json!([o.value, iso(o.ts)])).collect();
            json!({"type": "Property", "values": vals})
        } else {
            Value::Array(
                obs.iter()
                    .map(|o| {
                        let mut a =
                            json!({"type": "Property", "value": o.value, "observedAt": iso(o.ts)});
                        if let Some(u) = unit {
                            a["unitCode"] = u.into();
                        }
                        a
                    })
                    .collect(),
            )
        };
        out.insert(m.to_string(), v);
    }
    Ok(Value::Object(out))
}

/// `GET /ngsi-ld/v1/temporal/entities`: the history of matching sensors.
#[utoipa::path(get, path = "/ngsi-ld/v1/temporal/entities", tag = "ngsi-ld",
    params(TemporalQuery),
    responses(
        (status = 200, description = "Temporal entities", body = Vec<Object>),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(s): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<TemporalQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let snap = s.twin();
    let p = plan(&q, snap.as_of())?;
    let sel = Selection::parse(
        q.types.as_deref(),
        q.id.as_deref(),
        q.id_pattern.as_deref(),
        None,
        q.q.as_deref(),
        (
            q.georel.as_deref(),
            q.geometry.as_deref(),
            q.coordinates.as_deref(),
            q.geoproperty.as_deref(),
        ),
    )?;
    if sel.types.is_empty() && sel.ids.is_empty() && sel.id_pattern.is_none() {
        return Err(ApiError::BadRequestData(
            "give type, id or idPattern (history is kept for Sensor entities)".into(),
        ));
    }
    let limit = q.limit.unwrap_or(20).clamp(1, 100) as usize;
    let offset = usize::try_from(q.offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let attrs = split_list(q.attrs.as_deref());
    let sensors: Vec<&twin::Entity> = if sel.ids.is_empty() {
        if sel.types.is_empty() || sel.types.iter().any(|t| t == "Sensor") {
            snap.entities_of(EntityKind::Sensor).collect()
        } else {
            Vec::new()
        }
    } else {
        sel.ids
            .iter()
            .filter_map(|id| twin_entity_of(&snap, id))
            .filter(|e| e.kind == EntityKind::Sensor)
            .collect()
    };
    let ctx = super::model::LiveCtx::default();
    let mut out = Vec::new();
    let mut seen = 0usize;
    for e in sensors {
        let full = super::model::twin_entity(&snap, e, &ctx);
        if !sel.matches(&full) {
            continue;
        }
        seen += 1;
        if seen <= offset {
            continue;
        }
        if out.len() >= limit {
            break;
        }
        out.push(temporal_entity(&s, e, &attrs, &p).await?);
    }
    let repr = Repr::of(&headers, None, None, None);
    Ok(repr.respond(StatusCode::OK, Value::Array(out), false))
}

/// `GET /ngsi-ld/v1/temporal/entities/{id}`: the history of one sensor.
#[utoipa::path(get, path = "/ngsi-ld/v1/temporal/entities/{id}", tag = "ngsi-ld",
    params(("id" = String, Path, description = "Entity id (URI)"), TemporalQuery),
    responses(
        (status = 200, description = "The temporal entity", body = Object),
        (status = 404, description = "No such entity", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a sensor: no history is kept", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_one(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    q: Result<Query<TemporalQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let snap = s.twin();
    let p = plan(&q, snap.as_of())?;
    let e = match twin_entity_of(&snap, &id) {
        Some(e) => e,
        None if s.store.ngsi_entity(&id).await?.is_some() => {
            return Err(ApiError::NotSupported(format!(
                "{id} has no history: history is kept for the twin's Sensor entities"
            )));
        }
        None => return Err(ApiError::NotFound(format!("no entity {id}"))),
    };
    if e.kind != EntityKind::Sensor {
        return Err(ApiError::NotSupported(format!(
            "{id} has no history: history is kept for the twin's Sensor entities"
        )));
    }
    let attrs = split_list(q.attrs.as_deref());
    let v = temporal_entity(&s, e, &attrs, &p).await?;
    let repr = Repr::of(&headers, None, None, None);
    Ok(repr.respond(StatusCode::OK, v, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_fixed_units_and_refuse_calendar_ones() {
        assert_eq!(parse_duration("PT1H").unwrap(), 3_600_000);
        assert_eq!(parse_duration("PT1H30M").unwrap(), 5_400_000);
        assert_eq!(parse_duration("P1DT12H").unwrap(), 129_600_000);
        assert_eq!(parse_duration("P2W").unwrap(), 1_209_600_000);
        assert_eq!(parse_duration("PT0.5S").unwrap(), 500);
        assert_eq!(parse_duration("PT15M").unwrap(), 900_000);
        for bad in [
            "", "1H", "P", "PT", "P1M", "P1Y", "PT1X", "PT1", "PT30M1H", "P-1D",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn aggregation_matches_a_hand_computation() {
        // readings at minutes 0, 10, 50 (first hour) and 70 (second hour)
        let m = |min: i64| Timestamp(min * 60_000);
        let obs = [(m(0), 10.0), (m(10), 20.0), (m(50), 60.0), (m(70), 5.0)];
        let out = aggregate(
            &obs,
            &[Aggr::Avg, Aggr::Min, Aggr::Max, Aggr::Sum, Aggr::TotalCount],
            m(0),
            3_600_000,
        );
        assert_eq!(out["avg"][0][0], 30.0);
        assert_eq!(out["min"][0][0], 10.0);
        assert_eq!(out["max"][0][0], 60.0);
        assert_eq!(out["sum"][0][0], 90.0);
        assert_eq!(out["totalCount"][0][0], 3);
        assert_eq!(out["avg"][1][0], 5.0);
        assert_eq!(out["avg"][1][1], iso(m(60)));
        assert_eq!(out["avg"][1][2], iso(m(120)));
        assert_eq!(out["avg"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn ranges_follow_timerel() {
        let asof = Timestamp(10_000_000_000);
        let (a, b) = time_range(Some("between"), Some("1000"), Some("2000"), asof).unwrap();
        assert_eq!((a.0, b.0), (1000, 2000));
        assert!(time_range(Some("between"), Some("2000"), Some("1000"), asof).is_err());
        assert!(time_range(Some("after"), None, None, asof).is_err());
        assert!(time_range(Some("during"), Some("1"), None, asof).is_err());
        let (a, b) = time_range(None, None, None, asof).unwrap();
        assert_eq!(b.0 - a.0, DEFAULT_RANGE_MS + 1);
    }
}
