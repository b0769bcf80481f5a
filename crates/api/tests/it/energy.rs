//! The live feeder power flows: routes and the alarm path.

use api::Role;
use domain::{EntityKind, SensorKind};
use serde_json::Value;

use crate::support::{App, MIN, T0, app, obs};

/// The first feeder (id order) with metered buildings, its building count
/// and the meters on its buildings.
fn metered_feeder(a: &App) -> (String, usize, Vec<String>) {
    let snap = a.snap();
    let mut feeders: Vec<_> = snap
        .entities_of(EntityKind::Feeder)
        .map(|f| f.id.to_string())
        .collect();
    feeders.sort();
    for f in feeders {
        let buildings: Vec<String> = snap
            .entities_of(EntityKind::Building)
            .filter(|b| {
                b.building()
                    .and_then(|x| x.feeder.as_ref())
                    .is_some_and(|x| x.as_str() == f)
            })
            .map(|b| b.id.to_string())
            .collect();
        let meters: Vec<String> = snap
            .sensors()
            .filter(|s| s.spec().kind == SensorKind::EnergyMeter)
            .filter(|s| {
                s.spec()
                    .observes
                    .as_ref()
                    .is_some_and(|o| buildings.iter().any(|b| b == o.as_str()))
            })
            .map(|s| s.spec().id.to_string())
            .collect();
        if !meters.is_empty() {
            return (f, buildings.len(), meters);
        }
    }
    panic!("the small city has no metered feeder");
}

async fn feed(a: &mut App, meters: &[String], t: i64, kw: f64) {
    let batch: Vec<_> = meters.iter().map(|m| obs(m, "power", t, kw)).collect();
    a.observe(&batch).await;
}

fn find<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("feeder {id} not listed in {list}"))
}

#[tokio::test]
async fn metered_buildings_feed_a_live_power_flow_per_feeder() {
    let mut a = app().await;
    let (fid, buildings, meters) = metered_feeder(&a);
    let r = a.get("/api/v1/energy/feeders", Role::Viewer).await;
    assert_eq!(r.status, 200, "{}", r.text);
    feed(&mut a, &meters, T0, 5.0).await;
    let r = a.get("/api/v1/energy/feeders", Role::Viewer).await;
    let f = find(&r.body, &fid);
    assert_eq!(f["metered"], meters.len());
    assert_eq!(f["buildings"], buildings);
    let light = f["loading_pct"].as_f64().unwrap();
    assert!(light > 0.0, "{f}");
    let load = f["load_kw"].as_f64().unwrap();
    assert!((load - 5.0 * meters.len() as f64).abs() < 1e-6, "{f}");
    assert!(f["losses_kw"].as_f64().unwrap() > 0.0);
    assert!(f["v_min_pu"].as_f64().unwrap() < f["v_max_pu"].as_f64().unwrap());
    assert_eq!(f["violations"], 0);
    assert!(f["low_carbon"]["grid_co2_kg_per_h"].as_f64().unwrap() > 0.0);
    assert!(f["as_of"].is_string());

    // within the throttle interval nothing is solved again
    feed(&mut a, &meters, T0 + 30_000, 10.0).await;
    let r = a
        .get(&format!("/api/v1/energy/feeders/{fid}"), Role::Viewer)
        .await;
    assert_eq!(r.body["loading_pct"].as_f64().unwrap(), light);
    // a minute later the doubled load shows
    feed(&mut a, &meters, T0 + MIN + 30_000, 10.0).await;
    let r = a
        .get(&format!("/api/v1/energy/feeders/{fid}"), Role::Viewer)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.body["loading_pct"].as_f64().unwrap() > 1.9 * light,
        "{}",
        r.text
    );
    assert_eq!(r.body["buses"].as_array().unwrap().len(), buildings + 2);
    assert_eq!(r.body["lines"].as_array().unwrap().len(), buildings);
    assert_eq!(r.body["trafos"].as_array().unwrap().len(), 1);
    assert!(r.body["buses"][2]["vm_pu"].as_f64().unwrap() < 1.02);
    assert!(r.body["lines"][0]["loading_pct"].as_f64().is_some());

    let r = a
        .get("/api/v1/energy/feeders/feeder:nowhere", Role::Viewer)
        .await;
    r.problem(404);
    let r = a
        .get("/api/v1/energy/feeders?format=xml", Role::Viewer)
        .await;
    r.problem(400);
    for path in [
        "/api/v1/energy/feeders.geojson",
        "/api/v1/energy/feeders?format=geojson",
    ] {
        let r = a.get(path, Role::Viewer).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.content_type().starts_with("application/geo+json"));
        let features = r.body["features"].as_array().unwrap();
        let head = features.iter().find(|x| x["id"] == fid.as_str()).unwrap();
        assert_eq!(head["geometry"]["type"], "Point");
        let lines = features
            .iter()
            .filter(|x| x["properties"]["feeder"] == fid.as_str())
            .count();
        assert_eq!(lines, buildings);
    }
}

#[tokio::test]
async fn an_overloaded_feeder_raises_an_alarm_and_opens_an_incident() {
    let mut a = app().await;
    let (fid, _, meters) = metered_feeder(&a);
    let rated = a
        .snap()
        .entity(&fid)
        .and_then(|e| e.feeder().map(|f| f.rated_kva))
        .unwrap();
    let kw = 1.3 * rated / meters.len() as f64;
    for m in [0, 5, 10, 15, 16] {
        feed(&mut a, &meters, T0 + m * MIN, kw).await;
    }
    let r = a
        .get(&format!("/api/v1/energy/feeders/{fid}"), Role::Viewer)
        .await;
    assert!(
        r.body["loading_pct"].as_f64().unwrap() > 100.0,
        "{}",
        r.text
    );
    assert!(r.body["violations"].as_u64().unwrap() > 0);
    let r = a.get("/api/v1/alarms", Role::Viewer).await;
    let alarms = r.body.as_array().unwrap();
    let alarm = alarms
        .iter()
        .find(|x| x["rule_id"] == "11" && x["entity"] == fid.as_str())
        .unwrap_or_else(|| panic!("no overload alarm in {}", r.text));
    assert_eq!(alarm["metric"], "feeder_loading");
    assert_eq!(alarm["entity_type"], "Feeder");
    assert_eq!(alarm["severity"], "critical");
    assert!(alarm["value"].as_f64().unwrap() > 100.0);
    assert!(alarm["incident_id"].is_string(), "{alarm}");
    // the warning rule fired too, without an incident
    assert!(
        alarms
            .iter()
            .any(|x| x["rule_id"] == "12" && x["entity"] == fid.as_str())
    );

    // the rule is edited through the alarm-rule API like any other
    let rule = a.get("/api/v1/alarm-rules/11", Role::Viewer).await;
    assert_eq!(rule.body["scope"]["type"], "entity_kind");
    assert_eq!(rule.body["scope"]["kind"], "Feeder");

    // back to a light load: the alarm clears
    feed(&mut a, &meters, T0 + 20 * MIN, 1.0).await;
    let r = a.get("/api/v1/alarms", Role::Viewer).await;
    let alarm = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["rule_id"] == "11" && x["entity"] == fid.as_str())
        .unwrap();
    assert_eq!(alarm["state"], "cleared", "{alarm}");
}
