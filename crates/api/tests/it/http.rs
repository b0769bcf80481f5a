//! The request pipeline: authentication (401 vs 403), anonymous reads, rate
//! limiting, body limit, problem details for every error, audit log.

use api::Role;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

use crate::support::{Options, app, app_with};

#[tokio::test]
async fn reads_need_a_token_unless_anonymous_read_is_on() {
    let a = app().await;
    let r = a.req(Method::GET, "/api/v1/city", None, None).await;
    r.problem(401);
    assert_eq!(
        r.headers.get(header::WWW_AUTHENTICATE).unwrap(),
        "Bearer realm=\"citybrain\""
    );
    let r = a
        .req(
            Method::GET,
            "/ngsi-ld/v1/entities?type=Building",
            None,
            None,
        )
        .await;
    r.problem(401);
    // a token of any role reads
    for role in [Role::Viewer, Role::Operator, Role::Planner, Role::Admin] {
        assert_eq!(a.get("/api/v1/city", role).await.status, 200);
    }
    // health, readiness, metrics, docs need none
    for p in ["/health", "/metrics", "/openapi.json", "/docs"] {
        let r = a.req(Method::GET, p, None, None).await;
        assert_eq!(r.status, 200, "{p}");
    }
    let open = app_with(Options {
        anonymous_read: true,
        ..Options::default()
    })
    .await;
    let r = open.req(Method::GET, "/api/v1/city", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["name"], open.snap().name());
    // writes still need a token
    let r = open
        .req(
            Method::POST,
            "/api/v1/incidents",
            None,
            Some(json!({"type": "pothole", "title": "x", "priority": "P3"})),
        )
        .await;
    r.problem(401);
}

#[tokio::test]
async fn bad_tokens_are_401_and_missing_rights_are_403() {
    let a = app().await;
    for auth in [
        "Bearer nonsense",
        "Bearer cb_0011223344556677_00112233445566778899aabbccddeeff0011223344556677",
        "Basic dXNlcjpwdw==",
        "Bearer",
    ] {
        let req = Request::builder()
            .uri("/api/v1/city")
            .header(header::AUTHORIZATION, auth)
            .body(Body::empty())
            .unwrap();
        a.call(req).await.problem(401);
    }
    // a viewer may not write
    let r = a
        .post(
            "/api/v1/incidents",
            Role::Viewer,
            json!({"type": "pothole", "title": "x", "priority": "P3"}),
        )
        .await;
    let p = r.problem(403);
    assert!(p["detail"].as_str().unwrap().contains("viewer"), "{p}");
    assert!(r.headers.get(header::WWW_AUTHENTICATE).is_none());
    // only admins list tokens
    a.get("/api/v1/tokens", Role::Operator).await.problem(403);
    assert_eq!(a.get("/api/v1/tokens", Role::Admin).await.status, 200);
}

#[tokio::test]
async fn the_stream_accepts_access_token_in_the_query_and_other_routes_do_not() {
    let a = app().await;
    let t = a.token(Role::Viewer);
    let r = a
        .req(
            Method::GET,
            &format!("/api/v1/city?access_token={t}"),
            None,
            None,
        )
        .await;
    r.problem(401);
    // the SSE stream authenticates through the query
    let req = Request::builder()
        .uri(format!("/api/v1/stream/sse?types=stats&access_token={t}"))
        .body(Body::empty())
        .unwrap();
    let resp = tower::ServiceExt::oneshot(a.router.clone(), req)
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let req = Request::builder()
        .uri("/api/v1/stream/sse?access_token=cb_bad")
        .body(Body::empty())
        .unwrap();
    a.call(req).await.problem(401);
}

