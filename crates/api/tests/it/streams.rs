//! Live streams: filters, the lagged message with a tiny buffer, SSE framing
//! and a WebSocket over a real socket.

use std::time::Duration;

use api::routes::stream::{Filter, StreamQuery, pump};
use api::{LiveHub, LiveUpdate, Role};
use axum::body::Body;
use axum::http::Request;
use futures::StreamExt;
use serde_json::Value;
use tower::ServiceExt;

use crate::support::{Options, app_with};

fn cells(metric: &str, res: u8, rows: &[(&str, f64)]) -> LiveUpdate {
    LiveUpdate::Cells {
        res,
        metric: metric.into(),
        cells: rows
            .iter()
            .map(|(c, v)| ((*c).to_owned(), *v, 3, *v - 1.0, *v + 1.0, *v))
            .collect(),
    }
}

fn cell_at(lat: f64, lon: f64, res: h3o::Resolution) -> String {
    h3o::LatLng::new(lat, lon).unwrap().to_cell(res).to_string()
}

fn filter(q: &str) -> Filter {
    let q: StreamQuery = serde_urlencoded_from(q);
    Filter::parse(&q).unwrap()
}

fn serde_urlencoded_from(q: &str) -> StreamQuery {
    let uri: axum::http::Uri = format!("/x?{q}").parse().unwrap();
    axum::extract::Query::<StreamQuery>::try_from_uri(&uri)
        .unwrap()
        .0
}

#[test]
fn filters_keep_the_subscribed_metric_resolution_and_area() {
    let inside = cell_at(60.17, 24.94, h3o::Resolution::Nine);
    let outside = cell_at(31.23, 121.47, h3o::Resolution::Nine);
    let u = cells("pm25", 9, &[(&inside, 12.3456), (&outside, 50.0)]);
    let all = filter("metric=pm25&res=9&format=compact");
    let v: Value = serde_json::from_str(&all.render(&u).unwrap()).unwrap();
    assert_eq!(v["type"], "cells");
    assert_eq!(v["res"], 9);
    assert_eq!(v["metric"], "pm25");
    assert_eq!(v["cells"][0][0], inside.as_str());
    assert_eq!(v["cells"][0][1], 12.35);
    assert_eq!(v["cells"][0][2], 3);
    let full = filter("format=full");
    let v: Value = serde_json::from_str(&full.render(&u).unwrap()).unwrap();
    assert_eq!(v["cells"][0][1], 12.3456);
    assert!(filter("metric=no2").render(&u).is_none());
    assert!(filter("res=8").render(&u).is_none());
    assert!(filter("types=alarms,incidents").render(&u).is_none());
    let boxed = filter("bbox=24.9,60.1,25.0,60.2");
    let v: Value = serde_json::from_str(&boxed.render(&u).unwrap()).unwrap();
    assert_eq!(v["cells"].as_array().unwrap().len(), 1);
    // a parent cell selects its descendants
    let parent = h3o::LatLng::new(60.17, 24.94)
        .unwrap()
        .to_cell(h3o::Resolution::Six)
        .to_string();
    let v: Value =
        serde_json::from_str(&filter(&format!("cells={parent}")).render(&u).unwrap()).unwrap();
    assert_eq!(v["cells"][0][0], inside.as_str());
    assert_eq!(v["cells"].as_array().unwrap().len(), 1);
    // nothing left: no message
    assert!(filter("bbox=0,0,1,1").render(&u).is_none());
    for bad in [
        "types=everything",
        "res=16",
        "bbox=1,2",
        "cells=zz",
        "format=xml",
    ] {
        assert!(Filter::parse(&serde_urlencoded_from(bad)).is_err(), "{bad}");
    }
    let stats = LiveUpdate::Stats {
        observations: 5,
        sensors_online: 1,
        sensors_stale: 0,
        sensors_offline: 0,
        as_of: 7,
    };
    let v: Value = serde_json::from_str(&filter("types=stats").render(&stats).unwrap()).unwrap();
    assert_eq!(v["observations"], 5);
}

#[tokio::test]
async fn a_slow_client_is_told_how_many_updates_it_missed() {
    let hub = LiveHub::new(2);
    let rx = hub.subscribe();
    for i in 0..5 {
        hub.publish(LiveUpdate::Stats {
            observations: i,
            sensors_online: 0,
            sensors_stale: 0,
            sensors_offline: 0,
            as_of: 0,
        });
    }
    let (tx, mut out) = futures::channel::mpsc::unbounded::<String>();
    let task = tokio::spawn(pump(rx, filter(""), tx));
    let first: Value = serde_json::from_str(&out.next().await.unwrap()).unwrap();
    assert_eq!(first, serde_json::json!({"type": "lagged", "missed": 3}));
    // then the two retained updates, oldest first
    for expect in [3, 4] {
        let v: Value = serde_json::from_str(&out.next().await.unwrap()).unwrap();
        assert_eq!(v["observations"], expect);
    }
    drop(hub);
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn sse_frames_carry_the_event_type_and_the_message() {
    let a = app_with(Options {
        hub: 4,
        ..Options::default()
    })
    .await;
    let t = a.token(Role::Viewer);
    let req = Request::builder()
        .uri(format!(
            "/api/v1/stream/sse?types=cells&metric=pm25&access_token={t}"
        ))
        .body(Body::empty())
        .unwrap();
    let resp = a.router.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.into_body().into_data_stream();
    let c = cell_at(60.17, 24.94, h3o::Resolution::Nine);
    a.state.live.publish(cells("no2", 9, &[(&c, 1.0)]));
    a.state.live.publish(cells("pm25", 9, &[(&c, 7.0)]));
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.starts_with("event: cells\ndata: "), "{text}");
    let data = text.lines().nth(1).unwrap().trim_start_matches("data: ");
    let v: Value = serde_json::from_str(data).unwrap();
    assert_eq!(v["metric"], "pm25");
    assert_eq!(v["cells"][0][1], 7.0);
}

#[tokio::test]
async fn the_websocket_streams_alarms_and_incidents_nested() {
    use tokio_tungstenite::tungstenite::Message;
    let a = app_with(Options::default()).await;
    let (stop, (btx, brx)) = (
        tokio_util::sync::CancellationToken::new(),
        tokio::sync::oneshot::channel(),
    );
    let cfg = api::HttpConfig {
        port: 0,
        ..api::HttpConfig::default()
    };
    let state = a.state.clone();
    let s2 = stop.clone();
    tokio::spawn(async move { api::serve(&cfg, state, s2, btx).await });
    let addr = brx.await.unwrap();
    let t = a.token(Role::Viewer);
    let url = format!("ws://{addr}/api/v1/stream?types=incidents&access_token={t}");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    // give the server a moment to subscribe the client to the hub
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = a
        .post(
            "/api/v1/incidents",
            Role::Operator,
            serde_json::json!({"type": "pothole", "title": "Hole", "priority": "P3"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let Message::Text(txt) = msg else {
        panic!("expected text, got {msg:?}")
    };
    let v: Value = serde_json::from_str(&txt).unwrap();
    assert_eq!(v["type"], "incident");
    assert_eq!(v["incident"]["type"], "pothole");
    assert_eq!(v["incident_type"], "pothole");
    assert_eq!(v["incident"]["id"], r.body["id"]);
    // without a token the upgrade is refused
    let e = tokio_tungstenite::connect_async(format!("ws://{addr}/api/v1/stream"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("401"), "{e}");
    stop.cancel();
}
