//! Tokens, bootstrap, dead letters and the broker's HTTP-auth callback.

use api::Role;
use axum::http::Method;
use domain::{DeadLetter, GatewayId, GatewaySpec, Timestamp};
use serde_json::json;

use crate::support::app;

#[tokio::test]
async fn bootstrap_writes_one_token_per_role_to_a_private_file_once() {
    let a = app().await;
    let path = a._dir.path().join("tokens.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for role in ["viewer", "operator", "planner", "admin"] {
        assert!(v[role].as_str().unwrap().starts_with("cb_"), "{role}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // only hashes are stored
    let rows = a.store.api_tokens().await.unwrap();
    assert_eq!(rows.len(), 4);
    assert!(
        rows.iter()
            .all(|r| r.hash.starts_with("$argon2id$") && !text.contains(&r.hash))
    );
    let again = api::bootstrap_tokens(&a.store, &a.state.auth)
        .await
        .unwrap();
    assert!(again.is_none());
    let loaded = api::load_tokens(&a.store).await.unwrap();
    assert_eq!(
        loaded.verify(&a.token(Role::Planner)).unwrap().role,
        Role::Planner
    );
}

#[tokio::test]
async fn admins_issue_and_revoke_tokens() {
    let a = app().await;
    let r = a
        .post(
            "/api/v1/tokens",
            Role::Admin,
            json!({"name": "dashboard wall", "role": "viewer"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let tok = r.body["token"].as_str().unwrap().to_owned();
    let id = r.body["id"].as_str().unwrap().to_owned();
    assert_eq!(api::token_id_of(&tok), Some(id.as_str()));
    assert_eq!(
        a.req(Method::GET, "/api/v1/city", Some(&tok), None)
            .await
            .status,
        200
    );
    let list = a.get("/api/v1/tokens", Role::Admin).await.body;
    assert_eq!(list.as_array().unwrap().len(), 5);
    assert!(!list.to_string().contains("argon2"));
    a.post(
        "/api/v1/tokens",
        Role::Operator,
        json!({"name": "x", "role": "admin"}),
    )
    .await
    .problem(403);
    a.post(
        "/api/v1/tokens",
        Role::Admin,
        json!({"name": "", "role": "viewer"}),
    )
    .await
    .problem(422);
    a.post(
        "/api/v1/tokens",
        Role::Admin,
        json!({"name": "x", "role": "viewer", "scope": {"cells": ["nothex"]}}),
    )
    .await
    .problem(422);
    a.post(
        "/api/v1/tokens",
        Role::Admin,
        json!({"name": "x", "role": "king"}),
    )
    .await
    .problem(400);
    let admin = a.token(Role::Admin);
    let r = a
        .req(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    a.req(Method::GET, "/api/v1/city", Some(&tok), None)
        .await
        .problem(401);
    a.req(
        Method::DELETE,
        "/api/v1/tokens/0000000000000000",
        Some(&admin),
        None,
    )
    .await
    .problem(404);
    // revocation is persisted
    assert!(
        api::load_tokens(&a.store)
            .await
            .unwrap()
            .verify(&tok)
            .is_err()
    );
}

#[tokio::test]
async fn dead_letters_are_for_operators_and_admins() {
    let a = app().await;
    a.store
        .insert_batch(&store::Batch {
            dead_letters: vec![DeadLetter::new(
                "city/gw1/obs",
                "native",
                b"{bad",
                "not JSON",
                Timestamp(5),
            )],
            ..store::Batch::default()
        })
        .await
        .unwrap();
    let r = a.get("/api/v1/dead-letters", Role::Operator).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["items"][0]["payload"], "{bad");
    assert_eq!(r.body["items"][0]["reason"], "not JSON");
    a.get("/api/v1/dead-letters", Role::Viewer)
        .await
        .problem(403);
    a.get("/api/v1/dead-letters", Role::Planner)
        .await
        .problem(403);
}

#[tokio::test]
async fn the_broker_callback_allows_only_a_gateway_with_its_password() {
    let a = app().await;
    a.store
        .upsert_gateways(&[store::GatewayRecord {
            spec: GatewaySpec {
                id: GatewayId::new("gw-test").unwrap(),
                name: "test".into(),
            },
            password: Some("s3cret".into()),
        }])
        .await
        .unwrap();
    let call = |u: &str, p: &str| {
        a.req(
            Method::POST,
            "/api/v1/mqtt/auth",
            None,
            Some(json!({"username": u, "password": p, "clientid": "c1"})),
        )
    };
    let r = call("gw-test", "s3cret").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"result": "allow", "is_superuser": false}));
    assert_eq!(call("gw-test", "wrong").await.body["result"], "deny");
    assert_eq!(call("nobody", "s3cret").await.body["result"], "deny");
    a.req(
        Method::POST,
        "/api/v1/mqtt/auth",
        None,
        Some(json!({"user": 1})),
    )
    .await
    .problem(400);
    // the callback is not audited
    assert!(a.store.audit_log(10, 0).await.unwrap().is_empty());
}
