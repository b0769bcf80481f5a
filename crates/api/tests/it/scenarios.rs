//! Scenario runs over HTTP: planners fork the twin, poll progress, read the
//! KPI comparison and the map; viewers cannot run; bad input is a problem;
//! runs are deterministic, cancellable and bounded.

use std::time::Duration;

use api::Role;
use axum::http::Method;
use domain::EntityKind;
use serde_json::{Value, json};

use crate::support::{App, app};

/// The first road of the city.
fn a_road(a: &App) -> String {
    a.snap()
        .entities_of(EntityKind::RoadSegment)
        .next()
        .unwrap()
        .id
        .to_string()
}

/// Creates a run; asserts 202 with a Location; returns its id.
async fn create(a: &App, body: Value) -> String {
    let r = a.post("/api/v1/scenarios", Role::Planner, body).await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.headers["location"].to_str().unwrap(),
        format!("/api/v1/scenarios/{id}")
    );
    assert!(matches!(
        r.body["status"].as_str().unwrap(),
        "queued" | "running"
    ));
    assert!(r.body["twin_version"].is_u64());
    id
}

/// Polls a run until it is no longer queued or running.
async fn finish(a: &App, id: &str) -> Value {
    for _ in 0..6000 {
        let r = a
            .get(&format!("/api/v1/scenarios/{id}"), Role::Viewer)
            .await;
        assert_eq!(r.status.as_u16(), 200, "{}", r.text);
        let f = r.body["progress"]["fraction"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&f));
        if !matches!(r.body["status"].as_str().unwrap(), "queued" | "running") {
            return r.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {id} did not finish");
}

/// Asserts a 400 or 422 problem whose detail names `field`.
async fn bad(a: &App, body: Value, field: &str) {
    let r = a.post("/api/v1/scenarios", Role::Planner, body).await;
    assert!(
        matches!(r.status.as_u16(), 400 | 422),
        "{} {}",
        r.status,
        r.text
    );
    r.problem(r.status.as_u16());
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.contains(field), "{field} not in {detail}");
}

fn kpi<'a>(run: &'a Value, id: &str) -> &'a Value {
    run["result"]["kpis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .unwrap_or_else(|| panic!("no kpi {id} in {}", run["result"]["kpis"]))
}

