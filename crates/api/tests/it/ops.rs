//! Alarms, rules and incidents through the API: a threshold alarm opens an
//! incident; operators acknowledge and move it; viewers and operators of
//! other districts cannot; illegal transitions are 409.

use api::Role;
use axum::http::Method;
use domain::{EventChannel, EventReport, LatLon, Priority, SensorId, SensorKind, Timestamp};
use serde_json::{Value, json};

use crate::support::{App, MIN, T0, app, obs};

/// Raises the PM2.5 alarms of one air-quality sensor (90 µg/m³ for 10 min);
/// returns the sensor id.
async fn raise_pm25(a: &mut App) -> String {
    let s = a.sensor_of(SensorKind::AirQuality);
    for m in [0, 5, 10] {
        a.observe(&[obs(&s, "pm25", T0 + m * MIN, 90.0)]).await;
    }
    s
}

#[tokio::test]
async fn default_rules_are_installed_and_editable_with_validation() {
    let a = app().await;
    let r = a.get("/api/v1/alarm-rules", Role::Viewer).await;
    let rules = r.body.as_array().unwrap().clone();
    assert_eq!(rules.len(), 14);
    assert_eq!(rules[0]["metric"], "pm25");
    assert_eq!(rules[0]["condition"]["threshold"], 75.0);
    assert_eq!(rules[2]["incident"]["type"], "flooding");
    let new = json!({
        "name": "Noise above 70 dB for 1 min",
        "scope": {"type": "sensor_kind", "kind": "other"},
        "metric": "noise_db",
        "condition": {"type": "above", "threshold": 70.0, "hysteresis": 3.0},
        "for_ms": 60000, "severity": "info"
    });
    a.post("/api/v1/alarm-rules", Role::Viewer, new.clone())
        .await
        .problem(403);
    let r = a
        .post("/api/v1/alarm-rules", Role::Operator, new.clone())
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["id"], "15");
    assert_eq!(r.body["enabled"], true);
    // invalid rules are 422 with the rule's own error
    let mut bad = new.clone();
    bad["condition"]["hysteresis"] = json!(-1.0);
    let p = a.post("/api/v1/alarm-rules", Role::Operator, bad).await;
    assert!(
        p.problem(422)["detail"]
            .as_str()
            .unwrap()
            .contains("hysteresis")
    );
    let mut bad = new.clone();
    bad["scope"] = json!({"type": "cells", "res": 9});
    bad["condition"] = json!({"type": "stale"});
    a.post("/api/v1/alarm-rules", Role::Operator, bad)
        .await
        .problem(422);
    // replace, read, delete
    let t = a.token(Role::Operator);
    let mut changed = new.clone();
    changed["enabled"] = json!(false);
    let r = a
        .req(
            Method::PUT,
            "/api/v1/alarm-rules/15",
            Some(&t),
            Some(changed),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        a.get("/api/v1/alarm-rules/15", Role::Viewer).await.body["enabled"],
        false
    );
    let r = a
        .req(Method::PUT, "/api/v1/alarm-rules/99", Some(&t), Some(new))
        .await;
    r.problem(404);
    let r = a
        .req(Method::DELETE, "/api/v1/alarm-rules/15", Some(&t), None)
        .await;
    assert_eq!(r.status, 204);
    a.get("/api/v1/alarm-rules/15", Role::Viewer)
        .await
        .problem(404);
    // the rules survive a reload of the service
    let again = api::OpsService::load(
        a.store.clone(),
        a.state.live.clone(),
        &api::OpsConfig::default(),
    )
    .await
    .unwrap();
    assert_eq!(again.rules().await.len(), 14);
}

