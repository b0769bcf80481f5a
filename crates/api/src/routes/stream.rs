//! Live streams: `GET /api/v1/stream` (WebSocket) and
//! `GET /api/v1/stream/sse` (Server-Sent Events), with filters.
//!
//! Each client reads the live hub's broadcast ring directly: it holds no
//! queue of its own, so memory stays bounded by the ring whatever the number
//! or speed of clients. A client that falls behind skips to the oldest
//! retained update and receives `{"type":"lagged","missed":N}` first; cell
//! messages carry only changed cells, so it should then re-read the cells.
//!
//! Messages (JSON text): `{"type":"cells","res","metric","cells":[[cell,
//! mean, count, min, max, last], …]}`, `{"type":"alarm","alarm":{…}}`,
//! `{"type":"incident","incident":{…}}`, `{"type":"stats", …}`,
//! `{"type":"lagged","missed":N}`. With `format=compact` (the default) cell
//! numbers are rounded to 2 decimals; `format=full` keeps full precision.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Sink, SinkExt, Stream, StreamExt};
use geo::Rect;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast;
use utoipa::IntoParams;

use super::city::parse_bbox;
use crate::live::{CellRow, LiveUpdate};
use crate::util::{parse_cell, round_to};
use crate::{ApiError, ApiResult, AppState, Problem};

/// Query of the stream endpoints.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct StreamQuery {
    /// Only cell updates of this metric.
    pub metric: Option<String>,
    /// Only cell updates at this H3 resolution.
    pub res: Option<u8>,
    /// `minLon,minLat,maxLon,maxLat`: cells whose centre lies inside, alarms
    /// and incidents located inside.
    pub bbox: Option<String>,
    /// H3 cells (hex, comma-separated): cells equal to or inside one of them,
    /// alarms and incidents located in one of them.
    pub cells: Option<String>,
    /// Message types, comma-separated: `cells,alarms,incidents,stats` (default all).
    pub types: Option<String>,
    /// Only alarms whose sensor observes an entity of this type
    /// (`RoadSegment`, ...) or whose sensor kind is this (`air_quality`).
    pub entity_type: Option<String>,
    /// `compact` (default: cell numbers rounded to 2 decimals) or `full`.
    pub format: Option<String>,
    /// Bearer token for browsers (which cannot set headers on WebSocket or
    /// EventSource); never logged.
    pub access_token: Option<String>,
}

/// A client's filter.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    metric: Option<String>,
    res: Option<u8>,
    bbox: Option<Rect<f64>>,
    cells: Vec<h3o::CellIndex>,
    types: BTreeSet<String>,
    entity_type: Option<String>,
    decimals: Option<i32>,
}

const TYPES: [&str; 4] = ["cells", "alarms", "incidents", "stats"];

