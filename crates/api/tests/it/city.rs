//! City, cells, map layers, sensors, observations and the traffic index.

use api::Role;
use domain::{EntityKind, SensorKind};
use serde_json::Value;

use crate::support::{MIN, T0, app, obs};

#[tokio::test]
async fn cells_come_as_hexagons_or_compact_rows_with_the_window_aggregates() {
    let mut a = app().await;
    let s = a.sensor_of(SensorKind::AirQuality);
    a.observe(&[obs(&s, "pm25", T0, 10.0), obs(&s, "pm25", T0 + 1_000, 30.0)])
        .await;
    let r = a.get("/api/v1/cells?res=9&metric=pm25", Role::Viewer).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.content_type(), "application/geo+json");
    let f = &r.body["features"][0];
    assert_eq!(f["geometry"]["type"], "Polygon");
    assert_eq!(f["geometry"]["coordinates"][0].as_array().unwrap().len(), 7);
    assert_eq!(f["properties"]["mean"], 20.0);
    assert_eq!(f["properties"]["count"], 2);
    assert_eq!(f["properties"]["min"], 10.0);
    assert_eq!(f["properties"]["max"], 30.0);
    assert_eq!(f["properties"]["last"], 30.0);
    let cell = f["properties"]["cell"].as_str().unwrap().to_owned();
    let c = a
        .get(
            "/api/v1/cells?res=9&metric=pm25&format=compact",
            Role::Viewer,
        )
        .await
        .body;
    assert_eq!(c["cells"][0][0], cell.as_str());
    assert_eq!(c["cells"][0][1], 20.0);
    assert_eq!(c["unit"], "ug/m3");
    // bbox outside the city: nothing
    let e = a
        .get("/api/v1/cells?res=9&metric=pm25&bbox=0,0,1,1", Role::Viewer)
        .await
        .body;
    assert!(e["features"].as_array().unwrap().is_empty());
    // a resolution without aggregates, a bad format
    a.get("/api/v1/cells?res=5&metric=pm25", Role::Viewer)
        .await
        .problem(400);
    a.get("/api/v1/cells?res=9&metric=pm25&format=csv", Role::Viewer)
        .await
        .problem(400);
    // the cell's history from the store's roll-ups
    let h = a
        .get(
            &format!(
                "/api/v1/cells/{cell}/history?metric=pm25&from={}&to={}",
                T0 - MIN,
                T0 + 2 * MIN
            ),
            Role::Viewer,
        )
        .await;
    assert_eq!(h.status, 200, "{}", h.text);
    assert_eq!(h.body["points"][0][1], 2.0);
    assert_eq!(h.body["points"][0][2], 20.0);
    a.get("/api/v1/cells/nothex/history?metric=pm25", Role::Viewer)
        .await
        .problem(400);
}

#[tokio::test]
async fn roads_carry_live_speed_flow_and_tti_from_their_detectors() {
    let mut a = app().await;
    let snap = a.snap();
    let det = snap
        .sensors()
        .find(|s| s.spec().kind == SensorKind::TrafficDetector && s.spec().observes.is_some())
        .unwrap();
    let (id, road) = (
        det.spec().id.to_string(),
        det.spec().observes.clone().unwrap(),
    );
    let limit = snap
        .entity(road.as_str())
        .unwrap()
        .road()
        .unwrap()
        .speed_limit_kmh;
    a.observe(&[
        obs(&id, "speed", T0, limit / 2.0),
        obs(&id, "flow", T0, 900.0),
    ])
    .await;
    let r = a.get("/api/v1/map/roads", Role::Viewer).await;
    assert_eq!(r.content_type(), "application/geo+json");
    let feats = r.body["features"].as_array().unwrap();
    assert_eq!(feats.len(), snap.entity_count(EntityKind::RoadSegment));
    let f = feats.iter().find(|f| f["id"] == road.as_str()).unwrap();
    assert_eq!(f["properties"]["speed_kmh"], limit / 2.0);
    assert_eq!(f["properties"]["flow_veh_h"], 900.0);
    assert_eq!(f["properties"]["tti"], 2.0);
    assert_eq!(f["geometry"]["type"], "LineString");
    let other = feats.iter().find(|f| f["id"] != road.as_str()).unwrap();
    assert_eq!(other["properties"]["speed_kmh"], Value::Null);
    let t = a.get("/api/v1/traffic/live", Role::Viewer).await.body;
    assert_eq!(t["segments"], 1);
    assert_eq!(t["tti"], 2.0);
    assert!(t["tpi"].as_f64().unwrap() >= 0.0);
    assert!(t["level"].is_string());
    let b = a.get("/api/v1/map/buildings", Role::Viewer).await.body;
    assert_eq!(
        b["features"].as_array().unwrap().len(),
        snap.entity_count(EntityKind::Building)
    );
    assert!(b["features"][0]["properties"]["use"].is_string());
    a.get("/api/v1/map/roads?bbox=2,1,1,2", Role::Viewer)
        .await
        .problem(400);
}