#[tokio::test]
async fn a_threshold_alarm_opens_one_incident_that_operators_handle() {
    let mut a = app().await;
    let mut rx = a.state.live.subscribe();
    // 9 minutes above the threshold raise nothing
    let s = a.sensor_of(SensorKind::AirQuality);
    a.observe(&[obs(&s, "pm25", T0, 90.0)]).await;
    a.observe(&[obs(&s, "pm25", T0 + 9 * MIN, 90.0)]).await;
    assert!(
        a.get("/api/v1/alarms", Role::Viewer)
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
    a.observe(&[obs(&s, "pm25", T0 + 10 * MIN, 95.0)]).await;
    let alarms = a.get("/api/v1/alarms?state=open", Role::Viewer).await.body;
    let alarms = alarms.as_array().unwrap();
    // the sensor rule and the res-9 cell rule both fire; they share one incident
    assert_eq!(alarms.len(), 2, "{alarms:?}");
    let sensor_alarm = alarms.iter().find(|x| x["sensor"] == s.as_str()).unwrap();
    assert_eq!(sensor_alarm["value"], 95.0);
    assert_eq!(sensor_alarm["threshold"], 75.0);
    assert_eq!(sensor_alarm["rule_id"], "1");
    assert_eq!(sensor_alarm["sensor_kind"], "air_quality");
    let inc_id = sensor_alarm["incident_id"].as_str().unwrap().to_owned();
    assert!(alarms.iter().all(|x| x["incident_id"] == inc_id.as_str()));
    let incs = a.get("/api/v1/incidents", Role::Viewer).await.body;
    assert_eq!(incs.as_array().unwrap().len(), 1);
    let inc = &incs[0];
    assert_eq!(inc["id"], inc_id.as_str());
    assert_eq!(inc["type"], "air_quality");
    assert_eq!(inc["priority"], "P2");
    assert_eq!(inc["team"], "environment");
    assert_eq!(inc["source"], "alarm");
    assert_eq!(inc["state"], "REPORTED");
    assert!(inc["community"].is_string());
    assert_eq!(inc["audit"][0]["actor"], "rule-engine");
    // both alarms and the incident went out on the live hub, nested
    let mut kinds = Vec::new();
    while let Ok(u) = rx.try_recv() {
        kinds.push(u.kind());
    }
    assert_eq!(kinds.iter().filter(|k| **k == "alarms").count(), 2);
    assert!(kinds.contains(&"incidents"));

    // acknowledge: viewer 403, operator 200 (idempotent), unknown 404
    let alarm_id = sensor_alarm["id"].as_str().unwrap();
    let ack = format!("/api/v1/alarms/{alarm_id}/ack");
    a.post(&ack, Role::Viewer, json!({})).await.problem(403);
    let r = a.post(&ack, Role::Operator, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "acknowledged");
    assert_eq!(r.body["acknowledged_by"], "bootstrap-operator");
    assert_eq!(a.post(&ack, Role::Operator, json!({})).await.status, 200);
    a.post("/api/v1/alarms/ALM-999999/ack", Role::Operator, json!({}))
        .await
        .problem(404);

    // the lifecycle: viewer 403, illegal 409 with the allowed actions, unknown 422
    let tr = format!("/api/v1/incidents/{inc_id}/transition");
    a.post(&tr, Role::Viewer, json!({"action": "dispatch"}))
        .await
        .problem(403);
    let p = a
        .post(&tr, Role::Operator, json!({"action": "close"}))
        .await;
    let detail = p.problem(409)["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.contains("allowed now: dispatch, escalate"),
        "{detail}"
    );
    a.post(&tr, Role::Operator, json!({"action": "fly"}))
        .await
        .problem(422);
    for (action, state) in [
        ("dispatch", "DISPATCHED"),
        ("start", "IN_PROGRESS"),
        ("resolve", "RESOLVED"),
        ("close", "CLOSED"),
    ] {
        let r = a
            .post(&tr, Role::Operator, json!({"action": action, "note": "ok"}))
            .await;
        assert_eq!(r.status, 200, "{action}: {}", r.text);
        assert_eq!(r.body["state"], state);
    }
    let inc = a
        .get(&format!("/api/v1/incidents/{inc_id}"), Role::Viewer)
        .await
        .body;
    let steps: Vec<&str> = inc["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["action"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["create", "dispatch", "start", "resolve", "close"]);
    assert_eq!(inc["allowed_actions"], json!(["reopen"]));

    // the value drops below threshold - hysteresis: the alarms clear
    a.observe(&[obs(&s, "pm25", T0 + 11 * MIN, 60.0)]).await;
    let open = a
        .get("/api/v1/alarms?state=active", Role::Viewer)
        .await
        .body;
    assert!(
        open.as_array()
            .unwrap()
            .iter()
            .all(|x| x["sensor"] != s.as_str()),
        "{open}"
    );
    let cleared = a
        .get("/api/v1/alarms?state=cleared", Role::Viewer)
        .await
        .body;
    assert!(!cleared.as_array().unwrap().is_empty());
}

#[tokio::test]
async fn an_operator_scoped_to_one_district_cannot_close_anothers_incident() {
    let a = app().await;
    let cs = a.communities();
    let (home, other) = (cs[0].clone(), cs[1].clone());
    let r = a
        .post(
            "/api/v1/tokens",
            Role::Admin,
            json!({"name": "ops-home", "role": "operator", "scope": {"communities": [home]}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let scoped = r.body["token"].as_str().unwrap().to_owned();
    let mk = |community: &str| json!({"type": "pothole", "title": "Hole", "priority": "P3", "community": community, "team": "roads"});
    let mine = a
        .post("/api/v1/incidents", Role::Admin, mk(&home))
        .await
        .body;
    let theirs = a
        .post("/api/v1/incidents", Role::Admin, mk(&other))
        .await
        .body;
    let go = |id: &Value, action: &str| {
        (
            format!(
                "/api/v1/incidents/{}/transition",
                id["id"].as_str().unwrap()
            ),
            json!({"action": action}),
        )
    };
    let (p, b) = go(&theirs, "dispatch");
    let r = a.req(Method::POST, &p, Some(&scoped), Some(b)).await;
    assert!(
        r.problem(403)["detail"]
            .as_str()
            .unwrap()
            .contains("scoped")
    );
    for action in ["dispatch", "start", "resolve", "close"] {
        let (p, b) = go(&mine, action);
        let r = a.req(Method::POST, &p, Some(&scoped), Some(b)).await;
        assert_eq!(r.status, 200, "{action}: {}", r.text);
    }
    // creating outside the scope is refused too
    let r = a
        .req(
            Method::POST,
            "/api/v1/incidents",
            Some(&scoped),
            Some(mk(&other)),
        )
        .await;
    r.problem(403);
    // unknown community, bad priority: 422
    let r = a
        .post(
            "/api/v1/incidents",
            Role::Operator,
            json!({"type": "x", "title": "y", "priority": "P9"}),
        )
        .await;
    r.problem(422);
    let r = a
        .post("/api/v1/incidents", Role::Operator, mk("no-such-district"))
        .await;
    r.problem(422);
    // list filters
    let l = a
        .get(&format!("/api/v1/incidents?community={home}"), Role::Viewer)
        .await
        .body;
    assert_eq!(l.as_array().unwrap().len(), 1);
    let l = a
        .get("/api/v1/incidents?state=open", Role::Viewer)
        .await
        .body;
    assert_eq!(l.as_array().unwrap().len(), 1);
    let l = a
        .get("/api/v1/incidents?state=CLOSED,REPORTED", Role::Viewer)
        .await
        .body;
    assert_eq!(l.as_array().unwrap().len(), 2);
    a.get("/api/v1/incidents?state=NAPPING", Role::Viewer)
        .await
        .problem(400);
    a.get("/api/v1/incidents/INC-424242", Role::Viewer)
        .await
        .problem(404);
}

#[tokio::test]
async fn citizen_reports_open_incidents_once_with_the_team_of_their_category() {
    let a = app().await;
    let snap = a.snap();
    let reporter = a.sensor_of(SensorKind::EventReporter);
    let p = snap.sensor(&reporter).unwrap().spec().location;
    let report = EventReport {
        id: "r-1".into(),
        reporter: SensorId::new(&reporter).unwrap(),
        channel: EventChannel::CitizenCall,
        category: "pothole".into(),
        priority: Priority::P2,
        ts: Timestamp(T0),
        location: Some(LatLon {
            lat: p.lat,
            lon: p.lon,
        }),
        text: "Deep hole near the tram stop".into(),
    };
    a.state
        .ops
        .on_reports(std::slice::from_ref(&report), &snap)
        .await;
    a.state.ops.on_reports(&[report], &snap).await;
    let l = a.get("/api/v1/incidents", Role::Viewer).await.body;
    let l = l.as_array().unwrap();
    assert_eq!(l.len(), 1);
    assert_eq!(l[0]["source"], "citizen");
    assert_eq!(l[0]["team"], "roads");
    assert_eq!(l[0]["priority"], "P2");
    assert_eq!(l[0]["report_id"], format!("{reporter}/r-1"));
    assert!(l[0]["title"].as_str().unwrap().contains("tram stop"));
    assert!(l[0]["community"].is_string());
    assert_eq!(l[0]["audit"][0]["actor"], "citizen");
}

#[tokio::test]
async fn silent_sensors_raise_stale_alarms_after_15_minutes() {
    let mut a = app().await;
    let s = a.sensor_of(SensorKind::WaterLevel);
    a.observe(&[obs(&s, "water_level", T0, 1.0)]).await;
    a.tick(T0 + 10 * MIN).await;
    assert!(
        a.get("/api/v1/alarms", Role::Viewer)
            .await
            .body
            .as_array()
            .unwrap()
            .is_empty()
    );
    a.tick(T0 + 16 * MIN).await;
    let l = a.get("/api/v1/alarms", Role::Viewer).await.body;
    let stale: Vec<&Value> = l
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["sensor"] == s.as_str())
        .collect();
    assert_eq!(stale.len(), 1, "{l}");
    assert_eq!(stale[0]["metric"], "last_seen");
    // sensors never heard since start are not judged
    assert_eq!(l.as_array().unwrap().len(), 1);
    let inc = a.get("/api/v1/incidents", Role::Viewer).await.body;
    assert_eq!(inc[0]["type"], "sensor_fault");
}

#[tokio::test]
async fn alarms_cleared_by_a_restart_are_marked_and_raised_again() {
    let mut a = app().await;
    raise_pm25(&mut a).await;
    let before = a.get("/api/v1/incidents", Role::Viewer).await.body;
    assert_eq!(before.as_array().unwrap().len(), 1);
    let reloaded = api::OpsService::load(
        a.store.clone(),
        a.state.live.clone(),
        &api::OpsConfig::default(),
    )
    .await
    .unwrap();
    let all = a.get("/api/v1/alarms", Role::Viewer).await.body;
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|x| x["state"] == "cleared"),
        "{all}"
    );
    // the condition still holds: raised again after the duration, joining the open incident
    let s = a.sensor_of(SensorKind::AirQuality);
    let snap = a.snap();
    for m in [20, 30] {
        let o = [obs(&s, "pm25", T0 + m * MIN, 90.0)];
        a.twin.apply_observations(&o);
        reloaded.on_observations(&o, &a.twin.snapshot()).await;
    }
    drop(snap);
    let active = a
        .get("/api/v1/alarms?state=active", Role::Viewer)
        .await
        .body;
    assert_eq!(active.as_array().unwrap().len(), 2, "{active}");
    let incs = a.get("/api/v1/incidents", Role::Viewer).await.body;
    assert_eq!(incs.as_array().unwrap().len(), 1);
}