impl Filter {
    /// From the query (400 on bad values).
    pub fn parse(q: &StreamQuery) -> ApiResult<Self> {
        let types: BTreeSet<String> = match &q.types {
            None => TYPES.iter().map(|t| (*t).to_owned()).collect(),
            Some(t) => t
                .split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(|x| {
                    let x = match x {
                        "alarm" => "alarms",
                        "incident" => "incidents",
                        other => other,
                    };
                    if TYPES.contains(&x) {
                        Ok(x.to_owned())
                    } else {
                        Err(ApiError::InvalidRequest(format!(
                            "types: {x:?} is not one of cells, alarms, incidents, stats"
                        )))
                    }
                })
                .collect::<Result<_, _>>()?,
        };
        if let Some(r) = q.res
            && r > 15
        {
            return Err(ApiError::InvalidRequest(format!("res {r} is not 0-15")));
        }
        let cells = q
            .cells
            .as_deref()
            .map(|c| {
                c.split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(parse_cell)
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        if cells.len() > 10_000 {
            return Err(ApiError::InvalidRequest("at most 10,000 cells".into()));
        }
        let decimals = match q.format.as_deref() {
            None | Some("compact") => Some(2),
            Some("full") => None,
            Some(f) => {
                return Err(ApiError::InvalidRequest(format!(
                    "format {f:?} must be compact or full"
                )));
            }
        };
        Ok(Self {
            metric: q.metric.clone(),
            res: q.res,
            bbox: q.bbox.as_deref().map(parse_bbox).transpose()?,
            cells,
            types,
            entity_type: q.entity_type.clone(),
            decimals,
        })
    }

    fn cell_in(&self, c: h3o::CellIndex) -> bool {
        if let Some(b) = self.bbox {
            let p = h3o::LatLng::from(c);
            let (x, y) = (p.lng(), p.lat());
            if x < b.min().x || x > b.max().x || y < b.min().y || y > b.max().y {
                return false;
            }
        }
        self.cells.is_empty()
            || self
                .cells
                .iter()
                .any(|s| c.resolution() >= s.resolution() && c.parent(s.resolution()) == Some(*s))
    }

    fn place_in(&self, lat: Option<f64>, lon: Option<f64>) -> bool {
        if self.bbox.is_none() && self.cells.is_empty() {
            return true;
        }
        let (Some(lat), Some(lon)) = (lat, lon) else {
            return false;
        };
        h3o::LatLng::new(lat, lon)
            .map(|ll| self.cell_in(ll.to_cell(h3o::Resolution::Fifteen)))
            .unwrap_or(false)
    }

    fn row_json(&self, r: &CellRow, out: &mut String) {
        use std::fmt::Write;
        let f = |v: f64| -> String {
            let v = match self.decimals {
                Some(d) => round_to(v, d),
                None => v,
            };
            if v.is_finite() {
                serde_json::to_string(&v).unwrap_or_else(|_| "null".into())
            } else {
                "null".into()
            }
        };
        let _ = write!(
            out,
            "[\"{}\",{},{},{},{},{}]",
            r.0,
            f(r.1),
            r.2,
            f(r.3),
            f(r.4),
            f(r.5)
        );
    }

    /// The message for one update, or `None` when the filter drops it.
    pub fn render(&self, u: &LiveUpdate) -> Option<String> {
        if !self.types.contains(u.kind()) {
            return None;
        }
        match u {
            LiveUpdate::Cells { res, metric, cells } => {
                if self.metric.as_ref().is_some_and(|m| m != metric)
                    || self.res.is_some_and(|r| r != *res)
                {
                    return None;
                }
                let all = self.bbox.is_none() && self.cells.is_empty();
                let mut out = String::with_capacity(64 + cells.len() * 48);
                out.push_str("{\"type\":\"cells\",\"res\":");
                out.push_str(&res.to_string());
                out.push_str(",\"metric\":");
                out.push_str(&serde_json::to_string(metric).unwrap_or_default());
                out.push_str(",\"cells\":[");
                let mut n = 0usize;
                for r in cells {
                    if !all {
                        let Ok(c) = parse_cell(&r.0) else { continue };
                        if !self.cell_in(c) {
                            continue;
                        }
                    }
                    if n > 0 {
                        out.push(',');
                    }
                    self.row_json(r, &mut out);
                    n += 1;
                }
                out.push_str("]}");
                (n > 0).then_some(out)
            }
            LiveUpdate::Alarm(a) => {
                if let Some(t) = &self.entity_type
                    && a.entity_type.as_deref() != Some(t.as_str())
                    && a.sensor_kind.as_deref() != Some(t.as_str())
                {
                    return None;
                }
                if !self.place_in(a.location.map(|p| p.lat), a.location.map(|p| p.lon)) {
                    return None;
                }
                Some(json!({"type": "alarm", "alarm": a}).to_string())
            }
            LiveUpdate::Incident(i) => {
                if !self.place_in(i.location.map(|p| p.lat), i.location.map(|p| p.lon)) {
                    return None;
                }
                Some(json!({"type": "incident", "incident": i, "incident_type": i.kind}).to_string())
            }
            LiveUpdate::Stats {
                observations,
                sensors_online,
                sensors_stale,
                sensors_offline,
                as_of,
            } => Some(
                json!({"type": "stats", "observations": observations, "sensors_online": sensors_online,
                       "sensors_stale": sensors_stale, "sensors_offline": sensors_offline, "as_of": as_of})
                .to_string(),
            ),
        }
    }
}

/// The `lagged` message.
pub fn lagged(missed: u64) -> String {
    json!({"type": "lagged", "missed": missed}).to_string()
}

/// Forwards hub updates through `filter` into `sink` until the sink fails or
/// the hub closes. Generic over the sink so it is tested without sockets.
pub async fn pump<S>(mut rx: broadcast::Receiver<Arc<LiveUpdate>>, filter: Filter, mut sink: S)
where
    S: Sink<String> + Unpin,
{
    loop {
        let msg = match rx.recv().await {
            Ok(u) => match filter.render(&u) {
                Some(m) => m,
                None => continue,
            },
            Err(broadcast::error::RecvError::Lagged(n)) => {
                crate::telemetry::stream_lagged(n);
                lagged(n)
            }
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if sink.send(msg).await.is_err() {
            return;
        }
    }
}

/// A stream of SSE events from the hub through `filter` (event names:
/// `cells`, `alarm`, `incident`, `stats`, `lagged`).
pub fn sse_events(
    rx: broadcast::Receiver<Arc<LiveUpdate>>,
    filter: Filter,
) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold((rx, filter), |(mut rx, filter)| async move {
        loop {
            match rx.recv().await {
                Ok(u) => {
                    if let Some(m) = filter.render(&u) {
                        let name = match u.kind() {
                            "alarms" => "alarm",
                            "incidents" => "incident",
                            k => k,
                        };
                        return Some((Ok(Event::default().event(name).data(m)), (rx, filter)));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    crate::telemetry::stream_lagged(n);
                    return Some((
                        Ok(Event::default().event("lagged").data(lagged(n))),
                        (rx, filter),
                    ));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

/// `GET /api/v1/stream`: live updates over a WebSocket (text frames).
#[utoipa::path(get, path = "/api/v1/stream", tag = "live",
    params(StreamQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol; JSON text messages follow"),
        (status = 400, description = "Bad filter or not a WebSocket upgrade", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn websocket(
    State(s): State<AppState>,
    q: Result<Query<StreamQuery>, QueryRejection>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let filter = Filter::parse(&q)?;
    let ws =
        ws.map_err(|e| ApiError::InvalidRequest(format!("expected a WebSocket upgrade: {e}")))?;
    let rx = s.live.subscribe();
    Ok(ws.on_upgrade(move |socket| serve_socket(socket, rx, filter)))
}

async fn serve_socket(socket: WebSocket, rx: broadcast::Receiver<Arc<LiveUpdate>>, filter: Filter) {
    let (sink, mut incoming) = socket.split();
    let sink = sink.with(|m: String| async move { Ok::<_, axum::Error>(Message::Text(m.into())) });
    let reader = async move {
        // read until the client closes (pings are answered by the library)
        while let Some(Ok(m)) = incoming.next().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    };
    tokio::select! {
        () = pump(rx, filter, Box::pin(sink)) => {}
        () = reader => {}
    }
}

/// `GET /api/v1/stream/sse`: live updates as Server-Sent Events.
#[utoipa::path(get, path = "/api/v1/stream/sse", tag = "live",
    params(StreamQuery),
    responses(
        (status = 200, description = "An event stream; each event's data is one JSON message", content_type = "text/event-stream", body = String),
        (status = 400, description = "Bad filter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
    ),
    security((), ("bearer" = [])))]
pub async fn sse(
    State(s): State<AppState>,
    q: Result<Query<StreamQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let filter = Filter::parse(&q)?;
    let events = sse_events(s.live.subscribe(), filter);
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}
