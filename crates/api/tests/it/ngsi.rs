//! NGSI-LD conformance cases of the subset: entity CRUD, q and geo-queries,
//! representations, batch upsert, temporal aggregation against hand-computed
//! values, subscriptions delivering to a local webhook and to MQTT.

use std::time::Duration;

use api::Role;
use axum::body::Body;
use axum::http::{Method, Request, header};
use domain::{EntityKind, SensorKind};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::support::{App, MIN, T0, app, obs};

fn bench(n: u32, seats: u32, lon: f64, lat: f64) -> Value {
    json!({
        "id": format!("urn:ngsi-ld:Bench:{n}"),
        "type": "Bench",
        "seats": {"type": "Property", "value": seats},
        "material": "wood",
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [lon, lat]}},
    })
}

async fn create(a: &App, e: Value) -> crate::support::Resp {
    a.post("/ngsi-ld/v1/entities", Role::Operator, e).await
}

/// Percent-encodes the characters a URI may not hold as they are.
fn enc(s: &str) -> String {
    s.replace('[', "%5B")
        .replace(']', "%5D")
        .replace('"', "%22")
        .replace('$', "%24")
        .replace(' ', "%20")
        .replace('<', "%3C")
        .replace('>', "%3E")
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn entity_crud_follows_the_spec() {
    let a = app().await;
    let r = create(&a, bench(1, 4, 24.931, 60.161)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.headers[header::LOCATION],
        "/ngsi-ld/v1/entities/urn:ngsi-ld:Bench:1"
    );
    create(&a, bench(1, 4, 24.931, 60.161)).await.problem(409);
    a.post(
        "/ngsi-ld/v1/entities",
        Role::Viewer,
        bench(2, 1, 24.0, 60.0),
    )
    .await
    .problem(403);
    create(&a, json!({"id": "bench one", "type": "Bench"}))
        .await
        .problem(400);

    let r = a
        .get("/ngsi-ld/v1/entities/urn:ngsi-ld:Bench:1", Role::Viewer)
        .await;
    assert_eq!(r.status, 200);
    assert!(
        r.headers[header::LINK]
            .to_str()
            .unwrap()
            .contains("ngsi-ld-core-context")
    );
    assert_eq!(r.body["seats"], json!({"type": "Property", "value": 4}));
    assert_eq!(
        r.body["material"],
        json!({"type": "Property", "value": "wood"})
    );
    let kv = a
        .get(
            "/ngsi-ld/v1/entities/urn:ngsi-ld:Bench:1?options=keyValues,sysAttrs",
            Role::Viewer,
        )
        .await
        .body;
    assert_eq!(kv["seats"], 4);
    assert_eq!(kv["location"]["type"], "Point");
    assert!(kv["createdAt"].is_string());
    let ld = a
        .call(
            Request::builder()
                .uri("/ngsi-ld/v1/entities/urn:ngsi-ld:Bench:1?attrs=seats")
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", a.token(Role::Viewer)),
                )
                .header(header::ACCEPT, "application/ld+json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(ld.content_type(), "application/ld+json");
    assert!(ld.body["@context"].is_string());
    assert!(ld.body.get("material").is_none());

    let t = a.token(Role::Operator);
    let path = "/ngsi-ld/v1/entities/urn:ngsi-ld:Bench:1/attrs";
    let r = a
        .req(
            Method::PATCH,
            path,
            Some(&t),
            Some(json!({"seats": {"type": "Property", "value": 6}})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = a
        .req(
            Method::PATCH,
            path,
            Some(&t),
            Some(json!({"seats": {"value": 8}, "colour": "red"})),
        )
        .await;
    assert_eq!(r.status, 207, "{}", r.text);
    assert_eq!(r.body["updated"], json!(["seats"]));
    assert_eq!(r.body["notUpdated"][0]["attributeName"], "colour");
    let r = a
        .req(Method::POST, path, Some(&t), Some(json!({"colour": "red"})))
        .await;
    assert_eq!(r.status, 204);
    let r = a
        .req(
            Method::POST,
            &format!("{path}?options=noOverwrite"),
            Some(&t),
            Some(json!({"colour": "blue"})),
        )
        .await;
    assert_eq!(r.status, 207);
    let e = a
        .get(
            "/ngsi-ld/v1/entities/urn:ngsi-ld:Bench:1?options=keyValues",
            Role::Viewer,
        )
        .await
        .body;
    assert_eq!(
        (e["seats"].clone(), e["colour"].clone()),
        (json!(8), json!("red"))
    );
    let r = a
        .req(
            Method::PATCH,
            &format!("{path}/colour"),
            Some(&t),
            Some(json!({"value": "green"})),
        )
        .await;
    assert_eq!(r.status, 204);
    let r = a
        .req(
            Method::PATCH,
            &format!("{path}/nope"),
            Some(&t),
            Some(json!({"value": 1})),
        )
        .await;
    r.problem(404);
    // merge-patch deletes with urn:ngsi-ld:null
    let r = a
        .req(
            Method::PATCH,
            "/ngsi-ld/v1/entities/urn:ngsi-ld:Bench:1",
            Some(&t),
            Some(json!({"material": "urn:ngsi-ld:null", "painted": true})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let e = a
        .get(
            "/ngsi-ld/v1/entities/urn:ngsi-ld:Bench:1?options=keyValues",
            Role::Viewer,
        )
        .await
        .body;
    assert!(e.get("material").is_none());
    assert_eq!(
        (e["colour"].clone(), e["painted"].clone()),
        (json!("green"), json!(true))
    );
    let r = a
        .req(Method::DELETE, &format!("{path}/colour"), Some(&t), None)
        .await;
    assert_eq!(r.status, 204);
    let r = a
        .req(
            Method::DELETE,
            "/ngsi-ld/v1/entities/urn:ngsi-ld:Bench:1",
            Some(&t),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    a.get("/ngsi-ld/v1/entities/urn:ngsi-ld:Bench:1", Role::Viewer)
        .await
        .problem(404);
    let r = a
        .req(
            Method::DELETE,
            "/ngsi-ld/v1/entities/urn:ngsi-ld:Bench:1",
            Some(&t),
            None,
        )
        .await;
    r.problem(404);
}

#[tokio::test]
async fn twin_entities_are_readable_with_live_attributes_and_read_only() {
    let mut a = app().await;
    let snap = a.snap();
    let det = snap
        .sensors()
        .find(|s| s.spec().kind == SensorKind::TrafficDetector && s.spec().observes.is_some())
        .unwrap();
    let (det_id, road) = (
        det.spec().id.to_string(),
        det.spec().observes.clone().unwrap(),
    );
    a.observe(&[
        obs(&det_id, "speed", T0, 18.0),
        obs(&det_id, "flow", T0, 640.0),
    ])
    .await;
    let urn = format!("urn:ngsi-ld:RoadSegment:{road}");
    let r = a
        .get(&format!("/ngsi-ld/v1/entities/{urn}"), Role::Viewer)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["type"], "RoadSegment");
    assert_eq!(r.body["averageVehicleSpeed"]["value"], 18.0);
    assert_eq!(r.body["averageVehicleSpeed"]["unitCode"], "KMH");
    assert_eq!(r.body["intensity"]["value"], 640.0);
    assert_eq!(r.body["location"]["type"], "GeoProperty");
    let limit = r.body["maximumAllowedSpeed"]["value"].as_f64().unwrap();
    assert!((r.body["travelTimeIndex"]["value"].as_f64().unwrap() - limit / 18.0).abs() < 1e-9);
    let s = a
        .get(
            &format!("/ngsi-ld/v1/entities/urn:ngsi-ld:Sensor:{det_id}"),
            Role::Viewer,
        )
        .await
        .body;
    assert_eq!(s["speed"]["value"], 18.0);
    assert_eq!(s["deviceState"]["value"], "online");
    assert_eq!(s["refObserved"]["object"], urn.as_str());

    let t = a.token(Role::Operator);
    let r = a
        .req(
            Method::PATCH,
            &format!("/ngsi-ld/v1/entities/{urn}/attrs"),
            Some(&t),
            Some(json!({"name": "x"})),
        )
        .await;
    let p = r.problem(422);
    assert_eq!(
        p["type"],
        "https://uri.etsi.org/ngsi-ld/errors/OperationNotSupported"
    );
    a.req(
        Method::DELETE,
        &format!("/ngsi-ld/v1/entities/{urn}"),
        Some(&t),
        None,
    )
    .await
    .problem(422);
    create(&a, json!({"id": urn, "type": "RoadSegment"}))
        .await
        .problem(409);
    let n = snap.entity_count(EntityKind::Building);
    let r = a
        .get(
            "/ngsi-ld/v1/entities?type=Building&count=true&limit=5",
            Role::Viewer,
        )
        .await;
    assert_eq!(r.headers["ngsild-results-count"], n.to_string().as_str());
    assert_eq!(r.body.as_array().unwrap().len(), 5);
    let all = ids(&r.body);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted);
    let page2 = a
        .get(
            "/ngsi-ld/v1/entities?type=Building&limit=5&offset=5",
            Role::Viewer,
        )
        .await
        .body;
    assert!(ids(&page2).iter().all(|x| !all.contains(x)));
    let r = a
        .get(
            "/ngsi-ld/v1/entities?type=Building&count=true&limit=0",
            Role::Viewer,
        )
        .await;
    assert_eq!(r.body, json!([]));
    assert_eq!(r.headers["ngsild-results-count"], n.to_string().as_str());
    a.get(
        "/ngsi-ld/v1/entities?type=Building&limit=5000",
        Role::Viewer,
    )
    .await
    .problem(403);
    a.get("/ngsi-ld/v1/entities", Role::Viewer)
        .await
        .problem(400);
    let types = a.get("/ngsi-ld/v1/types", Role::Viewer).await.body;
    assert!(
        types["typeList"]
            .as_array()
            .unwrap()
            .contains(&json!("RoadSegment"))
    );
}

#[tokio::test]
async fn q_and_geo_queries_select_the_right_entities() {
    let a = app().await;
    // three benches 0, ~110 m and ~1.1 km north of a point
    let (lon, lat) = (24.95, 60.17);
    for (n, seats, dlat) in [(1, 2, 0.0), (2, 4, 0.001), (3, 6, 0.01)] {
        assert_eq!(
            create(&a, bench(n, seats, lon, lat + dlat)).await.status,
            201
        );
    }
    let q = |s: &str| format!("/ngsi-ld/v1/entities?type=Bench&{}", enc(s));
    let got = |v: &Value| {
        let mut x = ids(v);
        x.sort();
        x
    };
    let b = |n: u32| format!("urn:ngsi-ld:Bench:{n}");
    assert_eq!(
        got(&a.get(&q("q=seats>3"), Role::Viewer).await.body),
        [b(2), b(3)]
    );
    assert_eq!(
        got(&a.get(&q("q=seats==2,6"), Role::Viewer).await.body),
        [b(1), b(3)]
    );
    assert_eq!(
        got(&a.get(&q("q=seats==3..5"), Role::Viewer).await.body),
        [b(2)]
    );
    assert_eq!(
        got(&a
            .get(&q("q=material==%22wood%22;seats<5"), Role::Viewer)
            .await
            .body),
        [b(1), b(2)]
    );
    a.get(&q("q=(seats>3"), Role::Viewer).await.problem(400);
    let near = q(&format!(
        "georel=near;maxDistance==200&geometry=Point&coordinates=[{lon},{lat}]"
    ));
    assert_eq!(got(&a.get(&near, Role::Viewer).await.body), [b(1), b(2)]);
    let far = q(&format!(
        "georel=near;minDistance==500&geometry=Point&coordinates=[{lon},{lat}]"
    ));
    assert_eq!(got(&a.get(&far, Role::Viewer).await.body), [b(3)]);
    let poly = format!(
        "[[[{},{}],[{},{}],[{},{}],[{},{}],[{},{}]]]",
        lon - 0.01,
        lat - 0.0005,
        lon + 0.01,
        lat - 0.0005,
        lon + 0.01,
        lat + 0.005,
        lon - 0.01,
        lat + 0.005,
        lon - 0.01,
        lat - 0.0005
    );
    let within = q(&format!(
        "georel=within&geometry=Polygon&coordinates={poly}"
    ));
    assert_eq!(got(&a.get(&within, Role::Viewer).await.body), [b(1), b(2)]);
    a.get(&q("georel=within&geometry=Polygon"), Role::Viewer)
        .await
        .problem(400);
    assert_eq!(
        got(&a
            .get("/ngsi-ld/v1/entities?idPattern=Bench:[12]$", Role::Viewer)
            .await
            .body),
        [b(1), b(2)]
    );
    assert_eq!(
        got(&a
            .get(
                &format!("/ngsi-ld/v1/entities?{}", enc("attrs=seats&q=seats>5")),
                Role::Viewer
            )
            .await
            .body),
        [b(3)]
    );
    // twin sensors inside a polygon around the whole small city
    let snap = a.snap();
    let bb = snap.bounds().unwrap();
    let ring = format!(
        "[[[{0},{1}],[{2},{1}],[{2},{3}],[{0},{3}],[{0},{1}]]]",
        bb.min().x - 0.01,
        bb.min().y - 0.01,
        bb.max().x + 0.01,
        bb.max().y + 0.01
    );
    let r = a
        .get(
            &format!("/ngsi-ld/v1/entities?type=Sensor&count=true&limit=1&georel=within&geometry=Polygon&coordinates={}", enc(&ring)),
            Role::Viewer,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.headers["ngsild-results-count"],
        snap.entity_count(EntityKind::Sensor).to_string().as_str()
    );
    // GeoJSON output
    let g = a
        .call(
            Request::builder()
                .uri("/ngsi-ld/v1/entities?type=Bench&options=keyValues")
                .header(
                    header::AUTHORIZATION,
                    format!("Bearer {}", a.token(Role::Viewer)),
                )
                .header(header::ACCEPT, "application/geo+json")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(g.content_type(), "application/geo+json");
    assert_eq!(g.body["type"], "FeatureCollection");
    assert_eq!(g.body["features"].as_array().unwrap().len(), 3);
    assert_eq!(g.body["features"][0]["geometry"]["type"], "Point");
    assert_eq!(g.body["features"][0]["properties"]["type"], "Bench");
}

#[tokio::test]
async fn batch_upsert_creates_updates_and_reports_failures() {
    let a = app().await;
    let p = "/ngsi-ld/v1/entityOperations/upsert";
    let r = a
        .post(
            p,
            Role::Operator,
            json!([bench(1, 1, 24.9, 60.1), bench(2, 2, 24.9, 60.1)]),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.body,
        json!(["urn:ngsi-ld:Bench:1", "urn:ngsi-ld:Bench:2"])
    );
    let r = a
        .post(p, Role::Operator, json!([bench(1, 9, 24.9, 60.1)]))
        .await;
    assert_eq!(r.status, 204);
    let e = a
        .get(
            "/ngsi-ld/v1/entities/urn:ngsi-ld:Bench:1?options=keyValues",
            Role::Viewer,
        )
        .await
        .body;
    assert_eq!(e["seats"], 9);
    // update keeps the attributes not given
    let r = a
        .post(
            &format!("{p}?options=update"),
            Role::Operator,
            json!([{"id": "urn:ngsi-ld:Bench:1", "type": "Bench", "colour": "red"}]),
        )
        .await;
    assert_eq!(r.status, 204);
    let e = a
        .get(
            "/ngsi-ld/v1/entities/urn:ngsi-ld:Bench:1?options=keyValues",
            Role::Viewer,
        )
        .await
        .body;
    assert_eq!(
        (e["seats"].clone(), e["colour"].clone()),
        (json!(9), json!("red"))
    );
    let road = a
        .snap()
        .entities_of(EntityKind::RoadSegment)
        .next()
        .unwrap()
        .id
        .to_string();
    let r = a
        .post(p, Role::Operator, json!([bench(3, 3, 24.9, 60.1), {"id": format!("urn:ngsi-ld:RoadSegment:{road}"), "type": "RoadSegment"}, {"id": "x"}]))
        .await;
    assert_eq!(r.status, 207, "{}", r.text);
    assert_eq!(r.body["success"], json!(["urn:ngsi-ld:Bench:3"]));
    assert_eq!(r.body["errors"].as_array().unwrap().len(), 2);
    a.post(p, Role::Operator, json!({"id": "not an array"}))
        .await
        .problem(400);
}

#[tokio::test]
async fn temporal_aggregation_matches_hand_computed_values() {
    let mut a = app().await;
    let s = a.sensor_of(SensorKind::AirQuality);
    // minute 0: 10, 10: 20, 50: 60 (first hour: avg 30, min 10, max 60, sum 90, n 3); 70: 5
    for (m, v) in [(0, 10.0), (10, 20.0), (50, 60.0), (70, 5.0)] {
        a.observe(&[obs(&s, "pm25", T0 + m * MIN, v)]).await;
    }
    let urn = format!("urn:ngsi-ld:Sensor:{s}");
    let iso = |ms: i64| api::util::iso(domain::Timestamp(ms));
    let base = format!(
        "/ngsi-ld/v1/temporal/entities/{urn}?attrs=pm25&timerel=between&timeAt={}&endTimeAt={}",
        iso(T0),
        iso(T0 + 120 * MIN)
    );
    let r = a
        .get(
            &format!("{base}&aggrMethods=avg,min,max,sum,totalCount&aggrPeriodDuration=PT1H"),
            Role::Viewer,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let p = &r.body["pm25"];
    assert_eq!(
        p["avg"],
        json!([
            [30.0, iso(T0), iso(T0 + 60 * MIN)],
            [5.0, iso(T0 + 60 * MIN), iso(T0 + 120 * MIN)]
        ])
    );
    assert_eq!(p["min"][0][0], 10.0);
    assert_eq!(p["max"][0][0], 60.0);
    assert_eq!(p["sum"][0][0], 90.0);
    assert_eq!(p["totalCount"][0][0], 3);
    // one period over the whole range
    let r = a
        .get(&format!("{base}&aggrMethods=avg,totalCount"), Role::Viewer)
        .await;
    assert_eq!(r.body["pm25"]["avg"][0][0], 23.75);
    assert_eq!(r.body["pm25"]["totalCount"][0][0], 4);
    // instances, lastN, temporalValues
    let r = a.get(&base, Role::Viewer).await;
    let inst = r.body["pm25"].as_array().unwrap();
    assert_eq!(inst.len(), 4);
    assert_eq!(inst[0]["value"], 10.0);
    assert_eq!(inst[0]["observedAt"], iso(T0));
    assert_eq!(inst[0]["unitCode"], "GQ");
    let r = a.get(&format!("{base}&lastN=2"), Role::Viewer).await;
    let v: Vec<f64> = r.body["pm25"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["value"].as_f64().unwrap())
        .collect();
    assert_eq!(v, [60.0, 5.0]);
    let r = a
        .get(&format!("{base}&options=temporalValues"), Role::Viewer)
        .await;
    assert_eq!(
        r.body["pm25"]["values"][3],
        json!([5.0, iso(T0 + 70 * MIN)])
    );
    let r = a
        .get(
            &format!(
                "/ngsi-ld/v1/temporal/entities/{urn}?attrs=pm25&timerel=before&timeAt={}",
                iso(T0 + 11 * MIN)
            ),
            Role::Viewer,
        )
        .await;
    assert_eq!(r.body["pm25"].as_array().unwrap().len(), 2);
    let r = a
        .get(&format!("/ngsi-ld/v1/temporal/entities?type=Sensor&id={urn}&attrs=pm25&timerel=after&timeAt={}", iso(T0 + 11 * MIN)), Role::Viewer)
        .await;
    assert_eq!(r.body[0]["pm25"].as_array().unwrap().len(), 2);
    // errors
    a.get(&format!("{base}&aggrMethods=median"), Role::Viewer)
        .await
        .problem(400);
    a.get(
        &format!("{base}&aggrMethods=avg&aggrPeriodDuration=P1M"),
        Role::Viewer,
    )
    .await
    .problem(400);
    a.get(
        &format!("/ngsi-ld/v1/temporal/entities/{urn}?timerel=between&timeAt=x"),
        Role::Viewer,
    )
    .await
    .problem(400);
    let road = a
        .snap()
        .entities_of(EntityKind::RoadSegment)
        .next()
        .unwrap()
        .id
        .to_string();
    a.get(
        &format!("/ngsi-ld/v1/temporal/entities/urn:ngsi-ld:RoadSegment:{road}"),
        Role::Viewer,
    )
    .await
    .problem(422);
}

/// An HTTP receiver on a free port; returns its URL and the bodies it gets.
async fn webhook() -> (String, mpsc::UnboundedReceiver<Value>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/notify",
        axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(v);
                "ok"
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await });
    (format!("http://{addr}/notify"), rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Value>) -> Option<Value> {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .ok()
        .flatten()
}

#[tokio::test]
async fn subscriptions_notify_a_webhook_of_sensor_updates_and_entity_writes() {
    let mut a = app().await;
    let (url, mut rx) = webhook().await;
    let s = a.sensor_of(SensorKind::AirQuality);
    let sub = json!({
        "type": "Subscription",
        "entities": [{"type": "Sensor"}],
        "watchedAttributes": ["pm25"],
        "q": "pm25>50",
        "notification": {"attributes": ["pm25"], "format": "keyValues", "endpoint": {"uri": url}},
    });
    a.post("/ngsi-ld/v1/subscriptions", Role::Viewer, sub.clone())
        .await
        .problem(403);
    let r = a
        .post("/ngsi-ld/v1/subscriptions", Role::Operator, sub)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let loc = r.headers[header::LOCATION].to_str().unwrap().to_owned();
    // below the q threshold: nothing
    a.observe(&[obs(&s, "pm25", T0, 20.0)]).await;
    // another metric: not watched
    a.observe(&[obs(&s, "no2", T0 + MIN, 99.0)]).await;
    a.observe(&[obs(&s, "pm25", T0 + 2 * MIN, 80.0)]).await;
    let n = next(&mut rx).await.expect("a notification");
    assert_eq!(n["type"], "Notification");
    assert_eq!(n["data"].as_array().unwrap().len(), 1);
    assert_eq!(n["data"][0]["id"], format!("urn:ngsi-ld:Sensor:{s}"));
    assert_eq!(n["data"][0]["pm25"], 80.0);
    assert!(n["data"][0].get("no2").is_none());
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err()
    );
    // delivery status
    tokio::time::sleep(Duration::from_millis(100)).await;
    let got = a.get(&loc, Role::Viewer).await.body;
    assert_eq!(got["notification"]["timesSent"], 1);
    assert_eq!(got["notification"]["status"], "ok");
    assert_eq!(got["status"], "active");
    // pause it
    let t = a.token(Role::Operator);
    let r = a
        .req(
            Method::PATCH,
            &loc,
            Some(&t),
            Some(json!({"isActive": false})),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    a.observe(&[obs(&s, "pm25", T0 + 3 * MIN, 90.0)]).await;
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err()
    );
    assert_eq!(a.get(&loc, Role::Viewer).await.body["status"], "paused");

    // entity writes, with throttling
    let (url2, mut rx2) = webhook().await;
    let r = a
        .post(
            "/ngsi-ld/v1/subscriptions",
            Role::Operator,
            json!({"id": "urn:ngsi-ld:Subscription:benches", "type": "Subscription",
                   "entities": [{"type": "Bench"}], "throttling": 60,
                   "notification": {"endpoint": {"uri": url2}}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    create(&a, bench(1, 4, 24.9, 60.1)).await;
    let n = next(&mut rx2).await.expect("a notification");
    assert_eq!(n["subscriptionId"], "urn:ngsi-ld:Subscription:benches");
    assert_eq!(
        n["data"][0]["seats"],
        json!({"type": "Property", "value": 4})
    );
    create(&a, bench(2, 4, 24.9, 60.1)).await;
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx2.recv())
            .await
            .is_err(),
        "throttled"
    );
    let list = a.get("/ngsi-ld/v1/subscriptions", Role::Viewer).await.body;
    assert_eq!(list.as_array().unwrap().len(), 2);
    let r = a.req(Method::DELETE, &loc, Some(&t), None).await;
    assert_eq!(r.status, 204);
    a.get(&loc, Role::Viewer).await.problem(404);
    a.post(
        "/ngsi-ld/v1/subscriptions",
        Role::Operator,
        json!({"type": "Subscription", "notification": {"endpoint": {"uri": "http://x/y"}}}),
    )
    .await
    .problem(400);
}

#[tokio::test]
async fn subscriptions_publish_to_mqtt() {
    let Ok(url) = std::env::var("MQTT_URL") else {
        eprintln!("SKIPPED: MQTT_URL not set (subscription delivery to a real broker)");
        return;
    };
    let hostport = url.trim_start_matches("mqtt://").trim_end_matches('/');
    let (host, port) = hostport
        .rsplit_once(':')
        .map(|(h, p)| (h.to_owned(), p.parse::<u16>().unwrap()))
        .unwrap_or((hostport.to_owned(), 1883));
    let mut a = app().await;
    let mut r = [0u8; 6];
    getrandom::fill(&mut r).unwrap();
    let topic = format!(
        "citybrain-test/{}/ngsi",
        r.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let mut opts =
        rumqttc::MqttOptions::new(format!("cb-test-{}", &topic[15..27]), host.clone(), port);
    opts.set_keep_alive(Duration::from_secs(10));
    let (client, mut el) = rumqttc::AsyncClient::new(opts, 16);
    client
        .subscribe(topic.clone(), rumqttc::QoS::AtLeastOnce)
        .await
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match el.poll().await {
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::Publish(p))) => {
                    let _ = tx.send(serde_json::from_slice::<Value>(&p.payload).unwrap());
                }
                Ok(rumqttc::Event::Incoming(rumqttc::Packet::SubAck(_))) => {
                    let _ = tx.send(json!("suback"));
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    });
    assert_eq!(next(&mut rx).await, Some(json!("suback")));
    let s = a.sensor_of(SensorKind::AirQuality);
    let sub = json!({
        "type": "Subscription",
        "entities": [{"type": "Sensor", "id": format!("urn:ngsi-ld:Sensor:{s}")}],
        "notification": {"endpoint": {"uri": format!("mqtt://{host}:{port}/{topic}")}},
    });
    let r = a
        .post("/ngsi-ld/v1/subscriptions", Role::Operator, sub)
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    a.observe(&[obs(&s, "pm25", T0, 33.0)]).await;
    let m = next(&mut rx).await.expect("an MQTT notification");
    assert_eq!(m["metadata"]["Content-Type"], "application/json");
    assert_eq!(m["body"]["type"], "Notification");
    assert_eq!(m["body"]["data"][0]["pm25"]["value"], 33.0);
}
