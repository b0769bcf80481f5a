//! Registry, gateway credentials and twin entities.

use domain::{EntityId, EntityKind, GatewaySpec, LatLon, Registry, SensorKind};
use store::{EntityRecord, GatewayRecord};

use crate::support::*;

fn gw(id: &str, name: &str, password: Option<&str>) -> GatewayRecord {
    GatewayRecord {
        spec: GatewaySpec {
            id: gid(id),
            name: name.into(),
        },
        password: password.map(str::to_owned),
    }
}

#[tokio::test]
async fn the_registry_round_trips_and_upserts_replace() {
    each_backend(|store| async move {
        assert_eq!(store.load_registry().await.unwrap(), Registry::default());
        store
            .upsert_gateways(&[gw("gw1", "North depot", None), gw("gw2", "Harbour", None)])
            .await
            .unwrap();
        let mut s1 = sensor("s1", "gw1", SensorKind::TrafficDetector, 0.0);
        s1.observes = Some(EntityId::new("road-17").unwrap());
        let a1 = sensor("a1", "gw2", SensorKind::AirQuality, 0.05);
        // gw3 is not registered: it is created, named after its id
        let w1 = sensor("w1", "gw3", SensorKind::WaterLevel, -0.1);
        assert_eq!(
            store
                .upsert_sensors(&[s1.clone(), a1.clone(), w1.clone()])
                .await
                .unwrap(),
            3
        );
        let want = Registry::new(
            [
                GatewaySpec {
                    id: gid("gw1"),
                    name: "North depot".into(),
                },
                GatewaySpec {
                    id: gid("gw2"),
                    name: "Harbour".into(),
                },
            ],
            [s1.clone(), a1.clone(), w1.clone()],
        );
        let got = store.load_registry().await.unwrap();
        assert_eq!(got, want);
        assert_eq!(got.gateway("gw3").unwrap().name, "gw3");

        // re-registering moves a sensor and renames a gateway; the last spec of an id wins
        let mut moved = a1.clone();
        moved.gateway = gid("gw1");
        moved.location = LatLon {
            lat: 60.2,
            lon: 25.0,
        };
        moved.metrics = vec![metric("pm25"), metric("no2")];
        let mut first = moved.clone();
        first.kind = SensorKind::Other;
        store.upsert_sensors(&[first, moved.clone()]).await.unwrap();
        store
            .upsert_gateways(&[gw("gw2", "Harbour west", None)])
            .await
            .unwrap();
        let got = store.load_registry().await.unwrap();
        assert_eq!(got.sensor("a1"), Some(&moved));
        assert_eq!(got.gateway("gw2").unwrap().name, "Harbour west");
        assert_eq!(got.sensors_of(&gid("gw1")).count(), 2);
        assert_eq!(got.sensor_count(), 3);
    })
    .await;
}

#[tokio::test]
async fn gateway_passwords_are_hashed_and_verified() {
    each_backend(|store| async move {
        store
            .upsert_gateways(&[gw("gw1", "a", Some("s3cret-1")), gw("gw2", "b", None)])
            .await
            .unwrap();
        assert!(store.verify_gateway("gw1", "s3cret-1").await.unwrap());
        assert!(!store.verify_gateway("gw1", "s3cret-2").await.unwrap());
        assert!(!store.verify_gateway("gw1", "").await.unwrap());
        // no credentials, unknown gateway: never
        assert!(!store.verify_gateway("gw2", "").await.unwrap());
        assert!(!store.verify_gateway("nobody", "s3cret-1").await.unwrap());
        // renaming without a password keeps it; a new password replaces it
        store
            .upsert_gateways(&[gw("gw1", "renamed", None)])
            .await
            .unwrap();
        assert!(store.verify_gateway("gw1", "s3cret-1").await.unwrap());
        store
            .upsert_gateways(&[gw("gw1", "renamed", Some("new"))])
            .await
            .unwrap();
        assert!(!store.verify_gateway("gw1", "s3cret-1").await.unwrap());
        assert!(store.verify_gateway("gw1", "new").await.unwrap());
        // the password never appears in Debug output
        assert!(!format!("{:?}", gw("gw1", "x", Some("hunter2"))).contains("hunter2"));
    })
    .await;
}

#[tokio::test]
async fn the_twin_entities_round_trip_and_upsert() {
    each_backend(|store| async move {
        let road = EntityRecord {
            id: EntityId::new("road-1").unwrap(),
            kind: EntityKind::RoadSegment,
            name: "Mannerheimintie".into(),
            geometry: r#"{"type":"LineString","coordinates":[[24.94,60.17],[24.95,60.18]]}"#.into(),
            cell: Some(u64::from_str_radix("891126d3317ffff", 16).unwrap()),
            community: Some(EntityId::new("district-kamppi").unwrap()),
            attrs: serde_json::json!({"lanes": 2, "maxspeed_kmh": 40.0, "oneway": false, "name:sv": "Mannerheimvägen"}),
        };
        let district = EntityRecord {
            id: EntityId::new("district-kamppi").unwrap(),
            kind: EntityKind::Community,
            name: String::new(),
            geometry: r#"{"type":"Polygon","coordinates":[[[24.92,60.16],[24.94,60.16],[24.94,60.17],[24.92,60.16]]]}"#.into(),
            cell: None,
            community: None,
            attrs: serde_json::json!({}),
        };
        assert_eq!(store.upsert_entities(&[road.clone(), district.clone()]).await.unwrap(), 2);
        assert_eq!(store.entities().await.unwrap(), vec![district.clone(), road.clone()]);

        let mut wider = road.clone();
        wider.attrs = serde_json::json!({"lanes": 3, "nested": {"a": [1, 2]}});
        wider.name = "Mannerheimintie north".into();
        store.upsert_entities(&[wider.clone()]).await.unwrap();
        assert_eq!(store.entities().await.unwrap(), vec![district, wider]);

        let mut bad = road.clone();
        bad.geometry = "not json".into();
        assert!(matches!(
            store.upsert_entities(&[bad]).await,
            Err(store::Error::InvalidEntity { .. })
        ));
    })
    .await;
}

#[tokio::test]
async fn entity_upserts_are_chunked_within_bind_limits() {
    // 5,000 entities at 7 columns exceed SQLite's 32,766 bound values in one statement
    each_backend_with(
        |c| c.batch_size = 100_000,
        |store| async move {
            let many: Vec<EntityRecord> = (0..5000)
                .map(|i| EntityRecord {
                    id: EntityId::new(format!("b-{i:05}")).unwrap(),
                    kind: EntityKind::Building,
                    name: format!("building {i}"),
                    geometry: format!(
                        r#"{{"type":"Point","coordinates":[24.9,{}]}}"#,
                        60.0 + f64::from(i) * 1e-5
                    ),
                    cell: None,
                    community: None,
                    attrs: serde_json::json!({"floors": i % 8}),
                })
                .collect();
            assert_eq!(store.upsert_entities(&many).await.unwrap(), 5000);
            let back = store.entities().await.unwrap();
            assert_eq!(back, many);
        },
    )
    .await;
}
