//! `/api/v1/city` and `/api/v1/cells`: the city and its live H3 aggregates.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use domain::{EntityKind, KNOWN_METRICS};
use geo::Rect;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use crate::{ApiError, ApiResult, AppState, Problem};

/// `GET /api/v1/city`: name, bounds, attribution, counts, metrics.
#[utoipa::path(get, path = "/api/v1/city", tag = "city",
    responses((status = 200, description = "The city: name, bbox, centre, attribution, entity counts, metrics seen, roll-up resolutions", body = Object)),
    security((), ("bearer" = [])))]
pub async fn city(State(s): State<AppState>) -> Json<Value> {
    let t = s.twin();
    let b = t.bounds();
    let counts: serde_json::Map<String, Value> = EntityKind::ALL
        .iter()
        .map(|k| (k.type_name().to_owned(), json!(t.entity_count(*k))))
        .collect();
    let metrics: Vec<Value> = t
        .metrics()
        .iter()
        .map(|m| {
            let info = KNOWN_METRICS.iter().find(|i| i.name == m.as_str());
            json!({"name": m.as_str(), "unit": info.map(|i| i.unit.symbol()), "description": info.map(|i| i.description)})
        })
        .collect();
    Json(json!({
        "name": t.name(),
        "bbox": b.map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]),
        "center": b.map(|r| [(r.min().x + r.max().x) / 2.0, (r.min().y + r.max().y) / 2.0]),
        "attribution": t.attribution(),
        "counts": counts,
        "metrics": metrics,
        "version": t.version(),
        "as_of": t.as_of().0,
        "resolutions": t.config().rollup_resolutions.iter().map(|r| u8::from(*r)).collect::<Vec<_>>(),
    }))
}

/// Query of `/api/v1/cells`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CellsQuery {
    /// `minLon,minLat,maxLon,maxLat`; absent = everywhere.
    pub bbox: Option<String>,
    /// H3 resolution (one of the twin's roll-up resolutions).
    #[param(minimum = 0, maximum = 15)]
    pub res: u8,
    /// Metric name.
    #[param(min_length = 1, max_length = 64, pattern = "^[a-z0-9_]+$")]
    pub metric: String,
    /// `geojson` (default) or `compact`.
    #[param(pattern = "^(geojson|compact)$")]
    pub format: Option<String>,
}

/// Parses `minLon,minLat,maxLon,maxLat`.
pub fn parse_bbox(s: &str) -> ApiResult<Rect<f64>> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            ApiError::InvalidRequest(format!(
                "bbox {s:?} must be four numbers minLon,minLat,maxLon,maxLat"
            ))
        })?;
    let [a, b, c, d] = v[..] else {
        return Err(ApiError::InvalidRequest(format!(
            "bbox {s:?} must be four numbers minLon,minLat,maxLon,maxLat"
        )));
    };
    let ok = |x: f64, lim: f64| x.is_finite() && (-lim..=lim).contains(&x);
    if !(ok(a, 180.0) && ok(c, 180.0) && ok(b, 90.0) && ok(d, 90.0)) || a > c || b > d {
        return Err(ApiError::BadRequestData(format!(
            "bbox {s:?} is not a valid lon/lat box with min <= max"
        )));
    }
    Ok(Rect::new((a, b), (c, d)))
}

