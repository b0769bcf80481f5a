//! `/ngsi-ld/v1/subscriptions`: CRUD of subscriptions (the model and its
//! validation; delivery is in `notify.rs`).
//!
//! Supported: `entities` (type with optional id or idPattern),
//! `watchedAttributes`, `q`, `geoQ`, `notification.attributes`,
//! `notification.format` (`normalized` or `keyValues`),
//! `notification.endpoint.uri` with `http://` (POST of the notification) or
//! `mqtt://host[:port]/topic` (published QoS 1 as `{metadata, body}`),
//! `throttling` (seconds), `isActive`, `expiresAt`. TLS endpoints
//! (`https`, `mqtts`) are not supported.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::geoquery::GeoQuery;
use super::model::{is_name, is_uri};
use crate::middleware::{AuditEntity, Caller};
use crate::util::{iso, parse_time};
use crate::{ApiError, ApiResult, AppState, Permission, Problem};

/// Which entities a subscription watches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntitySelector {
    /// Entity type.
    #[serde(rename = "type")]
    pub kind: String,
    /// One entity id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Regular expression on entity ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_pattern: Option<String>,
}

/// A geo-query of a subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GeoQ {
    /// Relation (`near;maxDistance==500`, `within`, ...).
    pub georel: String,
    /// GeoJSON geometry type.
    pub geometry: String,
    /// GeoJSON coordinates (an array, or its JSON text).
    #[schema(value_type = Object)]
    pub coordinates: Value,
    /// GeoProperty (default `location`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geoproperty: Option<String>,
}

impl GeoQ {
    /// The parsed geo-query.
    pub fn parse(&self) -> Result<GeoQuery, ApiError> {
        let coords = match &self.coordinates {
            Value::String(s) => s.clone(),
            v => v.to_string(),
        };
        GeoQuery::parse(
            Some(&self.georel),
            Some(&self.geometry),
            Some(&coords),
            self.geoproperty.as_deref(),
        )
        .map_err(|e| ApiError::BadRequestData(format!("geoQ: {e}")))?
        .ok_or_else(|| ApiError::BadRequestData("geoQ is incomplete".into()))
    }
}

/// Where notifications go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Endpoint {
    /// `http://host:port/path` or `mqtt://host:port/topic`.
    pub uri: String,
    /// Media type of the notification (`application/json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept: Option<String>,
}

/// How and what to notify, with the delivery status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationParams {
    /// Attributes to include (all when empty).
    #[serde(default)]
    pub attributes: Vec<String>,
    /// `normalized` (default) or `keyValues`.
    #[serde(default = "normalized")]
    pub format: String,
    /// The endpoint.
    pub endpoint: Endpoint,
    /// `ok` or `failed` (last delivery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Notifications sent since start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times_sent: Option<u64>,
    /// Last notification attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_notification: Option<String>,
    /// Last success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<String>,
    /// Last failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<String>,
}

fn normalized() -> String {
    "normalized".into()
}

fn active() -> bool {
    true
}

/// A subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// Subscription id (a URI; assigned when absent).
    #[serde(default)]
    pub id: String,
    /// Always `Subscription`.
    #[serde(rename = "type", default = "sub_type")]
    pub kind: String,
    /// A name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscription_name: Option<String>,
    /// A description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Entities watched.
    #[serde(default)]
    pub entities: Vec<EntitySelector>,
    /// Attributes whose change triggers a notification (any when empty).
    #[serde(default)]
    pub watched_attributes: Vec<String>,
    /// Query the entity must satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Geo-query the entity must satisfy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo_q: Option<GeoQ>,
    /// Notification parameters.
    pub notification: NotificationParams,
    /// Minimum seconds between two notifications (notifications in between are dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling: Option<f64>,
    /// Paused when false.
    #[serde(default = "active")]
    pub is_active: bool,
    /// Expiry (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// `active`, `paused` or `expired` (read-only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

fn sub_type() -> String {
    "Subscription".into()
}

/// A notification endpoint, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// POST to this URL.
    Http(String),
    /// Publish to this broker and topic.
    Mqtt {
        /// Host.
        host: String,
        /// Port.
        port: u16,
        /// Topic.
        topic: String,
    },
}