#[tokio::test]
async fn a_traffic_closure_runs_to_a_comparison_and_a_map_and_is_deterministic() {
    let a = app().await;
    let road = a_road(&a);
    let body = json!({
        "name": "Close a road",
        "engine": "traffic",
        "seed": 3,
        "horizon_s": 900,
        "variant": {"closures": [{"road": road, "from_s": 0}]}
    });
    let id = create(&a, body.clone()).await;
    let run = finish(&a, &id).await;
    assert_eq!(run["status"], "done", "{run}");
    assert_eq!(run["progress"]["fraction"], 1.0);
    assert!(run["wall_s"].as_f64().unwrap() >= 0.0);
    assert!(run["finished_at"].is_string() && run["started_at"].is_string());
    let kpis = run["result"]["kpis"].as_array().unwrap();
    assert!(!kpis.is_empty());
    for k in kpis {
        assert!(k["baseline"].is_number() && k["variant"].is_number(), "{k}");
        assert!(matches!(
            k["verdict"].as_str().unwrap(),
            "better" | "worse" | "same"
        ));
    }
    assert!(
        kpis.iter().any(|k| k["baseline"] != k["variant"]),
        "closing a road changes something: {kpis:?}"
    );
    // a closure cannot make trips much faster
    let tt = kpi(&run, "avg_travel_time_s");
    assert!(
        tt["variant"].as_f64().unwrap() >= 0.95 * tt["baseline"].as_f64().unwrap(),
        "{tt}"
    );
    assert!(
        run["result"]["baseline"]["kpis"]["loaded_vehicles"]
            .as_u64()
            .unwrap()
            > 0
    );

    let m = a
        .get(&format!("/api/v1/scenarios/{id}/map"), Role::Viewer)
        .await;
    assert_eq!(m.status.as_u16(), 200, "{}", m.text);
    assert!(m.content_type().starts_with("application/geo+json"));
    let features = m.body["features"].as_array().unwrap();
    assert!(!features.is_empty());
    let closed = features
        .iter()
        .find(|f| f["properties"]["id"] == road.as_str())
        .expect("the closed road is on the map");
    assert_eq!(closed["properties"]["metric"], "mean_speed_kmh");
    assert_eq!(closed["geometry"]["type"], "LineString");

    // the same request on the same twin version gives the same result
    let again = finish(&a, &create(&a, body).await).await;
    assert_eq!(again["twin_version"], run["twin_version"]);
    assert_eq!(again["result"], run["result"]);

    // the list has both, newest first, without results
    let l = a.get("/api/v1/scenarios", Role::Viewer).await;
    let runs = l.body["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[1]["id"], id.as_str());
    assert!(runs[0].get("result").is_none());

    // deleting a finished run removes it
    let t = a.token(Role::Planner);
    let d = a
        .req(
            Method::DELETE,
            &format!("/api/v1/scenarios/{id}"),
            Some(&t),
            None,
        )
        .await;
    assert_eq!(d.status.as_u16(), 204, "{}", d.text);
    a.get(&format!("/api/v1/scenarios/{id}"), Role::Viewer)
        .await
        .problem(404);
}

#[tokio::test]
async fn more_demand_drives_more_kilometres() {
    let a = app().await;
    let id = create(
        &a,
        json!({"name": "Busier", "engine": "traffic", "horizon_s": 600,
               "variant": {"demand_scale": 1.5}}),
    )
    .await;
    let run = finish(&a, &id).await;
    assert_eq!(run["status"], "done", "{run}");
    let vkt = kpi(&run, "vkt_km");
    assert!(
        vkt["variant"].as_f64().unwrap() > vkt["baseline"].as_f64().unwrap(),
        "{vkt}"
    );
    assert_eq!(vkt["better"], "lower");
    assert_eq!(vkt["verdict"], "worse");
}

#[tokio::test]
async fn only_planners_and_admins_run_and_bad_requests_are_problems() {
    let a = app().await;
    let ok = json!({"name": "x", "engine": "traffic", "horizon_s": 60});
    a.post("/api/v1/scenarios", Role::Viewer, ok.clone())
        .await
        .problem(403);
    a.post("/api/v1/scenarios", Role::Operator, ok.clone())
        .await
        .problem(403);
    a.req(Method::POST, "/api/v1/scenarios", None, Some(ok.clone()))
        .await
        .problem(401);
    a.req(Method::GET, "/api/v1/scenarios", None, None)
        .await
        .problem(401);
    bad(
        &a,
        json!({"name": "x", "engine": "traffic",
               "variant": {"closures": [{"road": "no-such-road"}]}}),
        "variant.closures[0].road",
    )
    .await;
    bad(&a, json!({"name": "x", "engine": "weather"}), "engine").await;
    bad(&a, json!({"name": "", "engine": "traffic"}), "name").await;
    bad(
        &a,
        json!({"name": "x", "engine": "traffic", "horizon_s": 1_000_000}),
        "horizon_s",
    )
    .await;
    bad(
        &a,
        json!({"name": "x", "engine": "traffic", "variant": {"demand_scale": -1}}),
        "variant.demand_scale",
    )
    .await;
    bad(&a,
        json!({"name": "x", "engine": "community", "variant": {"surge": [{"type": "volcano", "factor": 2}]}}),
        "variant.surge[0].type",
    )
    .await;
    bad(
        &a,
        json!({"name": "x", "engine": "energy", "variant": {"solar": 1}}),
        "variant",
    )
    .await;
    a.get("/api/v1/scenarios/scn-000099", Role::Viewer)
        .await
        .problem(404);
    a.get("/api/v1/scenarios/scn-000099/map", Role::Viewer)
        .await
        .problem(404);
    let t = a.token(Role::Planner);
    a.req(
        Method::DELETE,
        "/api/v1/scenarios/scn-000099",
        Some(&t),
        None,
    )
    .await
    .problem(404);
    // the admin may run
    let r = a.post("/api/v1/scenarios", Role::Admin, ok).await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.text);
}

