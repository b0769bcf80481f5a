//! A small city, a SQLite store in a temporary folder, the app and request
//! helpers.

use std::collections::BTreeMap;

use api::{AppState, AuthConfig, HttpConfig, LiveHub, OpsConfig, Role};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use domain::{EntityKind, Observation, SensorKind, Timestamp};
use serde_json::Value;
use store::{DbConfig, Store};
use tokio::sync::watch;
use tower::ServiceExt;
use twin::{Twin, TwinConfig, TwinSnapshot};

/// 2026-01-01T00:00:00Z, the start of the tests' data time.
pub const T0: i64 = 1_767_225_600_000;
pub const MIN: i64 = 60_000;

pub struct App {
    pub state: AppState,
    pub router: Router,
    pub twin: Twin,
    pub tx: watch::Sender<TwinSnapshot>,
    pub tokens: BTreeMap<Role, String>,
    pub store: Store,
    pub _dir: tempfile::TempDir,
}

pub struct Options {
    pub anonymous_read: bool,
    pub rate_limit_per_sec: u32,
    pub rate_limit_burst: u32,
    pub body_limit_bytes: usize,
    pub hub: usize,
    pub default_rules: bool,
    pub cors_origins: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            anonymous_read: false,
            rate_limit_per_sec: 0,
            rate_limit_burst: 0,
            body_limit_bytes: 1 << 20,
            hub: 64,
            default_rules: true,
            cors_origins: Vec::new(),
        }
    }
}

pub async fn app() -> App {
    app_with(Options::default()).await
}

pub async fn app_with(o: Options) -> App {
    let dir = tempfile::tempdir().unwrap();
    let store = DbConfig {
        data_dir: dir.path().to_owned(),
        ..DbConfig::default()
    }
    .build()
    .await
    .unwrap();
    let city = testkit::twin::small_city(7);
    let specs: Vec<domain::SensorSpec> = city.registry.sensors().cloned().collect();
    store.upsert_sensors(&specs).await.unwrap();
    let twin = Twin::new(city, TwinConfig::default()).unwrap();
    let (tx, rx) = watch::channel(twin.snapshot());
    let http = HttpConfig {
        rate_limit_per_sec: o.rate_limit_per_sec,
        rate_limit_burst: o.rate_limit_burst,
        body_limit_bytes: o.body_limit_bytes,
        cors_origins: o.cors_origins.clone(),
        ..HttpConfig::default()
    };
    let auth = AuthConfig {
        anonymous_read: o.anonymous_read,
        bootstrap_tokens_file: Some(dir.path().join("tokens.json")),
    };
    let tokens = api::bootstrap_tokens(&store, &auth).await.unwrap().unwrap();
    let ops = OpsConfig {
        default_rules: o.default_rules,
        ..OpsConfig::default()
    };
    let state = AppState::load(rx, store.clone(), LiveHub::new(o.hub), http, auth, &ops)
        .await
        .unwrap();
    let router = api::router(state.clone());
    App {
        state,
        router,
        twin,
        tx,
        tokens,
        store,
        _dir: dir,
    }
}

/// A response, decoded.
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts a problem-details body with this status.
    #[track_caller]
    pub fn problem(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.text);
        assert!(
            self.content_type().starts_with("application/problem+json"),
            "content type {} for {}",
            self.content_type(),
            self.text
        );
        assert_eq!(self.body["status"], status, "{}", self.text);
        assert!(self.body["type"].is_string() && self.body["title"].is_string());
        assert!(self.body["detail"].is_string());
        &self.body
    }
}

impl App {
    pub fn token(&self, r: Role) -> String {
        self.tokens[&r].clone()
    }

    pub async fn call(&self, req: Request<Body>) -> Resp {
        let resp = self.router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Resp {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn req(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => b
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(v.to_string()))
                .unwrap(),
            None => b.body(Body::empty()).unwrap(),
        };
        self.call(req).await
    }

    pub async fn get(&self, path: &str, role: Role) -> Resp {
        let t = self.token(role);
        self.req(Method::GET, path, Some(&t), None).await
    }

    pub async fn post(&self, path: &str, role: Role, body: Value) -> Resp {
        let t = self.token(role);
        self.req(Method::POST, path, Some(&t), Some(body)).await
    }

    /// Applies observations to the twin, publishes the snapshot and runs
    /// the operations centre and the notifier on them, as the server does.
    pub async fn observe(&mut self, obs: &[Observation]) {
        self.twin.apply_observations(obs);
        let snap = self.twin.snapshot();
        self.tx.send(snap.clone()).unwrap();
        let batch = store::Batch {
            observations: obs.to_vec(),
            ..store::Batch::default()
        };
        self.store.insert_batch(&batch).await.unwrap();
        self.state.ops.on_observations(obs, &snap).await;
        self.state.ngsi.on_observations(obs, &snap);
        let values = self.state.energy.on_snapshot(&snap).await;
        self.state
            .ops
            .on_entity_values(&values, snap.as_of(), &snap)
            .await;
    }

    /// A tick of the twin and the operations centre at data time `t`.
    pub async fn tick(&mut self, t: i64) {
        self.twin.apply(twin::Change::Tick(Timestamp(t))).unwrap();
        let snap = self.twin.snapshot();
        self.tx.send(snap.clone()).unwrap();
        self.state.ops.tick(Timestamp(t), &snap).await;
    }

    pub fn snap(&self) -> TwinSnapshot {
        self.twin.snapshot()
    }

    /// The first sensor of a kind (in id order).
    pub fn sensor_of(&self, kind: SensorKind) -> String {
        self.snap()
            .sensors()
            .find(|s| s.spec().kind == kind)
            .map(|s| s.spec().id.to_string())
            .unwrap()
    }

    /// The ids of the city's communities.
    pub fn communities(&self) -> Vec<String> {
        self.snap()
            .entities_of(EntityKind::Community)
            .map(|e| e.id.to_string())
            .collect()
    }
}

pub fn obs(sensor: &str, metric: &str, ts: i64, value: f64) -> Observation {
    testkit::twin::obs(sensor, metric, ts, value)
}