/// Parses an endpoint URI.
pub fn parse_target(uri: &str) -> Result<Target, ApiError> {
    if let Some(rest) = uri.strip_prefix("http://") {
        if rest.is_empty() || rest.starts_with('/') {
            return Err(ApiError::BadRequestData(format!(
                "endpoint {uri:?} has no host"
            )));
        }
        return reqwest::Url::parse(uri)
            .map(|_| Target::Http(uri.to_owned()))
            .map_err(|e| ApiError::BadRequestData(format!("endpoint {uri:?}: {e}")));
    }
    if let Some(rest) = uri.strip_prefix("mqtt://") {
        let (hostport, topic) = rest.split_once('/').ok_or_else(|| {
            ApiError::BadRequestData(format!(
                "endpoint {uri:?} needs a topic: mqtt://host:port/topic"
            ))
        })?;
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| ApiError::BadRequestData(format!("endpoint {uri:?}: bad port")))?,
            ),
            None => (hostport, 1883),
        };
        if host.is_empty() || topic.is_empty() || topic.contains(['+', '#']) {
            return Err(ApiError::BadRequestData(format!(
                "endpoint {uri:?} needs a host and a topic without wildcards"
            )));
        }
        return Ok(Target::Mqtt {
            host: host.to_owned(),
            port,
            topic: topic.to_owned(),
        });
    }
    if uri.starts_with("https://") || uri.starts_with("mqtts://") {
        return Err(ApiError::NotSupported(format!(
            "endpoint {uri:?}: TLS endpoints are not supported; use http:// or mqtt:// (behind a TLS-terminating relay)"
        )));
    }
    Err(ApiError::BadRequestData(format!(
        "endpoint {uri:?} must be http://… or mqtt://…"
    )))
}

impl Subscription {
    /// Checks the subscription; assigns an id when absent.
    pub fn validate(&mut self) -> Result<(), ApiError> {
        let bad = |m: String| ApiError::BadRequestData(m);
        if self.id.is_empty() {
            let mut r = [0u8; 8];
            let _ = getrandom::fill(&mut r);
            self.id = format!("urn:ngsi-ld:Subscription:{:016x}", u64::from_le_bytes(r));
        }
        if !is_uri(&self.id) {
            return Err(bad(format!("subscription id {:?} is not a URI", self.id)));
        }
        if self.kind != "Subscription" {
            return Err(bad(format!(
                "type must be Subscription, not {:?}",
                self.kind
            )));
        }
        if self.entities.is_empty() && self.watched_attributes.is_empty() {
            return Err(bad("give entities or watchedAttributes".into()));
        }
        for e in &self.entities {
            if !is_name(&e.kind) {
                return Err(bad(format!("entity type {:?} is not a valid name", e.kind)));
            }
            if let Some(p) = &e.id_pattern {
                super::entities::compile_pattern(p)?;
            }
        }
        for a in self
            .watched_attributes
            .iter()
            .chain(&self.notification.attributes)
        {
            if !is_name(a) {
                return Err(bad(format!("attribute {a:?} is not a valid name")));
            }
        }
        if let Some(q) = &self.q {
            super::query::parse(q).map_err(|e| bad(e.to_string()))?;
        }
        if let Some(g) = &self.geo_q {
            g.parse()?;
        }
        if !matches!(
            self.notification.format.as_str(),
            "normalized" | "keyValues"
        ) {
            return Err(bad(
                "notification.format must be normalized or keyValues".into()
            ));
        }
        parse_target(&self.notification.endpoint.uri)?;
        if let Some(t) = self.throttling
            && (!t.is_finite() || t < 0.0)
        {
            return Err(bad("throttling must be a number of seconds >= 0".into()));
        }
        if let Some(x) = &self.expires_at {
            parse_time("expiresAt", x).map_err(|e| bad(e.to_string()))?;
        }
        // status fields are the server's
        self.status = None;
        self.notification.status = None;
        self.notification.times_sent = None;
        self.notification.last_notification = None;
        self.notification.last_success = None;
        self.notification.last_failure = None;
        Ok(())
    }

    /// Whether it has expired at `now`.
    pub fn is_expired(&self, now: domain::Timestamp) -> bool {
        self.expires_at
            .as_deref()
            .and_then(|x| parse_time("expiresAt", x).ok())
            .is_some_and(|t| t <= now)
    }
}

/// Paging of the subscription list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Page size (default 20, max 1000).
    pub limit: Option<u32>,
    /// Items to skip.
    pub offset: Option<u64>,
}

fn audited(mut resp: Response, id: &str) -> Response {
    resp.extensions_mut().insert(AuditEntity(id.to_owned()));
    resp
}

/// `POST /ngsi-ld/v1/subscriptions`.
#[utoipa::path(post, path = "/ngsi-ld/v1/subscriptions", tag = "ngsi-ld",
    request_body(content = Subscription, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; `Location` names it"),
        (status = 400, description = "Invalid subscription", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A subscription with this id exists", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    body: Result<Json<Subscription>, JsonRejection>,
) -> ApiResult<Response> {
    p.require(Permission::WriteEntities)?;
    let Json(mut sub) = body?;
    sub.validate()?;
    if s.ngsi.get(&sub.id).is_some() {
        return Err(ApiError::AlreadyExists(format!(
            "subscription {} exists",
            sub.id
        )));
    }
    s.ngsi.put(sub.clone(), None).await?;
    let mut resp = StatusCode::CREATED.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/ngsi-ld/v1/subscriptions/{}", sub.id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(audited(resp, &sub.id))
}

/// `GET /ngsi-ld/v1/subscriptions`.
#[utoipa::path(get, path = "/ngsi-ld/v1/subscriptions", tag = "ngsi-ld",
    params(Paging),
    responses((status = 200, description = "Subscriptions, in id order", body = Vec<Subscription>)))]
