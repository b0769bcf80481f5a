//! The OpenAPI document is generated from the route table and covers it.

use axum::http::Method;
use serde_json::Value;

use crate::support::app;

#[tokio::test]
async fn the_document_is_openapi_3_1_and_lists_every_route() {
    let a = app().await;
    let r = a.req(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(r.status, 200);
    let doc = r.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert_eq!(doc["info"]["title"], "CityBrain API");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let paths = doc["paths"].as_object().unwrap();
    let expect = [
        ("get", "/health"),
        ("get", "/api/v1/city"),
        ("get", "/api/v1/cells"),
        ("get", "/api/v1/cells/{cell}/history"),
        ("get", "/api/v1/map/roads"),
        ("get", "/api/v1/map/buildings"),
        ("get", "/api/v1/sensors"),
        ("get", "/api/v1/observations"),
        ("get", "/api/v1/alarms"),
        ("post", "/api/v1/alarms/{id}/ack"),
        ("post", "/api/v1/alarm-rules"),
        ("put", "/api/v1/alarm-rules/{id}"),
        ("delete", "/api/v1/alarm-rules/{id}"),
        ("get", "/api/v1/incidents"),
        ("post", "/api/v1/incidents"),
        ("post", "/api/v1/incidents/{id}/transition"),
        ("get", "/api/v1/incidents/metrics"),
        ("get", "/api/v1/indicators"),
        ("get", "/api/v1/indicators/history"),
        ("put", "/api/v1/indicators/inputs"),
        ("get", "/api/v1/traffic/live"),
        ("get", "/api/v1/energy/feeders"),
        ("get", "/api/v1/energy/feeders.geojson"),
        ("get", "/api/v1/energy/feeders/{id}"),
        ("get", "/api/v1/dead-letters"),
        ("post", "/api/v1/tokens"),
        ("delete", "/api/v1/tokens/{id}"),
        ("post", "/api/v1/mqtt/auth"),
        ("get", "/api/v1/stream"),
        ("get", "/api/v1/stream/sse"),
        ("get", "/ngsi-ld/v1/entities"),
        ("post", "/ngsi-ld/v1/entities"),
        ("patch", "/ngsi-ld/v1/entities/{id}/attrs"),
        ("post", "/ngsi-ld/v1/entityOperations/upsert"),
        ("get", "/ngsi-ld/v1/temporal/entities"),
        ("post", "/ngsi-ld/v1/subscriptions"),
        ("patch", "/ngsi-ld/v1/subscriptions/{id}"),
    ];
    for (m, p) in expect {
        assert!(
            paths.get(p).and_then(|x| x.get(m)).is_some(),
            "{m} {p} missing"
        );
    }
    // every operation documents its responses and schemas resolve
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for (p, item) in paths {
        for (m, op) in item.as_object().unwrap() {
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{m} {p}"
            );
        }
    }
    let text = doc.to_string();
    for r in text.split("\"#/components/schemas/").skip(1) {
        let name = r.split('"').next().unwrap();
        assert!(schemas.contains_key(name), "dangling $ref {name}");
    }
    assert!(schemas.contains_key("Problem"));
    let page = a.req(Method::GET, "/docs", None, None).await;
    assert!(page.text.contains("openapi.json"));
    assert!(
        !page.text.contains("http://") && !page.text.contains("https://"),
        "no external assets"
    );
    let _: &Value = &doc;
}
