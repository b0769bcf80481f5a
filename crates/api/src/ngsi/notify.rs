//! [`NgsiNotifier`]: the subscriptions in force, matched against live sensor
//! updates and entity writes, and delivered by a background task to HTTP
//! webhooks and MQTT brokers.
//!
//! Matching happens on the caller's task and is skipped entirely when there
//! is no subscription. Deliveries go through a bounded queue (a full queue
//! drops the notification and counts it failed), one HTTP client with a 5 s
//! timeout, and one MQTT connection per broker kept open (QoS 1; a
//! notification is counted sent once queued on the connection). Throttled
//! notifications are dropped. Delivery counters live in memory and restart
//! from zero with the process.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, Instant};

use domain::{EntityId, EntityKind, Observation, SensorKind, Timestamp};
use serde_json::{Value, json};
use store::{Store, SubscriptionRecord};
use tokio::sync::mpsc;
use twin::TwinSnapshot;

use super::geoquery::GeoQuery;
use super::model::{
    Entity, LiveCtx, entity_id, entity_type, geometry_of, key_values, project, twin_entity,
    twin_urn,
};
use super::query;
use super::subscriptions::{Subscription, Target, notification, parse_target};
use crate::ApiError;
use crate::util::{iso, now};

/// Deliveries waiting at most.
const QUEUE: usize = 1024;
/// HTTP delivery timeout.
const HTTP_TIMEOUT: Duration = Duration::from_secs(5);
/// Attributes a detector update changes on the road segment it observes.
const ROAD_LIVE_ATTRS: &[&str] = &[
    "averageVehicleSpeed",
    "intensity",
    "occupancy",
    "travelTimeIndex",
];

struct Compiled {
    selectors: Vec<(String, Option<String>, Option<regex::Regex>)>,
    q: Option<query::Query>,
    geo: Option<GeoQuery>,
}

struct Active {
    sub: Subscription,
    created: Timestamp,
    m: Compiled,
    last_sent: Option<Instant>,
    times_sent: u64,
    last_notification: Option<Timestamp>,
    last_success: Option<Timestamp>,
    last_failure: Option<Timestamp>,
    failed: Option<bool>,
}