pub async fn list(
    State(s): State<AppState>,
    q: Result<Query<Paging>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let limit = q.limit.unwrap_or(20).clamp(1, 1000) as usize;
    let offset = usize::try_from(q.offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let all: Vec<Subscription> = s.ngsi.list().into_iter().skip(offset).take(limit).collect();
    Ok(Json(all).into_response())
}

/// `GET /ngsi-ld/v1/subscriptions/{id}`.
#[utoipa::path(get, path = "/ngsi-ld/v1/subscriptions/{id}", tag = "ngsi-ld",
    params(("id" = String, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The subscription with its delivery status", body = Subscription),
        (status = 404, description = "No such subscription", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_one(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let sub = s
        .ngsi
        .get(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no subscription {id}")))?;
    Ok(Json(sub).into_response())
}

/// `PATCH /ngsi-ld/v1/subscriptions/{id}`: replaces the members given.
#[utoipa::path(patch, path = "/ngsi-ld/v1/subscriptions/{id}", tag = "ngsi-ld",
    params(("id" = String, Path, description = "Subscription id")),
    request_body(content = Object, description = "Members to replace", content_type = "application/json"),
    responses(
        (status = 204, description = "Updated"),
        (status = 400, description = "Invalid result", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Response> {
    p.require(Permission::WriteEntities)?;
    let Json(body) = body?;
    let patch = body
        .as_object()
        .ok_or_else(|| ApiError::BadRequestData("the body must be a JSON object".into()))?;
    let (old, created) = s
        .ngsi
        .get_with_created(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no subscription {id}")))?;
    let mut v = serde_json::to_value(&old)
        .map_err(|e| ApiError::Internal(format!("subscription does not serialise: {e}")))?;
    for (k, val) in patch {
        if matches!(k.as_str(), "id" | "type" | "@context" | "status") {
            continue;
        }
        v[k] = val.clone();
    }
    let mut sub: Subscription = serde_json::from_value(v)
        .map_err(|e| ApiError::BadRequestData(format!("invalid subscription: {e}")))?;
    sub.validate()?;
    s.ngsi.put(sub, Some(created)).await?;
    Ok(audited(StatusCode::NO_CONTENT.into_response(), &id))
}

/// `DELETE /ngsi-ld/v1/subscriptions/{id}`.
#[utoipa::path(delete, path = "/ngsi-ld/v1/subscriptions/{id}", tag = "ngsi-ld",
    params(("id" = String, Path, description = "Subscription id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such subscription", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn delete(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    p.require(Permission::WriteEntities)?;
    if !s.ngsi.remove(&id).await? {
        return Err(ApiError::NotFound(format!("no subscription {id}")));
    }
    Ok(audited(StatusCode::NO_CONTENT.into_response(), &id))
}

/// A notification body (NGSI-LD §5.3.1).
pub fn notification(sub_id: &str, data: Vec<Value>, now: domain::Timestamp) -> Value {
    let mut r = [0u8; 8];
    let _ = getrandom::fill(&mut r);
    json!({
        "id": format!("urn:ngsi-ld:Notification:{:016x}", u64::from_le_bytes(r)),
        "type": "Notification",
        "subscriptionId": sub_id,
        "notifiedAt": iso(now),
        "data": data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(uri: &str) -> Subscription {
        serde_json::from_value(json!({
            "type": "Subscription",
            "entities": [{"type": "Sensor"}],
            "watchedAttributes": ["pm25"],
            "q": "pm25>50",
            "notification": {"endpoint": {"uri": uri}},
        }))
        .unwrap()
    }

    #[test]
    fn subscriptions_validate_endpoints_and_get_an_id() {
        let mut s = sub("http://127.0.0.1:9000/notify");
        s.validate().unwrap();
        assert!(s.id.starts_with("urn:ngsi-ld:Subscription:"));
        assert!(s.is_active);
        assert_eq!(s.notification.format, "normalized");
        assert_eq!(
            parse_target("mqtt://broker:1884/city/alerts").unwrap(),
            Target::Mqtt {
                host: "broker".into(),
                port: 1884,
                topic: "city/alerts".into()
            }
        );
        assert!(matches!(
            sub("https://x.example/n").validate(),
            Err(ApiError::NotSupported(_))
        ));
        for bad in ["ftp://x/y", "mqtt://host", "mqtt://host/a/#", "http://"] {
            assert!(sub(bad).validate().is_err(), "{bad}");
        }
        let mut s = sub("http://h/n");
        s.q = Some("(pm25>1".into());
        assert!(s.validate().is_err());
    }
}