/// `GET /api/v1/cells`: aggregates of one metric at one resolution, as a
/// GeoJSON FeatureCollection of hexagons or compact rows
/// `[cell, mean, count, min, max, last]` (`format=compact`).
#[utoipa::path(get, path = "/api/v1/cells", tag = "city",
    params(CellsQuery),
    responses(
        (status = 200, description = "Cells (GeoJSON FeatureCollection, or {res, metric, unit, as_of, cells} when compact)", body = Object,
         content_type = "application/geo+json"),
        (status = 400, description = "Bad parameters (bbox, a resolution without aggregates, format)", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn cells(
    State(s): State<AppState>,
    q: Result<Query<CellsQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let bbox = q.bbox.as_deref().map(parse_bbox).transpose()?;
    let res = h3o::Resolution::try_from(q.res)
        .map_err(|_| ApiError::BadRequestData(format!("res {} is not 0-15", q.res)))?;
    domain::Metric::new(&q.metric).map_err(|e| ApiError::BadRequestData(format!("metric: {e}")))?;
    let format = q.format.as_deref().unwrap_or("geojson");
    let content_type = match format {
        "compact" => "application/json",
        "geojson" => "application/geo+json",
        other => {
            return Err(ApiError::BadRequestData(format!(
                "format {other:?} must be geojson or compact"
            )));
        }
    };
    let t = s.twin();
    let key = format!(
        "{}|{}|{}|{format}",
        q.res,
        q.metric,
        q.bbox.as_deref().unwrap_or("")
    );
    if let Some(body) = s.cells_cache.get(t.version(), &key) {
        return Ok(([(header::CONTENT_TYPE, content_type)], body).into_response());
    }
    let cells = t
        .cells(res, &q.metric, bbox)
        .map_err(|e| ApiError::BadRequestData(e.to_string()))?;
    let unit = KNOWN_METRICS
        .iter()
        .find(|i| i.name == q.metric)
        .map(|i| i.unit.symbol());
    let body = bytes::Bytes::from(if format == "compact" {
        compact_json(q.res, &q.metric, unit, t.as_of().0, &cells)
    } else {
        geojson_cells(q.res, &q.metric, unit, &cells)
    });
    s.cells_cache.put(t.version(), key, body.clone());
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// The rendered bodies of `/api/v1/cells` for the current snapshot version.
///
/// Under ingest a snapshot lives about 100 ms, and a wall of dashboards
/// reloading the same view asks for the same body many times in that time;
/// a body depends only on the snapshot and the query, so it is rendered once
/// per version. A new version empties the cache; at most
/// [`CellsCache::MAX_BODIES`] bodies are kept per version.
#[derive(Debug, Default)]
pub struct CellsCache {
    inner: std::sync::Mutex<(u64, std::collections::HashMap<String, bytes::Bytes>)>,
}

impl CellsCache {
    /// Bodies kept per snapshot version.
    pub const MAX_BODIES: usize = 32;

    /// The body rendered for `key` at snapshot `version`, if any.
    pub fn get(&self, version: u64, key: &str) -> Option<bytes::Bytes> {
        let g = self.inner.lock().ok()?;
        (g.0 == version).then(|| g.1.get(key).cloned()).flatten()
    }

    /// Keeps `body` for `key` at snapshot `version` (a newer version replaces
    /// everything; an older one is ignored).
    pub fn put(&self, version: u64, key: String, body: bytes::Bytes) {
        let Ok(mut g) = self.inner.lock() else {
            return;
        };
        if version > g.0 || g.1.is_empty() {
            *g = (version, std::collections::HashMap::new());
        }
        if g.0 == version && g.1.len() < Self::MAX_BODIES {
            g.1.insert(key, body);
        }
    }
}

/// A JSON number (`null` when not finite).
fn num(out: &mut String, v: f64) {
    use std::fmt::Write;
    if v.is_finite() {
        let _ = write!(out, "{v}");
    } else {
        out.push_str("null");
    }
}

fn opt(out: &mut String, v: Option<f64>) {
    match v {
        Some(v) => num(out, v),
        None => out.push_str("null"),
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// The compact form `{res, metric, unit, as_of, cells: [[cell, mean, count,
/// min, max, last], …]}`, written directly (the response of the live map's
/// full reloads; tens of thousands of cells).
pub fn compact_json(
    res: u8,
    metric: &str,
    unit: Option<&str>,
    as_of: i64,
    cells: &[twin::CellAggregate],
) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(96 + cells.len() * 64);
    let _ = write!(
        out,
        "{{\"res\":{res},\"metric\":{},\"unit\":{},\"as_of\":{as_of},\"cells\":[",
        json_str(metric),
        unit.map_or_else(|| "null".to_owned(), json_str)
    );
    let mut first = true;
    for c in cells {
        let w = live_window(c);
        let (Some(mean), Some(min), Some(max), Some(last)) = (w.mean(), w.min(), w.max(), w.last())
        else {
            continue;
        };
        if !first {
            out.push(',');
        }
        first = false;
        let _ = write!(out, "[\"{}\",", c.cell);
        num(&mut out, mean);
        let _ = write!(out, ",{},", w.count());
        num(&mut out, min);
        out.push(',');
        num(&mut out, max);
        out.push(',');
        num(&mut out, last.0);
        out.push(']');
    }
    out.push_str("]}");
    out
}

/// The cells as a GeoJSON FeatureCollection of hexagons, written directly.
pub fn geojson_cells(
    res: u8,
    metric: &str,
    unit: Option<&str>,
    cells: &[twin::CellAggregate],
) -> String {
    use std::fmt::Write;
    let metric = json_str(metric);
    let unit = unit.map_or_else(|| "null".to_owned(), json_str);
    let mut out = String::with_capacity(64 + cells.len() * 520);
    out.push_str("{\"type\":\"FeatureCollection\",\"features\":[");
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "{{\"type\":\"Feature\",\"id\":\"{0}\",\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":[[",
            c.cell
        );
        let b = c.cell.boundary();
        for ll in b.iter().chain(b.iter().take(1)) {
            out.push('[');
            num(&mut out, ll.lng());
            out.push(',');
            num(&mut out, ll.lat());
            out.push_str("],");
        }
        out.pop();
        let w = live_window(c);
        let _ = write!(
            out,
            "]]}},\"properties\":{{\"cell\":\"{}\",\"res\":{res},\"metric\":{metric},\"unit\":{unit},\"count\":{},\"mean\":",
            c.cell,
            w.count()
        );
        opt(&mut out, w.mean());
        out.push_str(",\"min\":");
        opt(&mut out, w.min());
        out.push_str(",\"max\":");
        opt(&mut out, w.max());
        out.push_str(",\"last\":");
        opt(&mut out, w.last().map(|l| l.0));
        out.push_str(",\"last_ts\":");
        match w.last() {
            Some((_, ts)) => {
                let _ = write!(out, "{}", ts.0);
            }
            None => out.push_str("null"),
        }
        let _ = write!(out, ",\"total_count\":{}}}}}", c.total.count());
    }
    out.push_str("]}");
    out
}

/// The window shown live: the current one once it has data, else the
/// previous complete one (so a cell does not blank at each window start).
pub fn live_window(c: &twin::CellAggregate) -> &twin::Stats {
    if c.current.stats.count() > 0 {
        &c.current.stats
    } else {
        &c.previous.stats
    }
}

/// Query of a cell's history.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CellHistoryQuery {
    /// Metric.
    #[param(min_length = 1, max_length = 64, pattern = "^[a-z0-9_]+$")]
    pub metric: String,
    /// Start (RFC 3339 or epoch ms); default `to` minus 6 hours.
    pub from: Option<String>,
    /// End, exclusive; default now.
    pub to: Option<String>,
    /// `minute` (default) or `hour`.
    #[param(pattern = "^(minute|hour)$")]
    pub rollup: Option<String>,
}

/// A cell's history.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct CellHistory {
    /// The cell (hex).
    pub cell: String,
    /// The metric.
    pub metric: String,
    /// Its unit.
    pub unit: Option<String>,
    /// `minute` or `hour`.
    pub rollup: String,
    /// `[bucket_ms, count, mean, min, max]`, oldest first.
    pub points: Vec<[f64; 5]>,
}

/// `GET /api/v1/cells/{cell}/history`: minute or hour roll-ups of one
/// metric over the sensors located in an H3 cell (any resolution), from the
/// store.
#[utoipa::path(get, path = "/api/v1/cells/{cell}/history", tag = "city",
    params(("cell" = String, Path, description = "H3 cell (hex)"), CellHistoryQuery),
    responses(
        (status = 200, description = "The series", body = CellHistory),
        (status = 400, description = "Bad parameters", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn cell_history(
    State(s): State<AppState>,
    cell: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
    q: Result<Query<CellHistoryQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<CellHistory>> {
    let axum::extract::Path(cell) = cell?;
    let Query(q) = q?;
    let c = crate::util::parse_cell(&cell)?;
    let metric = domain::Metric::new(&q.metric)
        .map_err(|e| ApiError::InvalidRequest(format!("metric: {e}")))?;
    let to =
        q.to.as_deref()
            .map(|t| crate::util::parse_time("to", t))
            .transpose()?
            .unwrap_or_else(crate::util::now);
    let from = q
        .from
        .as_deref()
        .map(|t| crate::util::parse_time("from", t))
        .transpose()?
        .unwrap_or(domain::Timestamp(to.0.saturating_sub(6 * 3_600_000)));
    if from >= to {
        return Err(ApiError::BadRequestData("from must be before to".into()));
    }
    let (res, name) = match q.rollup.as_deref().unwrap_or("minute") {
        "minute" => (store::Resolution::Minute, "minute"),
        "hour" => (store::Resolution::Hour, "hour"),
        other => {
            return Err(ApiError::InvalidRequest(format!(
                "rollup {other:?} must be minute or hour"
            )));
        }
    };
    let rows = s
        .store
        .rollups(
            &store::RollupTarget::Cell(u64::from(c)),
            &metric,
            res,
            from,
            to,
        )
        .await?;
    Ok(Json(CellHistory {
        cell: c.to_string(),
        unit: KNOWN_METRICS
            .iter()
            .find(|i| i.name == metric.as_str())
            .map(|i| i.unit.symbol().to_owned()),
        metric: metric.to_string(),
        rollup: name.into(),
        points: rows
            .iter()
            .map(|r| [r.bucket.0 as f64, r.count as f64, r.mean(), r.min, r.max])
            .collect(),
    }))
}

#[cfg(test)]
mod cache_tests {
    use super::CellsCache;

    #[test]
    fn bodies_live_as_long_as_their_snapshot_version() {
        let c = CellsCache::default();
        assert_eq!(c.get(3, "q"), None);
        c.put(3, "q".into(), "a".into());
        assert_eq!(c.get(3, "q").as_deref(), Some(&b"a"[..]));
        assert_eq!(c.get(3, "other"), None);
        assert_eq!(
            c.get(4, "q"),
            None,
            "a newer snapshot never sees an old body"
        );
        c.put(2, "q".into(), "stale".into());
        assert_eq!(
            c.get(3, "q").as_deref(),
            Some(&b"a"[..]),
            "an older render is ignored"
        );
        c.put(4, "q".into(), "b".into());
        assert_eq!(c.get(4, "q").as_deref(), Some(&b"b"[..]));
        assert_eq!(c.get(3, "q"), None);
        for i in 0..2 * CellsCache::MAX_BODIES {
            c.put(4, format!("k{i}"), "x".into());
        }
        assert!(c.get(4, "k0").is_some());
        assert!(
            c.get(4, &format!("k{}", 2 * CellsCache::MAX_BODIES - 1))
                .is_none()
        );
    }
}