#[tokio::test]
async fn runs_cancel_and_the_queue_is_bounded() {
    let a = app().await;
    // queued runs wait while the workers are held
    a.state.scenarios.pause().await;
    let long = json!({"name": "Long", "engine": "traffic", "horizon_s": 14_400,
                      "variant": {"demand_scale": 2.0}});
    let mut ids = Vec::new();
    for _ in 0..api::scenarios::MAX_ACTIVE {
        ids.push(create(&a, long.clone()).await);
    }
    // the map of a run that is not done is a conflict
    a.get(&format!("/api/v1/scenarios/{}/map", ids[0]), Role::Viewer)
        .await
        .problem(409);
    a.post("/api/v1/scenarios", Role::Planner, long.clone())
        .await
        .problem(429);
    let t = a.token(Role::Planner);
    let v = a.token(Role::Viewer);
    a.req(
        Method::DELETE,
        &format!("/api/v1/scenarios/{}", ids[1]),
        Some(&v),
        None,
    )
    .await
    .problem(403);
    for id in &ids {
        let d = a
            .req(
                Method::DELETE,
                &format!("/api/v1/scenarios/{id}"),
                Some(&t),
                None,
            )
            .await;
        assert_eq!(d.status.as_u16(), 204, "{}", d.text);
    }
    for id in &ids {
        let r = a
            .get(&format!("/api/v1/scenarios/{id}"), Role::Viewer)
            .await;
        assert_eq!(r.body["status"], "cancelled", "{}", r.text);
        assert!(r.body.get("result").is_none());
        a.get(&format!("/api/v1/scenarios/{id}/map"), Role::Viewer)
            .await
            .problem(409);
    }
    // room again
    a.state.scenarios.resume();
    let r = a
        .post(
            "/api/v1/scenarios",
            Role::Planner,
            json!({"name": "Short", "engine": "traffic", "horizon_s": 60}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 202, "{}", r.text);
    let run = finish(&a, r.body["id"].as_str().unwrap()).await;
    assert_eq!(run["status"], "done", "{run}");
}

#[tokio::test]
async fn a_community_surge_brings_more_reports() {
    let a = app().await;
    let id = create(
        &a,
        json!({"name": "Storm week", "engine": "community", "horizon_s": 259_200,
               "variant": {"surge": [{"type": "*", "factor": 3.0, "from_s": 0, "to_s": 172_800}],
                           "staff_delta": 1, "sla_factor": 1.0}}),
    )
    .await;
    let run = finish(&a, &id).await;
    assert_eq!(run["status"], "done", "{run}");
    let req = kpi(&run, "requests");
    assert!(
        req["variant"].as_f64().unwrap() > req["baseline"].as_f64().unwrap(),
        "{req}"
    );
    kpi(&run, "on_time_closure_rate");
    let m = a
        .get(&format!("/api/v1/scenarios/{id}/map"), Role::Viewer)
        .await;
    let features = m.body["features"].as_array().unwrap();
    assert_eq!(features.len(), a.communities().len());
    assert_eq!(features[0]["properties"]["metric"], "on_time_closure_rate");
}

#[tokio::test]
async fn rooftop_pv_yields_energy_on_the_feeders() {
    let a = app().await;
    let id = create(
        &a,
        json!({"name": "Solar roofs", "engine": "energy",
               "variant": {"pv_kwp_per_building": 5.0, "ev_chargers": 4,
                           "battery_kwh": 50, "demand_growth": 1.1}}),
    )
    .await;
    let run = finish(&a, &id).await;
    assert_eq!(run["status"], "done", "{run}");
    let pv = kpi(&run, "pv_yield_kwh");
    assert!(
        pv["variant"].as_f64().unwrap() > pv["baseline"].as_f64().unwrap(),
        "{pv}"
    );
    let load = kpi(&run, "load_kwh");
    assert!(
        load["variant"].as_f64().unwrap() > load["baseline"].as_f64().unwrap(),
        "growth and chargers add load: {load}"
    );
    // the twin's feeders, every one of them supplying buildings
    let feeders = run["result"]["baseline"]["feeders"].as_array().unwrap();
    assert_eq!(
        feeders.len(),
        a.snap().entity_count(EntityKind::Feeder),
        "{feeders:?}"
    );
    assert!(feeders.iter().all(|f| f["buildings"].as_u64().unwrap() > 0));
    assert_eq!(run["result"]["baseline"]["skipped_feeders"], json!([]));
    let m = a
        .get(&format!("/api/v1/scenarios/{id}/map"), Role::Viewer)
        .await;
    let features = m.body["features"].as_array().unwrap();
    assert!(!features.is_empty());
    assert_eq!(features[0]["properties"]["metric"], "max_loading_pct");
    assert_eq!(features[0]["geometry"]["type"], "Point");
}
