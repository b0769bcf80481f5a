//! `/ngsi-ld/v1/entities` and `/ngsi-ld/v1/entityOperations/upsert`.
//!
//! Reads see the twin's entities (read-only, with live attributes) and the
//! entities clients created (stored). Writes apply to stored entities only;
//! on a twin entity they answer 422 `OperationNotSupported`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::EntityKind;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use store::NgsiEntityRecord;
use twin::TwinSnapshot;
use utoipa::IntoParams;

use super::geoquery::GeoQuery;
use super::model::{
    Entity, LiveCtx, NULL_VALUE, entity_id, entity_type, geometry_of, has_any, is_name, key_values,
    location_text, normalize_attr, normalize_entity, parse_twin_urn, project, twin_entity,
    twin_entity_of, twin_urn,
};
use super::query;
use super::repr::Repr;
use crate::middleware::{AuditEntity, Caller};
use crate::{ApiError, ApiResult, AppState, Permission, Problem};

/// Largest page.
pub const MAX_LIMIT: u32 = 1000;
/// Default page.
pub const DEFAULT_LIMIT: u32 = 20;

/// Query of `GET /ngsi-ld/v1/entities`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntityQuery {
    /// Entity types, comma-separated.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub types: Option<String>,
    /// Entity ids, comma-separated.
    pub id: Option<String>,
    /// Regular expression on entity ids.
    #[serde(rename = "idPattern")]
    #[param(rename = "idPattern")]
    pub id_pattern: Option<String>,
    /// Attributes to return (and entities must have one of them), comma-separated.
    pub attrs: Option<String>,
    /// NGSI-LD query (`speed<30;status=="online"`).
    pub q: Option<String>,
    /// Geo relation: `near;maxDistance==500`, `within`, `intersects`, ...
    pub georel: Option<String>,
    /// GeoJSON geometry type of `coordinates`.
    pub geometry: Option<String>,
    /// GeoJSON coordinates (JSON text).
    pub coordinates: Option<String>,
    /// GeoProperty the geo-query applies to (default `location`).
    pub geoproperty: Option<String>,
    /// Page size (default 20, max 1000; 0 with `count=true` returns only the count).
    pub limit: Option<u32>,
    /// Entities to skip.
    pub offset: Option<u64>,
    /// Return the total in the `NGSILD-Results-Count` header.
    pub count: Option<bool>,
    /// `keyValues`, `sysAttrs`.
    pub options: Option<String>,
    /// `normalized` or `keyValues` (NGSI-LD 1.8 alternative to `options`).
    pub format: Option<String>,
}

/// Query of a single entity.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntityGetQuery {
    /// Attributes to return, comma-separated.
    pub attrs: Option<String>,
    /// `keyValues`, `sysAttrs`.
    pub options: Option<String>,
    /// `normalized` or `keyValues`.
    pub format: Option<String>,
    /// GeoProperty of GeoJSON output.
    pub geoproperty: Option<String>,
}

/// Options of writes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WriteQuery {
    /// `noOverwrite` (append), `update` or `replace` (upsert).
    pub options: Option<String>,
}

pub(crate) fn split_list(s: Option<&str>) -> Vec<String> {
    s.map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// A parsed entity selection.
pub(crate) struct Selection {
    pub types: Vec<String>,
    pub ids: Vec<String>,
    pub id_pattern: Option<regex::Regex>,
    pub attrs: Vec<String>,
    pub q: Option<query::Query>,
    pub geo: Option<GeoQuery>,
}

pub(crate) fn compile_pattern(p: &str) -> Result<regex::Regex, ApiError> {
    regex::RegexBuilder::new(p)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            ApiError::BadRequestData(format!("idPattern is not a valid regular expression: {e}"))
        })
}