#[tokio::test]
async fn callers_over_their_rate_get_429_with_retry_after() {
    let a = app_with(Options {
        rate_limit_per_sec: 1,
        rate_limit_burst: 3,
        ..Options::default()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(a.get("/api/v1/city", Role::Viewer).await.status, 200);
    }
    let r = a.get("/api/v1/city", Role::Viewer).await;
    r.problem(429);
    let wait: u64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    // another token has its own bucket
    assert_eq!(a.get("/api/v1/city", Role::Operator).await.status, 200);
}

#[tokio::test]
async fn every_error_is_a_problem_even_the_frameworks_own() {
    let a = app_with(Options {
        body_limit_bytes: 2_000,
        ..Options::default()
    })
    .await;
    let t = a.token(Role::Operator);
    // unknown route
    let p = a.get("/api/v1/nothing-here", Role::Viewer).await;
    p.problem(404);
    let p = a.req(Method::GET, "/no/such/page", None, None).await;
    p.problem(404);
    // wrong method
    let r = a.req(Method::DELETE, "/api/v1/city", Some(&t), None).await;
    r.problem(405);
    // bad query strings
    a.get("/api/v1/cells?res=abc&metric=pm25", Role::Viewer)
        .await
        .problem(400);
    a.get("/api/v1/cells?res=9&metric=pm25&bogus=1", Role::Viewer)
        .await
        .problem(400);
    a.get("/api/v1/cells?res=9&metric=pm25&bbox=1,2,3", Role::Viewer)
        .await
        .problem(400);
    // malformed JSON, wrong schema, wrong content type
    let bad_json = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/incidents")
        .header(header::AUTHORIZATION, format!("Bearer {t}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    a.call(bad_json).await.problem(400);
    a.post("/api/v1/incidents", Role::Operator, json!({"title": 5}))
        .await
        .problem(400);
    let text = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/incidents")
        .header(header::AUTHORIZATION, format!("Bearer {t}"))
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Body::from("hello"))
        .unwrap();
    a.call(text).await.problem(415);
    // too large
    let big = json!({"type": "pothole", "title": "x".repeat(5_000), "priority": "P3"});
    let r = a.post("/api/v1/incidents", Role::Operator, big).await;
    let p = r.problem(413);
    assert!(p["detail"].as_str().unwrap().contains("2000"), "{p}");
    // a bad path parameter
    a.get("/api/v1/indicators/history?limit=-1", Role::Viewer)
        .await
        .problem(400);
}

#[tokio::test]
async fn every_write_is_audited_refused_ones_included() {
    let a = app().await;
    let r = a
        .post(
            "/api/v1/incidents",
            Role::Operator,
            json!({"type": "pothole", "title": "Hole", "priority": "P3"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_owned();
    a.post(
        &format!("/api/v1/incidents/{id}/transition"),
        Role::Viewer,
        json!({"action": "dispatch", "team": "roads"}),
    )
    .await
    .problem(403);
    a.req(Method::POST, "/api/v1/incidents", None, Some(json!({})))
        .await
        .problem(401);
    // reads are not audited
    a.get("/api/v1/incidents", Role::Operator).await;
    let log = a.store.audit_log(10, 0).await.unwrap();
    let statuses: Vec<u16> = log.iter().map(|l| l.status).collect();
    assert_eq!(statuses, [401, 403, 201]);
    assert_eq!(log[2].entity.as_deref(), Some(id.as_str()));
    assert!(log[2].principal.starts_with("bootstrap-operator ("));
    assert_eq!(log[0].principal, "unauthenticated");
    assert!(log.iter().all(|l| l.request_id.is_some()));
    // the audit log reads back through the API
    let r = a.get("/api/v1/audit", Role::Admin).await;
    assert_eq!(r.body.as_array().unwrap().len(), 3);
    a.get("/api/v1/audit", Role::Viewer).await.problem(403);
}

#[tokio::test]
async fn responses_carry_a_request_id_and_keep_a_sane_one_from_the_client() {
    let a = app().await;
    let req = Request::builder()
        .uri("/health")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    let r = a.call(req).await;
    assert_eq!(r.headers["x-request-id"], "abc-123");
    let req = Request::builder()
        .uri("/health")
        .header("x-request-id", "bad id with spaces")
        .body(Body::empty())
        .unwrap();
    let r = a.call(req).await;
    assert_ne!(r.headers["x-request-id"], "bad id with spaces");
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn ready_reports_its_flags_as_plain_json() {
    let a = app().await;
    let r = a.req(Method::GET, "/ready", None, None).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.content_type(), "application/json");
    assert_eq!(r.body["ready"], false);
}

#[tokio::test]
async fn cors_is_off_unless_origins_are_configured() {
    let preflight = || {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/api/v1/city")
            .header(header::ORIGIN, "http://wall.example.org")
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
            .body(Body::empty())
            .unwrap()
    };
    let off = app().await;
    let r = off.call(preflight()).await;
    assert!(r.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    let on = app_with(Options {
        cors_origins: vec!["http://wall.example.org".into()],
        ..Options::default()
    })
    .await;
    let r = on.call(preflight()).await;
    assert_eq!(
        r.headers[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://wall.example.org"
    );
    let other = Request::builder()
        .method(Method::OPTIONS)
        .uri("/api/v1/city")
        .header(header::ORIGIN, "http://evil.example.org")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .body(Body::empty())
        .unwrap();
    let r = on.call(other).await;
    assert!(r.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}