#[tokio::test]
async fn sensors_show_health_and_observations_come_raw_or_rolled_up() {
    let mut a = app().await;
    let s = a.sensor_of(SensorKind::AirQuality);
    for (i, v) in [1.0, 2.0, 3.0, 10.0].into_iter().enumerate() {
        a.observe(&[obs(&s, "pm25", T0 + i as i64 * 20_000, v)])
            .await;
    }
    let r = a
        .get("/api/v1/sensors?kind=air_quality", Role::Viewer)
        .await;
    let f = r.body["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == s.as_str())
        .unwrap()
        .clone();
    assert_eq!(f["properties"]["status"], "online");
    assert_eq!(f["properties"]["latest"]["pm25"], 10.0);
    assert!(
        f["properties"]["last_seen"]
            .as_str()
            .unwrap()
            .starts_with("2026-01-01T00:01:00")
    );
    let online = a
        .get("/api/v1/sensors?status=online", Role::Viewer)
        .await
        .body;
    assert_eq!(online["features"].as_array().unwrap().len(), 1);
    a.get("/api/v1/sensors?kind=toaster", Role::Viewer)
        .await
        .problem(400);
    assert_eq!(
        a.get(&format!("/api/v1/sensors/{s}"), Role::Viewer)
            .await
            .status,
        200
    );
    a.get("/api/v1/sensors/nope", Role::Viewer)
        .await
        .problem(404);

    let q = format!(
        "/api/v1/observations?sensor={s}&metric=pm25&from={}&to={}",
        T0,
        T0 + 5 * MIN
    );
    let raw = a.get(&q, Role::Viewer).await.body;
    assert_eq!(raw["points"].as_array().unwrap().len(), 4);
    assert_eq!(
        raw["points"][3],
        serde_json::json!([(T0 + 60_000) as f64, 10.0])
    );
    assert_eq!(raw["unit"], "ug/m3");
    let m = a
        .get(&format!("{q}&rollup=minute"), Role::Viewer)
        .await
        .body;
    // minute 0: 1, 2, 3 (mean 2); minute 1: 10
    assert_eq!(
        m["points"][0],
        serde_json::json!([T0 as f64, 3.0, 2.0, 1.0, 3.0])
    );
    assert_eq!(m["points"][1][2], 10.0);
    let h = a.get(&format!("{q}&rollup=hour"), Role::Viewer).await.body;
    assert_eq!(h["points"][0][1], 4.0);
    assert_eq!(h["points"][0][2], 4.0);
    a.get(&format!("{q}&rollup=day"), Role::Viewer)
        .await
        .problem(400);
    a.get("/api/v1/observations?sensor=nope&metric=pm25", Role::Viewer)
        .await
        .problem(404);
    a.get(
        &format!("/api/v1/observations?sensor={s}&metric=pm25&from=2&to=1"),
        Role::Viewer,
    )
    .await
    .problem(400);
    let city = a.get("/api/v1/city", Role::Viewer).await.body;
    assert_eq!(
        city["counts"]["Sensor"],
        a.snap().entity_count(EntityKind::Sensor)
    );
    assert!(
        city["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "pm25")
    );
}