impl Selection {
    pub(crate) fn parse(
        types: Option<&str>,
        ids: Option<&str>,
        id_pattern: Option<&str>,
        attrs: Option<&str>,
        q: Option<&str>,
        geo: (Option<&str>, Option<&str>, Option<&str>, Option<&str>),
    ) -> Result<Self, ApiError> {
        let types = split_list(types);
        if let Some(t) = types.iter().find(|t| !is_name(t)) {
            return Err(ApiError::BadRequestData(format!(
                "type {t:?} is not a valid name"
            )));
        }
        let attrs = split_list(attrs);
        if let Some(a) = attrs.iter().find(|a| !is_name(a)) {
            return Err(ApiError::BadRequestData(format!(
                "attribute {a:?} is not a valid name"
            )));
        }
        Ok(Self {
            types,
            ids: split_list(ids),
            id_pattern: id_pattern.map(compile_pattern).transpose()?,
            attrs,
            q: q.map(|q| query::parse(q).map_err(|e| ApiError::BadRequestData(e.to_string())))
                .transpose()?,
            geo: GeoQuery::parse(geo.0, geo.1, geo.2, geo.3)
                .map_err(|e| ApiError::BadRequestData(e.to_string()))?,
        })
    }

    fn twin_kinds(&self) -> Option<Vec<EntityKind>> {
        if self.types.is_empty() {
            return Some(EntityKind::ALL.to_vec());
        }
        let k: Vec<EntityKind> = self
            .types
            .iter()
            .filter_map(|t| EntityKind::from_type_name(t))
            .collect();
        (!k.is_empty()).then_some(k)
    }

    fn id_ok(&self, id: &str) -> bool {
        (self.ids.is_empty() || self.ids.iter().any(|x| x == id))
            && self.id_pattern.as_ref().is_none_or(|p| p.is_match(id))
    }

    fn geo_ok(&self, e: &Entity) -> bool {
        match &self.geo {
            None => true,
            Some(g) => geometry_of(e, &g.property).is_some_and(|geom| g.matches(&geom)),
        }
    }

    /// Whether a full entity matches the content filters (type, id, geo, q, attrs).
    pub(crate) fn matches(&self, e: &Entity) -> bool {
        let ty = entity_type(e);
        (self.types.is_empty() || self.types.iter().any(|t| t == ty))
            && self.id_ok(entity_id(e))
            && self.geo_ok(e)
            && has_any(e, &self.attrs)
            && self.q.as_ref().is_none_or(|q| q.matches(&key_values(e)))
    }
}