impl Active {
    fn new(sub: Subscription, created: Timestamp) -> Result<Self, ApiError> {
        let selectors = sub
            .entities
            .iter()
            .map(|e| {
                Ok((
                    e.kind.clone(),
                    e.id.clone(),
                    e.id_pattern
                        .as_deref()
                        .map(super::entities::compile_pattern)
                        .transpose()?,
                ))
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let q = sub
            .q
            .as_deref()
            .map(|q| query::parse(q).map_err(|e| ApiError::BadRequestData(e.to_string())))
            .transpose()?;
        let geo = sub
            .geo_q
            .as_ref()
            .map(super::subscriptions::GeoQ::parse)
            .transpose()?;
        Ok(Self {
            sub,
            created,
            m: Compiled { selectors, q, geo },
            last_sent: None,
            times_sent: 0,
            last_notification: None,
            last_success: None,
            last_failure: None,
            failed: None,
        })
    }

    fn live(&self, at: Timestamp) -> bool {
        self.sub.is_active && !self.sub.is_expired(at)
    }

    /// Whether the selectors name an entity of this type and id.
    fn selects(&self, ty: &str, id: &str) -> bool {
        self.m.selectors.is_empty()
            || self.m.selectors.iter().any(|(t, i, p)| {
                t == ty
                    && i.as_deref().is_none_or(|i| i == id)
                    && p.as_ref().is_none_or(|p| p.is_match(id))
            })
    }

    fn selects_type(&self, ty: &str) -> bool {
        self.m.selectors.is_empty() || self.m.selectors.iter().any(|(t, _, _)| t == ty)
    }

    fn watches(&self, changed: &[&str]) -> bool {
        self.sub.watched_attributes.is_empty()
            || self
                .sub
                .watched_attributes
                .iter()
                .any(|w| changed.contains(&w.as_str()))
    }

    fn accepts(&self, e: &Entity) -> bool {
        self.m.q.as_ref().is_none_or(|q| q.matches(&key_values(e)))
            && self
                .m
                .geo
                .as_ref()
                .is_none_or(|g| geometry_of(e, &g.property).is_some_and(|geom| g.matches(&geom)))
    }

    fn shape(&self, e: &Entity) -> Value {
        let e = project(e.clone(), &self.sub.notification.attributes);
        if self.sub.notification.format == "keyValues" {
            Value::Object(key_values(&e))
        } else {
            Value::Object(e)
        }
    }

    fn throttled(&self) -> bool {
        match (self.sub.throttling, self.last_sent) {
            (Some(t), Some(last)) if t > 0.0 => last.elapsed().as_secs_f64() < t,
            _ => false,
        }
    }

    fn view(&self, at: Timestamp) -> Subscription {
        let mut s = self.sub.clone();
        s.status = Some(
            if self.sub.is_expired(at) {
                "expired"
            } else if self.sub.is_active {
                "active"
            } else {
                "paused"
            }
            .into(),
        );
        let n = &mut s.notification;
        n.times_sent = Some(self.times_sent);
        n.last_notification = self.last_notification.map(iso);
        n.last_success = self.last_success.map(iso);
        n.last_failure = self.last_failure.map(iso);
        n.status = self.failed.map(|f| if f { "failed" } else { "ok" }.into());
        s
    }
}

struct Delivery {
    sub_id: String,
    target: Target,
    body: Value,
}

struct Inner {
    store: Store,
    subs: RwLock<BTreeMap<String, Active>>,
    any: AtomicBool,
    tx: mpsc::Sender<Delivery>,
}

/// NGSI-LD subscriptions and their notifications. Cheap to clone.
#[derive(Clone)]
pub struct NgsiNotifier {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for NgsiNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NgsiNotifier").finish_non_exhaustive()
    }
}

impl NgsiNotifier {
    /// Loads the stored subscriptions and starts the delivery task (on the
    /// current tokio runtime; it ends when the notifier is dropped).
    pub async fn load(store: Store) -> Result<Self, store::Error> {
        let mut subs = BTreeMap::new();
        for r in store.subscriptions().await? {
            match serde_json::from_value::<Subscription>(r.doc.clone())
                .map_err(|e| ApiError::Internal(e.to_string()))
                .and_then(|s| Active::new(s, r.created_at))
            {
                Ok(a) => {
                    subs.insert(r.id.clone(), a);
                }
                Err(e) => {
                    tracing::warn!(subscription = %r.id, error = %e, "Skipped an invalid stored subscription.");
                }
            }
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        let inner = Arc::new(Inner {
            store,
            any: AtomicBool::new(!subs.is_empty()),
            subs: RwLock::new(subs),
            tx,
        });
        tokio::spawn(deliver(rx, Arc::downgrade(&inner)));
        Ok(Self { inner })
    }

    // ----- subscription CRUD -----

    /// One subscription with its status.
    pub fn get(&self, id: &str) -> Option<Subscription> {
        self.get_with_created(id).map(|(s, _)| s)
    }

    /// One subscription with its status and creation time.
    pub fn get_with_created(&self, id: &str) -> Option<(Subscription, Timestamp)> {
        let at = now();
        self.inner
            .subs
            .read()
            .ok()?
            .get(id)
            .map(|a| (a.view(at), a.created))
    }

    /// Every subscription, in id order.
    pub fn list(&self) -> Vec<Subscription> {
        let at = now();
        self.inner
            .subs
            .read()
            .map(|m| m.values().map(|a| a.view(at)).collect())
            .unwrap_or_default()
    }

    /// Stores (creates or replaces) a validated subscription.
    pub async fn put(&self, sub: Subscription, created: Option<Timestamp>) -> Result<(), ApiError> {
        let t = now();
        let created = created.unwrap_or(t);
        let active = Active::new(sub.clone(), created)?;
        let doc = serde_json::to_value(&sub)
            .map_err(|e| ApiError::Internal(format!("subscription does not serialise: {e}")))?;
        self.inner
            .store
            .upsert_subscription(&SubscriptionRecord {
                id: sub.id.clone(),
                created_at: created,
                modified_at: t,
                doc,
            })
            .await?;
        if let Ok(mut m) = self.inner.subs.write() {
            m.insert(sub.id.clone(), active);
            self.inner.any.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Deletes a subscription; `false` when there was none.
    pub async fn remove(&self, id: &str) -> Result<bool, ApiError> {
        let found = self.inner.store.delete_subscription(id).await?;
        if let Ok(mut m) = self.inner.subs.write() {
            let had = m.remove(id).is_some();
            self.inner.any.store(!m.is_empty(), Ordering::Relaxed);
            return Ok(found || had);
        }
        Ok(found)
    }

    // ----- triggers -----

    /// Notifies the subscriptions watching the sensors (and the road
    /// segments their detectors observe) that a batch of applied
    /// observations changed. The server calls this after each batch.
    pub fn on_observations(&self, obs: &[Observation], snap: &TwinSnapshot) {
        if !self.inner.any.load(Ordering::Relaxed) || obs.is_empty() {
            return;
        }
        let mut changed: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for o in obs {
            changed
                .entry(o.sensor.as_str())
                .or_default()
                .insert(o.metric.as_str());
        }
        let at = now();
        let ctx = LiveCtx::default();
        let Ok(mut subs) = self.inner.subs.write() else {
            return;
        };
        let wants_roads = subs
            .values()
            .any(|a| a.live(at) && a.selects_type("RoadSegment"));
        let mut entities: BTreeMap<String, (Entity, Vec<&str>)> = BTreeMap::new();
        let mut roads: BTreeSet<EntityId> = BTreeSet::new();
        for (sensor, metrics) in &changed {
            let Some(e) = snap.entity(sensor) else {
                continue;
            };
            if e.kind != EntityKind::Sensor {
                continue;
            }
            let urn = twin_urn(e.kind, e.id.as_str());
            if subs
                .values()
                .any(|a| a.live(at) && a.selects(e.kind.type_name(), &urn))
            {
                entities.insert(
                    urn,
                    (
                        twin_entity(snap, e, &ctx),
                        metrics.iter().copied().collect(),
                    ),
                );
            }
            if wants_roads
                && let Some(spec) = e.sensor()
                && spec.kind == SensorKind::TrafficDetector
                && let Some(r) = &spec.observes
            {
                roads.insert(r.clone());
            }
        }
        for r in roads {
            if let Some(e) = snap.entity(r.as_str()) {
                entities.insert(
                    twin_urn(e.kind, e.id.as_str()),
                    (twin_entity(snap, e, &ctx), ROAD_LIVE_ATTRS.to_vec()),
                );
            }
        }
        if entities.is_empty() {
            return;
        }
        for a in subs.values_mut() {
            if !a.live(at) {
                continue;
            }
            let data: Vec<Value> = entities
                .iter()
                .filter(|(urn, (e, attrs))| {
                    a.selects(entity_type(e), urn) && a.watches(attrs) && a.accepts(e)
                })
                .map(|(_, (e, _))| a.shape(e))
                .collect();
            self.enqueue(a, data, at);
        }
    }

    /// Notifies the subscriptions watching an entity written through the
    /// API (every attribute counts as changed).
    pub fn on_entity_change(&self, e: &Entity, _snap: &TwinSnapshot) {
        if !self.inner.any.load(Ordering::Relaxed) {
            return;
        }
        let at = now();
        let attrs: Vec<&str> = e.keys().map(String::as_str).collect();
        let Ok(mut subs) = self.inner.subs.write() else {
            return;
        };
        for a in subs.values_mut() {
            if a.live(at)
                && a.selects(entity_type(e), entity_id(e))
                && a.watches(&attrs)
                && a.accepts(e)
            {
                let data = vec![a.shape(e)];
                self.enqueue(a, data, at);
            }
        }
    }

    fn enqueue(&self, a: &mut Active, data: Vec<Value>, at: Timestamp) {
        if data.is_empty() {
            return;
        }
        if a.throttled() {
            crate::telemetry::notification("throttled");
            return;
        }
        let Ok(target) = parse_target(&a.sub.notification.endpoint.uri) else {
            return;
        };
        a.last_sent = Some(Instant::now());
        a.last_notification = Some(at);
        let d = Delivery {
            sub_id: a.sub.id.clone(),
            target,
            body: notification(&a.sub.id, data, at),
        };
        if self.inner.tx.try_send(d).is_err() {
            a.failed = Some(true);
            a.last_failure = Some(at);
            crate::telemetry::notification("dropped");
            tracing::warn!(subscription = %a.sub.id, "Dropped a notification: the delivery queue is full.");
        }
    }
}

/// The delivery task: sends each queued notification and records the
/// outcome on its subscription.
async fn deliver(mut rx: mpsc::Receiver<Delivery>, inner: Weak<Inner>) {
    let http = reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .build()
        .unwrap_or_default();
    let mut brokers: HashMap<(String, u16), rumqttc::AsyncClient> = HashMap::new();
    while let Some(d) = rx.recv().await {
        let result = match &d.target {
            Target::Http(url) => http
                .post(url)
                .header("content-type", "application/json")
                .header("ngsild-subscription-id", d.sub_id.as_str())
                .json(&d.body)
                .send()
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| {
                    if r.status().is_success() {
                        Ok(())
                    } else {
                        Err(format!("endpoint answered {}", r.status()))
                    }
                }),
            Target::Mqtt { host, port, topic } => {
                let client = brokers
                    .entry((host.clone(), *port))
                    .or_insert_with(|| connect_mqtt(host, *port));
                let payload = json!({
                    "metadata": {"Content-Type": "application/json"},
                    "body": d.body,
                })
                .to_string();
                client
                    .try_publish(topic.as_str(), rumqttc::QoS::AtLeastOnce, false, payload)
                    .map_err(|e| e.to_string())
            }
        };
        let Some(inner) = inner.upgrade() else { return };
        let at = now();
        if let Err(e) = &result {
            crate::telemetry::notification("failed");
            tracing::warn!(subscription = %d.sub_id, error = %e, "Notification failed.");
        } else {
            crate::telemetry::notification("ok");
        }
        if let Ok(mut m) = inner.subs.write()
            && let Some(a) = m.get_mut(&d.sub_id)
        {
            match result {
                Ok(()) => {
                    a.times_sent += 1;
                    a.last_success = Some(at);
                    a.failed = Some(false);
                }
                Err(_) => {
                    a.last_failure = Some(at);
                    a.failed = Some(true);
                }
            }
        }
    }
}

/// A connection to a broker, kept open by a polling task that reconnects
/// after errors (1 s pause).
fn connect_mqtt(host: &str, port: u16) -> rumqttc::AsyncClient {
    let mut r = [0u8; 6];
    let _ = getrandom::fill(&mut r);
    let id: String = r.iter().map(|b| format!("{b:02x}")).collect();
    let mut opts = rumqttc::MqttOptions::new(format!("citybrain-ngsi-{id}"), host, port);
    opts.set_keep_alive(Duration::from_secs(30));
    let (client, mut el) = rumqttc::AsyncClient::new(opts, 256);
    let addr = format!("{host}:{port}");
    tokio::spawn(async move {
        loop {
            match el.poll().await {
                Ok(_) => {}
                Err(rumqttc::ConnectionError::RequestsDone) => break,
                Err(e) => {
                    tracing::warn!(broker = %addr, error = %e, "NGSI-LD MQTT notification connection failed; retrying.");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    client
}
