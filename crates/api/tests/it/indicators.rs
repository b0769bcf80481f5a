//! Live indicators: the six pillars from the twin and the operations
//! centre, static inputs, history.

use api::Role;
use axum::http::Method;
use domain::{EventChannel, EventReport, Priority, SensorId, SensorKind, Timestamp};
use serde_json::{Value, json};

use crate::support::{App, T0, app, obs};

fn node<'a>(v: &'a Value, id: &str) -> Option<&'a Value> {
    if v["id"] == id {
        return Some(v);
    }
    v["children"].as_array()?.iter().find_map(|c| node(c, id))
}

fn find<'a>(d: &'a Value, id: &str) -> &'a Value {
    d["pillars"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|p| node(p, id))
        .unwrap_or_else(|| panic!("no node {id} in {d}"))
}

async fn close_one_now(a: &App) {
    let r = a
        .post(
            "/api/v1/incidents",
            Role::Operator,
            json!({"type": "pothole", "title": "Hole", "priority": "P3", "team": "roads"}),
        )
        .await;
    let tr = format!(
        "/api/v1/incidents/{}/transition",
        r.body["id"].as_str().unwrap()
    );
    for action in ["dispatch", "start", "resolve"] {
        assert_eq!(
            a.post(&tr, Role::Operator, json!({"action": action}))
                .await
                .status,
            200
        );
    }
}

#[tokio::test]
async fn closing_incidents_on_time_raises_grassroots_governance() {
    let mut a = app().await;
    let s = a.sensor_of(SensorKind::AirQuality);
    a.observe(&[obs(&s, "pm25", T0, 20.0)]).await;
    let d = a.get("/api/v1/indicators", Role::Viewer).await.body;
    assert_eq!(d["profile"], "six-pillar");
    assert_eq!(d["pillars"].as_array().unwrap().len(), 6);
    assert_eq!(d["live_inputs"]["pm25_mean"]["value"], 20.0);
    assert!(
        d["live_inputs"]["sensor_online_share"]["value"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    let leaf = find(&d, "sensor_online_share");
    assert_eq!(leaf["provenance"], "live");
    assert!(leaf["score_rate"].as_f64().is_some());
    // no incidents yet: the leaf has no value
    assert_eq!(find(&d, "grassroots_governance")["score_rate"], Value::Null);

    // an overdue citizen report: on-time closure 0
    let snap = a.snap();
    let reporter = a.sensor_of(SensorKind::EventReporter);
    let ten_days_ago = api::util::now().0 - 10 * 86_400_000;
    a.state
        .ops
        .on_reports(
            &[EventReport {
                id: "late".into(),
                reporter: SensorId::new(&reporter).unwrap(),
                channel: EventChannel::App,
                category: "waste".into(),
                priority: Priority::P2,
                ts: Timestamp(ten_days_ago),
                location: None,
                text: String::new(),
            }],
            &snap,
        )
        .await;
    let before = a.get("/api/v1/indicators", Role::Viewer).await.body;
    let g0 = find(&before, "grassroots_governance")["raw"]
        .as_f64()
        .unwrap();
    assert_eq!(g0, 0.0);
    let r0 = find(&before, "grassroots_governance")["score_rate"]
        .as_f64()
        .unwrap();
    // three incidents resolved well within their deadline
    for _ in 0..3 {
        close_one_now(&a).await;
    }
    let after = a.get("/api/v1/indicators", Role::Viewer).await.body;
    let g1 = find(&after, "grassroots_governance")["raw"]
        .as_f64()
        .unwrap();
    assert!((g1 - 0.75).abs() < 1e-12, "{g1}");
    let r1 = find(&after, "grassroots_governance")["score_rate"]
        .as_f64()
        .unwrap();
    assert!(r1 > r0, "{r0} -> {r1}");
    let m = a.get("/api/v1/incidents/metrics", Role::Viewer).await.body;
    assert_eq!(m["total"], 4);
    assert_eq!(m["backlog"], 1);
    assert_eq!(m["overdue"], 1);
    assert_eq!(m["on_time_closure_rate"], 0.75);
    assert_eq!(m["closure_rate"], 0.75);
    assert_eq!(m["response_time_s"]["count"], 3);
    // the second-level block 治理体系 rises with it
    let gov = |d: &Value| find(d, "governance_system")["score_rate"].as_f64().unwrap();
    assert!(gov(&after) > gov(&before));

    // the history takes samples
    let t = api::util::now();
    for i in 0..2 {
        a.state
            .indicators
            .sample(&a.snap(), &a.state.ops, Timestamp(t.0 + i * 60_000))
            .await
            .unwrap();
    }
    let h = a
        .get("/api/v1/indicators/history?limit=96", Role::Viewer)
        .await
        .body;
    let composite = a.get("/api/v1/indicators", Role::Viewer).await.body["composite"].clone();
    if composite.is_number() {
        assert_eq!(h["points"].as_array().unwrap().len(), 2);
        assert_eq!(h["points"][1][1], composite);
    } else {
        // samples without a composite are kept but not plotted
        assert!(h["points"].as_array().unwrap().is_empty());
    }
    assert_eq!(a.store.indicator_samples(10).await.unwrap().len(), 2);
}

#[tokio::test]
async fn planners_enter_static_inputs_and_others_cannot() {
    let a = app().await;
    let input = json!([{"indicator": "digital_core_gdp_share", "year": 2025, "value": 0.12}]);
    let t = a.token(Role::Planner);
    let r = a
        .req(
            Method::PUT,
            "/api/v1/indicators/inputs",
            Some(&t),
            Some(input.clone()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body[0]["updated_by"], "bootstrap-planner");
    let v = a.token(Role::Viewer);
    a.req(
        Method::PUT,
        "/api/v1/indicators/inputs",
        Some(&v),
        Some(input),
    )
    .await
    .problem(403);
    let o = a.token(Role::Operator);
    a.req(
        Method::PUT,
        "/api/v1/indicators/inputs",
        Some(&o),
        Some(json!([])),
    )
    .await
    .problem(403);
    let bad = json!([{"indicator": "happiness", "year": 2025, "value": 1.0}]);
    a.req(
        Method::PUT,
        "/api/v1/indicators/inputs",
        Some(&t),
        Some(bad),
    )
    .await
    .problem(422);
    let d = a.get("/api/v1/indicators", Role::Viewer).await.body;
    let leaf = find(&d, "digital_core_gdp_share");
    assert_eq!(leaf["raw"], 0.12);
    assert_eq!(leaf["provenance"], "static");
    assert!(find(&d, "digital_economy")["score_rate"].is_number());
    assert_eq!(
        a.get("/api/v1/indicators/inputs", Role::Viewer)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let r = a
        .req(
            Method::DELETE,
            "/api/v1/indicators/inputs/digital_core_gdp_share/2025",
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    a.req(
        Method::DELETE,
        "/api/v1/indicators/inputs/digital_core_gdp_share/2025",
        Some(&t),
        None,
    )
    .await
    .problem(404);
    let p = a
        .get("/api/v1/indicators/profiles", Role::Viewer)
        .await
        .body;
    assert_eq!(p.as_array().unwrap().len(), 3);
    let g = a
        .get("/api/v1/indicators?profile=gbt-33356", Role::Viewer)
        .await;
    assert_eq!(g.status, 200, "{}", g.text);
    a.get("/api/v1/indicators?profile=nope", Role::Viewer)
        .await
        .problem(404);
}