enum Cand<'a> {
    Twin(&'a twin::Entity),
    User(&'a NgsiEntityRecord),
}

/// The matching entities (normalized, projected), the page and the total.
async fn search(
    s: &AppState,
    snap: &TwinSnapshot,
    sel: &Selection,
    limit: u32,
    offset: u64,
) -> ApiResult<(
    Vec<(Entity, Option<(domain::Timestamp, domain::Timestamp)>)>,
    usize,
)> {
    let ctx = LiveCtx::default();
    let user = s.store.ngsi_entities(&sel.types).await?;
    let mut cands: Vec<(String, Cand<'_>)> = Vec::new();
    if let Some(kinds) = sel.twin_kinds() {
        let geo_twin = sel.geo.as_ref().filter(|g| g.property == "location");
        let twin_geo_possible = sel.geo.is_none() || geo_twin.is_some();
        if twin_geo_possible {
            let list: Vec<&twin::Entity> = if !sel.ids.is_empty() {
                sel.ids
                    .iter()
                    .filter_map(|id| twin_entity_of(snap, id))
                    .filter(|e| kinds.contains(&e.kind))
                    .collect()
            } else if let Some(bbox) = geo_twin.and_then(GeoQuery::bbox) {
                snap.entities_in_bbox(bbox, &kinds)
            } else {
                kinds.iter().flat_map(|k| snap.entities_of(*k)).collect()
            };
            for e in list {
                if geo_twin.is_some_and(|g| !g.matches(&e.geometry)) {
                    continue;
                }
                let urn = twin_urn(e.kind, e.id.as_str());
                if sel.id_ok(&urn) {
                    cands.push((urn, Cand::Twin(e)));
                }
            }
        }
    }
    for r in &user {
        if sel.id_ok(&r.id)
            && parse_twin_urn(&r.id).is_none_or(|_| twin_entity_of(snap, &r.id).is_none())
        {
            cands.push((r.id.clone(), Cand::User(r)));
        }
    }
    cands.sort_by(|a, b| a.0.cmp(&b.0));
    cands.dedup_by(|a, b| a.0 == b.0);
    let build = |c: &Cand<'_>| -> (Entity, Option<(domain::Timestamp, domain::Timestamp)>) {
        match c {
            Cand::Twin(e) => (twin_entity(snap, e, &ctx), None),
            Cand::User(r) => (
                r.doc.as_object().cloned().unwrap_or_default(),
                Some((r.created_at, r.modified_at)),
            ),
        }
    };
    let needs_eval = sel.q.is_some() || !sel.attrs.is_empty() || sel.geo.is_some();
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    let limit = limit as usize;
    let mut page = Vec::new();
    if !needs_eval {
        let total = cands.len();
        for c in cands.iter().skip(offset).take(limit) {
            let (e, sys) = build(&c.1);
            page.push((project(e, &sel.attrs), sys));
        }
        return Ok((page, total));
    }
    let mut total = 0usize;
    for (_, c) in &cands {
        let (e, sys) = build(c);
        if !sel.matches(&e) {
            continue;
        }
        if total >= offset && page.len() < limit {
            page.push((project(e, &sel.attrs), sys));
        }
        total += 1;
    }
    Ok((page, total))
}

/// `GET /ngsi-ld/v1/entities`: query entities.
#[utoipa::path(get, path = "/ngsi-ld/v1/entities", tag = "ngsi-ld",
    params(EntityQuery),
    responses(
        (status = 200, description = "Entities (normalized, keyValues or a GeoJSON FeatureCollection)", body = Vec<Object>,
         content_type = "application/json"),
        (status = 400, description = "Invalid query", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    State(s): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<EntityQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let sel = Selection::parse(
        q.types.as_deref(),
        q.id.as_deref(),
        q.id_pattern.as_deref(),
        q.attrs.as_deref(),
        q.q.as_deref(),
        (
            q.georel.as_deref(),
            q.geometry.as_deref(),
            q.coordinates.as_deref(),
            q.geoproperty.as_deref(),
        ),
    )?;
    if sel.types.is_empty()
        && sel.ids.is_empty()
        && sel.id_pattern.is_none()
        && sel.attrs.is_empty()
        && sel.q.is_none()
        && sel.geo.is_none()
    {
        return Err(ApiError::BadRequestData(
            "give at least one of type, id, idPattern, attrs, q or a geo-query".into(),
        ));
    }
    let count = q.count.unwrap_or(false);
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if limit > MAX_LIMIT {
        return Err(ApiError::TooManyResults(format!(
            "limit {limit} is above the maximum {MAX_LIMIT}"
        )));
    }
    if limit == 0 && !count {
        return Err(ApiError::BadRequestData(
            "limit=0 is only allowed with count=true".into(),
        ));
    }
    let repr = Repr::of(
        &headers,
        q.options.as_deref(),
        q.format.as_deref(),
        q.geoproperty.as_deref(),
    );
    let snap = s.twin();
    let (page, total) = search(&s, &snap, &sel, limit, q.offset.unwrap_or(0)).await?;
    let body: Vec<Value> = page
        .into_iter()
        .map(|(e, sys)| repr.entity(e, sys))
        .collect();
    let mut resp = repr.respond(StatusCode::OK, Value::Array(body), true);
    if count && let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        resp.headers_mut().insert("ngsild-results-count", v);
    }
    Ok(resp)
}

/// One entity by id, twin or stored, normalized.
pub(crate) async fn find(
    s: &AppState,
    snap: &TwinSnapshot,
    id: &str,
) -> ApiResult<(Entity, Option<NgsiEntityRecord>)> {
    if let Some(e) = twin_entity_of(snap, id) {
        return Ok((twin_entity(snap, e, &LiveCtx::default()), None));
    }
    if !super::model::is_uri(id) {
        return Err(ApiError::BadRequestData(format!(
            "entity id {id:?} is not a URI"
        )));
    }
    let rec = s
        .store
        .ngsi_entity(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no entity {id}")))?;
    let e = rec.doc.as_object().cloned().unwrap_or_default();
    Ok((e, Some(rec)))
}

/// `GET /ngsi-ld/v1/entities/{id}`.
#[utoipa::path(get, path = "/ngsi-ld/v1/entities/{id}", tag = "ngsi-ld",
    params(("id" = String, Path, description = "Entity id (URI)"), EntityGetQuery),
    responses(
        (status = 200, description = "The entity", body = Object,
         content_type = "application/json"),
        (status = 404, description = "No such entity", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn get_one(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    q: Result<Query<EntityGetQuery>, QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = q?;
    let snap = s.twin();
    let (e, rec) = find(&s, &snap, &id).await?;
    let repr = Repr::of(
        &headers,
        q.options.as_deref(),
        q.format.as_deref(),
        q.geoproperty.as_deref(),
    );
    let attrs = split_list(q.attrs.as_deref());
    let sys = rec.as_ref().map(|r| (r.created_at, r.modified_at));
    Ok(repr.respond(StatusCode::OK, repr.entity(project(e, &attrs), sys), false))
}

fn read_only(id: &str) -> ApiError {
    ApiError::NotSupported(format!(
        "{id} is a twin entity: twin entities follow the city data and the sensors and are read-only through NGSI-LD"
    ))
}

fn audited(mut resp: Response, id: &str) -> Response {
    resp.extensions_mut().insert(AuditEntity(id.to_owned()));
    resp
}

async fn save(s: &AppState, e: &Entity, created: Option<domain::Timestamp>) -> ApiResult<()> {
    let now = crate::util::now();
    s.store
        .upsert_ngsi_entities(&[NgsiEntityRecord {
            id: entity_id(e).to_owned(),
            entity_type: entity_type(e).to_owned(),
            location: location_text(e),
            created_at: created.unwrap_or(now),
            modified_at: now,
            doc: Value::Object(e.clone()),
        }])
        .await?;
    s.ngsi.on_entity_change(e, &s.twin());
    Ok(())
}

/// `POST /ngsi-ld/v1/entities`: create an entity (201 with `Location`).
#[utoipa::path(post, path = "/ngsi-ld/v1/entities", tag = "ngsi-ld",
    request_body(content = Object, description = "An NGSI-LD entity (normalized; plain values become Properties)",
                 content_type = "application/json"),
    responses(
        (status = 201, description = "Created; `Location` names it"),
        (status = 400, description = "Invalid entity", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An entity with this id exists", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Response> {
    p.require(Permission::WriteEntities)?;
    let Json(body) = body?;
    let e = normalize_entity(&body)?;
    let id = entity_id(&e).to_owned();
    let snap = s.twin();
    if twin_entity_of(&snap, &id).is_some() {
        return Err(ApiError::AlreadyExists(format!(
            "{id} exists (a twin entity)"
        )));
    }
    let now = crate::util::now();
    let inserted = s
        .store
        .insert_ngsi_entity(&NgsiEntityRecord {
            id: id.clone(),
            entity_type: entity_type(&e).to_owned(),
            location: location_text(&e),
            created_at: now,
            modified_at: now,
            doc: Value::Object(e.clone()),
        })
        .await?;
    if !inserted {
        return Err(ApiError::AlreadyExists(format!("entity {id} exists")));
    }
    s.ngsi.on_entity_change(&e, &snap);
    let mut resp = StatusCode::CREATED.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/ngsi-ld/v1/entities/{id}")) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(audited(resp, &id))
}

/// `DELETE /ngsi-ld/v1/entities/{id}`.
#[utoipa::path(delete, path = "/ngsi-ld/v1/entities/{id}", tag = "ngsi-ld",
    params(("id" = String, Path, description = "Entity id (URI)")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such entity", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A twin entity (read-only)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn delete(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    p.require(Permission::WriteEntities)?;
    if twin_entity_of(&s.twin(), &id).is_some() {
        return Err(read_only(&id));
    }
    if !s.store.delete_ngsi_entity(&id).await? {
        return Err(ApiError::NotFound(format!("no entity {id}")));
    }
    Ok(audited(StatusCode::NO_CONTENT.into_response(), &id))
}

/// The stored entity `id` for a write (422 for twin entities, 404 when absent).
async fn writable(s: &AppState, id: &str) -> ApiResult<(Entity, NgsiEntityRecord)> {
    if twin_entity_of(&s.twin(), id).is_some() {
        return Err(read_only(id));
    }
    let rec = s
        .store
        .ngsi_entity(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no entity {id}")))?;
    Ok((rec.doc.as_object().cloned().unwrap_or_default(), rec))
}

fn attrs_of(body: &Value) -> ApiResult<&Map<String, Value>> {
    body.as_object().ok_or_else(|| {
        ApiError::BadRequestData("the body must be a JSON object of attributes".into())
    })
}

fn is_null_value(v: &Value) -> bool {
    v.as_str() == Some(NULL_VALUE)
        || v.get("value").and_then(Value::as_str) == Some(NULL_VALUE)
        || v.get("object").and_then(Value::as_str) == Some(NULL_VALUE)
}

fn multi_status(updated: &[String], not_updated: &[(String, String)]) -> Response {
    if not_updated.is_empty() {
        return StatusCode::NO_CONTENT.into_response();
    }
    (
        StatusCode::MULTI_STATUS,
        Json(json!({
            "updated": updated,
            "notUpdated": not_updated.iter().map(|(a, r)| json!({"attributeName": a, "reason": r})).collect::<Vec<_>>(),
        })),
    )
        .into_response()
}

/// Merges the members of `patch` into the attribute object `old` (a partial
/// attribute update).
fn merge_attr(old: &Value, patch: &Value) -> Value {
    match (old, patch) {
        (Value::Object(o), Value::Object(p)) => {
            let mut m = o.clone();
            for (k, v) in p {
                m.insert(k.clone(), v.clone());
            }
            Value::Object(m)
        }
        _ => patch.clone(),
    }
}

/// `PATCH /ngsi-ld/v1/entities/{id}/attrs`: update existing attributes.
#[utoipa::path(patch, path = "/ngsi-ld/v1/entities/{id}/attrs", tag = "ngsi-ld",
    params(("id" = String, Path, description = "Entity id (URI)")),
    request_body(content = Object, description = "Attributes to update", content_type = "application/json"),
    responses(
        (status = 204, description = "All updated"),
        (status = 207, description = "Some attributes do not exist", body = Object),
        (status = 404, description = "No such entity", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A twin entity (read-only)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn update_attrs(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Response> {
    p.require(Permission::WriteEntities)?;
    let Json(body) = body?;
    let (mut e, rec) = writable(&s, &id).await?;
    let (mut updated, mut not_updated) = (Vec::new(), Vec::new());
    for (k, v) in attrs_of(&body)? {
        if matches!(k.as_str(), "id" | "type" | "@context") {
            continue;
        }
        match e.get(k) {
            Some(old) => {
                let new = normalize_attr(k, &merge_attr(old, v))?;
                e.insert(k.clone(), new);
                updated.push(k.clone());
            }
            None => not_updated.push((k.clone(), "attribute does not exist".to_owned())),
        }
    }
    if !updated.is_empty() {
        save(&s, &e, Some(rec.created_at)).await?;
    }
    Ok(audited(multi_status(&updated, &not_updated), &id))
}

/// `POST /ngsi-ld/v1/entities/{id}/attrs`: append attributes
/// (`options=noOverwrite` keeps existing ones).
#[utoipa::path(post, path = "/ngsi-ld/v1/entities/{id}/attrs", tag = "ngsi-ld",
    params(("id" = String, Path, description = "Entity id (URI)"), WriteQuery),
    request_body(content = Object, description = "Attributes to add", content_type = "application/json"),
    responses(
        (status = 204, description = "All appended"),
        (status = 207, description = "Some attributes kept (noOverwrite)", body = Object),
        (status = 404, description = "No such entity", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A twin entity (read-only)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn append_attrs(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    q: Result<Query<WriteQuery>, QueryRejection>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Response> {
    p.require(Permission::WriteEntities)?;
    let Query(q) = q?;
    let Json(body) = body?;
    let keep = q.options.as_deref() == Some("noOverwrite");
    let (mut e, rec) = writable(&s, &id).await?;
    let (mut updated, mut not_updated) = (Vec::new(), Vec::new());
    for (k, v) in attrs_of(&body)? {
        if matches!(k.as_str(), "id" | "type" | "@context") {
            continue;
        }
        if keep && e.contains_key(k) {
            not_updated.push((
                k.clone(),
                "attribute exists and noOverwrite is set".to_owned(),
            ));
            continue;
        }
        e.insert(k.clone(), normalize_attr(k, v)?);
        updated.push(k.clone());
    }
    if !updated.is_empty() {
        save(&s, &e, Some(rec.created_at)).await?;
    }
    Ok(audited(multi_status(&updated, &not_updated), &id))
}

/// `PATCH /ngsi-ld/v1/entities/{id}`: merge-patch (attributes added or
/// replaced; `urn:ngsi-ld:null` deletes one).
#[utoipa::path(patch, path = "/ngsi-ld/v1/entities/{id}", tag = "ngsi-ld",
    params(("id" = String, Path, description = "Entity id (URI)")),
    request_body(content = Object, description = "Fragment to merge", content_type = "application/json"),
    responses(
        (status = 204, description = "Merged"),
        (status = 404, description = "No such entity", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A twin entity (read-only)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn merge(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path(id): Path<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Response> {
    p.require(Permission::WriteEntities)?;
    let Json(body) = body?;
    let (mut e, rec) = writable(&s, &id).await?;
    for (k, v) in attrs_of(&body)? {
        if matches!(k.as_str(), "id" | "type" | "@context") {
            continue;
        }
        if is_null_value(v) {
            e.remove(k);
        } else {
            let new = match e.get(k) {
                Some(old) if v.is_object() && v.get("type").is_none() => merge_attr(old, v),
                _ => v.clone(),
            };
            e.insert(k.clone(), normalize_attr(k, &new)?);
        }
    }
    save(&s, &e, Some(rec.created_at)).await?;
    Ok(audited(StatusCode::NO_CONTENT.into_response(), &id))
}

/// `PATCH /ngsi-ld/v1/entities/{id}/attrs/{attr}`: partial attribute update.
#[utoipa::path(patch, path = "/ngsi-ld/v1/entities/{id}/attrs/{attr}", tag = "ngsi-ld",
    params(("id" = String, Path, description = "Entity id (URI)"), ("attr" = String, Path, description = "Attribute name")),
    request_body(content = Object, description = "Attribute fragment", content_type = "application/json"),
    responses(
        (status = 204, description = "Updated"),
        (status = 404, description = "No such entity or attribute", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A twin entity (read-only)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn update_attr(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((id, attr)): Path<(String, String)>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Response> {
    p.require(Permission::WriteEntities)?;
    let Json(body) = body?;
    let (mut e, rec) = writable(&s, &id).await?;
    let old = e
        .get(&attr)
        .ok_or_else(|| ApiError::NotFound(format!("entity {id} has no attribute {attr}")))?;
    let new = normalize_attr(&attr, &merge_attr(old, &body))?;
    e.insert(attr, new);
    save(&s, &e, Some(rec.created_at)).await?;
    Ok(audited(StatusCode::NO_CONTENT.into_response(), &id))
}

/// `DELETE /ngsi-ld/v1/entities/{id}/attrs/{attr}`.
#[utoipa::path(delete, path = "/ngsi-ld/v1/entities/{id}/attrs/{attr}", tag = "ngsi-ld",
    params(("id" = String, Path, description = "Entity id (URI)"), ("attr" = String, Path, description = "Attribute name")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such entity or attribute", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A twin entity (read-only)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn delete_attr(
    State(s): State<AppState>,
    Caller(p): Caller,
    Path((id, attr)): Path<(String, String)>,
) -> ApiResult<Response> {
    p.require(Permission::WriteEntities)?;
    let (mut e, rec) = writable(&s, &id).await?;
    if e.remove(&attr).is_none() || matches!(attr.as_str(), "id" | "type") {
        return Err(ApiError::NotFound(format!(
            "entity {id} has no attribute {attr}"
        )));
    }
    save(&s, &e, Some(rec.created_at)).await?;
    Ok(audited(StatusCode::NO_CONTENT.into_response(), &id))
}

/// `POST /ngsi-ld/v1/entityOperations/upsert`: create or replace
/// (`options=replace`, default) or update (`options=update`) each entity of
/// an array. 201 with the created ids when any was created, 204 when all
/// existed, 207 with per-entity errors.
#[utoipa::path(post, path = "/ngsi-ld/v1/entityOperations/upsert", tag = "ngsi-ld",
    params(WriteQuery),
    request_body(content = Vec<Object>, description = "Entities", content_type = "application/json"),
    responses(
        (status = 201, description = "Ids of the created entities", body = Vec<String>),
        (status = 204, description = "All existed and were updated"),
        (status = 207, description = "Some failed: {success: [ids], errors: [{entityId, error}]}", body = Object),
        (status = 400, description = "Not an array", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = [])))]
pub async fn upsert(
    State(s): State<AppState>,
    Caller(p): Caller,
    q: Result<Query<WriteQuery>, QueryRejection>,
    body: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Response> {
    p.require(Permission::WriteEntities)?;
    let Query(q) = q?;
    let Json(body) = body?;
    let update_only = match q.options.as_deref() {
        None | Some("replace") => false,
        Some("update") => true,
        Some(o) => {
            return Err(ApiError::BadRequestData(format!(
                "options {o:?} must be replace or update"
            )));
        }
    };
    let items = body.as_array().ok_or_else(|| {
        ApiError::BadRequestData("the body must be a JSON array of entities".into())
    })?;
    if items.len() > MAX_LIMIT as usize {
        return Err(ApiError::TooManyResults(format!(
            "at most {MAX_LIMIT} entities per batch"
        )));
    }
    let snap = s.twin();
    let now = crate::util::now();
    let (mut created, mut success, mut errors, mut recs, mut changed) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for item in items {
        let id = item
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let e = match normalize_entity(item) {
            Ok(e) => e,
            Err(err) => {
                errors.push(json!({"entityId": id, "error": problem_json(&err)}));
                continue;
            }
        };
        if twin_entity_of(&snap, &id).is_some() {
            errors.push(json!({"entityId": id, "error": problem_json(&read_only(&id))}));
            continue;
        }
        let existing = s.store.ngsi_entity(&id).await?;
        let merged = match (&existing, update_only) {
            (Some(r), true) => {
                let mut old = r.doc.as_object().cloned().unwrap_or_default();
                for (k, v) in &e {
                    old.insert(k.clone(), v.clone());
                }
                old
            }
            _ => e,
        };
        if existing.is_none() {
            created.push(id.clone());
        }
        success.push(id.clone());
        recs.push(NgsiEntityRecord {
            id: id.clone(),
            entity_type: entity_type(&merged).to_owned(),
            location: location_text(&merged),
            created_at: existing.as_ref().map_or(now, |r| r.created_at),
            modified_at: now,
            doc: Value::Object(merged.clone()),
        });
        changed.push(merged);
    }
    s.store.upsert_ngsi_entities(&recs).await?;
    for e in &changed {
        s.ngsi.on_entity_change(e, &snap);
    }
    let resp = if !errors.is_empty() {
        (
            StatusCode::MULTI_STATUS,
            Json(json!({"success": success, "errors": errors})),
        )
            .into_response()
    } else if !created.is_empty() {
        (StatusCode::CREATED, Json(json!(created))).into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
    Ok(audited(resp, &format!("{} entities", success.len())))
}

fn problem_json(e: &ApiError) -> Value {
    let (status, kind, title) = e.parts();
    json!({"type": kind, "title": title, "status": status.as_u16(), "detail": e.to_string()})
}

/// `GET /ngsi-ld/v1/types`: the entity types available, with counts.
#[utoipa::path(get, path = "/ngsi-ld/v1/types", tag = "ngsi-ld",
    responses((status = 200, description = "Entity types", body = Object)))]
pub async fn types(State(s): State<AppState>) -> ApiResult<Response> {
    let snap = s.twin();
    let mut counts: std::collections::BTreeMap<String, usize> = EntityKind::ALL
        .iter()
        .map(|k| (k.type_name().to_owned(), snap.entity_count(*k)))
        .filter(|(_, n)| *n > 0)
        .collect();
    for r in s.store.ngsi_entities(&[]).await? {
        *counts.entry(r.entity_type).or_default() += 1;
    }
    let list: Vec<Value> = counts
        .iter()
        .map(|(t, n)| json!({"id": format!("urn:ngsi-ld:EntityType:{t}"), "type": "EntityType", "typeName": t, "count": n}))
        .collect();
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Json(json!({"id": "urn:ngsi-ld:EntityTypeList:citybrain", "type": "EntityTypeList", "typeList": counts.keys().collect::<Vec<_>>(), "types": list})),
    )
        .into_response())
}
