//! NGSI-LD entities: ids, the normalized and key-value representations, the
//! twin's entities seen as NGSI-LD (with live attributes), and validation of
//! entities written by clients.
//!
//! Twin entities have ids `urn:ngsi-ld:{Type}:{id}` where `{Type}` is the
//! twin kind's type name (`RoadSegment`, `Building`, `Sensor`, ...) and
//! `{id}` the twin's own id. They are read-only through NGSI-LD.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use domain::{EntityId, EntityKind, KNOWN_METRICS, Unit};
use serde_json::{Map, Value, json};
use twin::{Entity as TwinEntity, EntityAttrs, TwinSnapshot};

use super::geoquery::geometry_from;
use crate::ApiError;
use crate::livedata::{RoadLive, road_live};
use crate::util::iso;

/// An entity in NGSI-LD form (normalized or key-value).
pub type Entity = Map<String, Value>;

/// The NGSI-LD core context.
pub const CORE_CONTEXT: &str = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";
/// Prefix of NGSI-LD URNs.
pub const URN_PREFIX: &str = "urn:ngsi-ld:";
/// The value that deletes an attribute in a merge-patch.
pub const NULL_VALUE: &str = "urn:ngsi-ld:null";
/// Attribute types an attribute object may have.
const ATTR_TYPES: &[&str] = &[
    "Property",
    "GeoProperty",
    "Relationship",
    "LanguageProperty",
    "VocabProperty",
    "JsonProperty",
    "ListProperty",
    "ListRelationship",
];
/// Attributes whose plain values are geometries.
const GEO_ATTRS: &[&str] = &["location", "observationSpace", "operationSpace"];

/// The URN of a twin entity.
pub fn twin_urn(kind: EntityKind, id: &str) -> String {
    format!("{URN_PREFIX}{}:{id}", kind.type_name())
}

/// The twin kind and id behind a URN, when it has the twin's form.
pub fn parse_twin_urn(urn: &str) -> Option<(EntityKind, &str)> {
    let rest = urn.strip_prefix(URN_PREFIX)?;
    let (ty, id) = rest.split_once(':')?;
    Some((EntityKind::from_type_name(ty)?, id))
}

/// The twin entity a URN names, if any.
pub fn twin_entity_of<'a>(snap: &'a TwinSnapshot, urn: &str) -> Option<&'a TwinEntity> {
    let (kind, id) = parse_twin_urn(urn)?;
    snap.entity(id).filter(|e| e.kind == kind)
}

fn prop(value: Value) -> Value {
    json!({"type": "Property", "value": value})
}

fn prop_at(value: Value, observed_at: domain::Timestamp, unit: Option<&str>) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), "Property".into());
    m.insert("value".into(), value);
    m.insert("observedAt".into(), iso(observed_at).into());
    if let Some(u) = unit {
        m.insert("unitCode".into(), u.into());
    }
    Value::Object(m)
}

fn rel(urn: String) -> Value {
    json!({"type": "Relationship", "object": urn})
}

/// The UN/CEFACT common code of a unit, where there is a well-known one.
pub fn unit_code(u: Unit) -> Option<&'static str> {
    Some(match u {
        Unit::KmPerHour => "KMH",
        Unit::MetrePerSecond => "MTS",
        Unit::Percent => "P1",
        Unit::MicrogramPerM3 => "GQ",
        Unit::Celsius => "CEL",
        Unit::Kelvin => "KEL",
        Unit::Watt => "WTT",
        Unit::Kilowatt => "KWT",
        Unit::Megawatt => "MAW",
        Unit::WattHour => "WHR",
        Unit::KilowattHour => "KWH",
        Unit::Joule => "JOU",
        Unit::Metre => "MTR",
        Unit::Centimetre => "CMT",
        Unit::Millimetre => "MMT",
        Unit::Volt => "VLT",
        Unit::Ampere => "AMP",
        Unit::WattPerM2 => "D54",
        Unit::CubicMetrePerSecond => "MQS",
        Unit::LitrePerSecond => "G51",
        _ => return None,
    })
}

/// The unit code of a metric (well-known metrics only).
pub fn metric_unit_code(metric: &str) -> Option<&'static str> {
    KNOWN_METRICS
        .iter()
        .find(|m| m.name == metric)
        .and_then(|m| unit_code(m.unit))
}

/// Lazily computed live context shared by the entities of one response.
#[derive(Default)]
pub struct LiveCtx {
    roads: OnceLock<BTreeMap<EntityId, RoadLive>>,
}

impl LiveCtx {
    fn roads(&self, snap: &TwinSnapshot) -> &BTreeMap<EntityId, RoadLive> {
        self.roads.get_or_init(|| road_live(snap))
    }
}

/// A twin entity in normalized form, with its live attributes.
pub fn twin_entity(snap: &TwinSnapshot, e: &TwinEntity, ctx: &LiveCtx) -> Entity {
    let mut m = Map::new();
    m.insert("id".into(), twin_urn(e.kind, e.id.as_str()).into());
    m.insert("type".into(), e.kind.type_name().into());
    if let Some(n) = &e.name {
        m.insert("name".into(), prop(n.clone().into()));
    }
    let geometry: Value =
        serde_json::from_str(&twin::export::geometry(&e.geometry)).unwrap_or(Value::Null);
    m.insert(
        "location".into(),
        json!({"type": "GeoProperty", "value": geometry}),
    );
    m.insert("h3Cell".into(), prop(e.cell.to_string().into()));
    if let Some(c) = &e.community {
        m.insert(
            "refCommunity".into(),
            rel(twin_urn(EntityKind::Community, c.as_str())),
        );
    }
    match &e.attrs {
        EntityAttrs::Road(r) => {
            m.insert("roadClass".into(), prop(r.class.as_str().into()));
            m.insert(
                "length".into(),
                json!({"type": "Property", "value": r.length_m, "unitCode": "MTR"}),
            );
            m.insert("totalLaneNumber".into(), prop(r.lanes.into()));
            m.insert(
                "maximumAllowedSpeed".into(),
                json!({"type": "Property", "value": r.speed_limit_kmh, "unitCode": "KMH"}),
            );
            m.insert("capacity".into(), prop(r.capacity_veh_h.into()));
            m.insert("oneway".into(), prop(r.oneway.into()));
            m.insert(
                "startJunction".into(),
                rel(twin_urn(EntityKind::Intersection, r.from.as_str())),
            );
            m.insert(
                "endJunction".into(),
                rel(twin_urn(EntityKind::Intersection, r.to.as_str())),
            );
            if let Some(live) = ctx.roads(snap).get(&e.id) {
                let at = live.observed_at.unwrap_or(snap.as_of());
                if let Some(v) = live.speed_kmh {
                    m.insert(
                        "averageVehicleSpeed".into(),
                        prop_at(v.into(), at, Some("KMH")),
                    );
                }
                if let Some(v) = live.flow_veh_h {
                    m.insert("intensity".into(), prop_at(v.into(), at, None));
                }
                if let Some(v) = live.occupancy_pct {
                    m.insert("occupancy".into(), prop_at(v.into(), at, Some("P1")));
                }
                if let Some(v) = live.tti {
                    m.insert("travelTimeIndex".into(), prop_at(v.into(), at, None));
                }
            }
        }
        EntityAttrs::Intersection(i) => {
            m.insert("signalised".into(), prop(i.signalised.into()));
        }
        EntityAttrs::Building(b) => {
            m.insert("category".into(), prop(b.building_use.as_str().into()));
            if let Some(l) = b.levels {
                m.insert("floorsAboveGround".into(), prop(l.into()));
            }
            if let Some(h) = b.height_m {
                m.insert(
                    "height".into(),
                    json!({"type": "Property", "value": h, "unitCode": "MTR"}),
                );
            }
            m.insert("footprintArea".into(), prop(b.footprint_m2.into()));
            m.insert("floorArea".into(), prop(b.floor_area_m2.into()));
            m.insert("residentsEstimate".into(), prop(b.residents_est.into()));
            if let Some(f) = &b.feeder {
                m.insert(
                    "refFeeder".into(),
                    rel(twin_urn(EntityKind::Feeder, f.as_str())),
                );
            }
        }
        EntityAttrs::Poi(p) => {
            m.insert("category".into(), prop(p.category.as_str().into()));
        }
        EntityAttrs::Community(c) => {
            m.insert("population".into(), prop(c.population_est.into()));
            if let Some(l) = c.admin_level {
                m.insert("adminLevel".into(), prop(l.into()));
            }
        }
        EntityAttrs::Feeder(f) => {
            m.insert("voltage".into(), prop(f.voltage_kv.into()));
            m.insert("ratedPower".into(), prop(f.rated_kva.into()));
            if let Some(s) = &f.substation {
                m.insert("substation".into(), prop(s.clone().into()));
            }
        }
        EntityAttrs::Sensor(spec) => {
            m.insert("sensorKind".into(), prop(spec.kind.as_str().into()));
            m.insert(
                "controlledProperty".into(),
                prop(
                    spec.metrics
                        .iter()
                        .map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .into(),
                ),
            );
            m.insert("refGateway".into(), prop(spec.gateway.as_str().into()));
            if let Some(o) = spec.observes.as_ref().and_then(|o| snap.entity(o.as_str())) {
                m.insert("refObserved".into(), rel(twin_urn(o.kind, o.id.as_str())));
            }
            if let Some(s) = snap.sensor(spec.id.as_str()) {
                let h = s.health();
                m.insert("deviceState".into(), prop(h.status.as_str().into()));
                if let Some(t) = h.last_seen {
                    m.insert("dateLastValueReported".into(), prop(iso(t).into()));
                }
                m.insert(
                    "dataQualityFlags".into(),
                    prop(quality_flags(h.flags).into()),
                );
                for (metric, r, _) in s.readings() {
                    m.insert(
                        metric.to_string(),
                        prop_at(r.value.into(), r.ts, metric_unit_code(metric.as_str())),
                    );
                }
            }
        }
    }
    m
}

/// The names of a sensor's quality flags.
pub fn quality_flags(f: domain::QualityFlags) -> Vec<&'static str> {
    f.names()
}

/// The key-value (simplified) form of a normalized entity.
pub fn key_values(e: &Entity) -> Entity {
    e.iter()
        .map(|(k, v)| {
            let kv = match v {
                Value::Object(a) => match a.get("type").and_then(Value::as_str) {
                    Some("Relationship") => a.get("object").cloned().unwrap_or(Value::Null),
                    Some("LanguageProperty") => {
                        a.get("languageMap").cloned().unwrap_or(Value::Null)
                    }
                    Some(_) if a.contains_key("value") => {
                        a.get("value").cloned().unwrap_or(Value::Null)
                    }
                    _ => v.clone(),
                },
                Value::Array(items) => items
                    .first()
                    .and_then(|f| f.get("value").or_else(|| f.get("object")))
                    .cloned()
                    .unwrap_or(Value::Null),
                other => other.clone(),
            };
            (k.clone(), kv)
        })
        .collect()
}

/// Keeps `id`, `type` and the listed attributes (all when `attrs` is empty).
pub fn project(mut e: Entity, attrs: &[String]) -> Entity {
    if !attrs.is_empty() {
        e.retain(|k, _| {
            k == "id" || k == "type" || k == "@context" || attrs.iter().any(|a| a == k)
        });
    }
    e
}

/// Whether the entity has at least one of `attrs` (true when empty).
pub fn has_any(e: &Entity, attrs: &[String]) -> bool {
    attrs.is_empty() || attrs.iter().any(|a| e.contains_key(a))
}

/// The geometry of a GeoProperty, if present and valid.
pub fn geometry_of(e: &Entity, prop: &str) -> Option<geo::Geometry<f64>> {
    let g = match e.get(prop)? {
        Value::Object(a) if a.get("type").and_then(Value::as_str) == Some("GeoProperty") => {
            a.get("value")?
        }
        Value::Object(a) if a.contains_key("coordinates") => e.get(prop)?,
        Value::Object(a) => a.get("value")?,
        _ => return None,
    };
    let kind = g.get("type")?.as_str()?;
    geometry_from(kind, g.get("coordinates")?).ok()
}

/// The entity's type as a string.
pub fn entity_type(e: &Entity) -> &str {
    e.get("type").and_then(Value::as_str).unwrap_or("")
}

/// The entity's id.
pub fn entity_id(e: &Entity) -> &str {
    e.get("id").and_then(Value::as_str).unwrap_or("")
}

/// A GeoJSON Feature of an entity (NGSI-LD §6.3.15): the geometry of
/// `geoproperty`, the other attributes (and `type`) as properties.
pub fn to_feature(e: &Entity, geoproperty: &str) -> Value {
    let geometry = match e.get(geoproperty) {
        Some(Value::Object(a)) => a
            .get("value")
            .cloned()
            .or_else(|| {
                a.contains_key("coordinates")
                    .then(|| Value::Object(a.clone()))
            })
            .unwrap_or(Value::Null),
        _ => Value::Null,
    };
    let props: Map<String, Value> = e
        .iter()
        .filter(|(k, _)| k.as_str() != "id")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    json!({"id": entity_id(e), "type": "Feature", "geometry": geometry, "properties": props})
}

/// Whether `s` is an acceptable entity or subscription id: an absolute URI
/// (a scheme, `:`, no whitespace), at most 256 bytes.
pub fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    !rest.is_empty()
        && s.len() <= 256
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !s.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '<' | '>' | '"' | '{' | '}' | '|' | '\\' | '^' | '`')
        })
}

/// Whether `s` is an acceptable attribute or type name.
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '/' | '.' | '#' | '-'))
}

/// Normalizes one attribute value as written by a client: attribute objects
/// (`{"type": "Property", "value": …}`) are checked, plain values become
/// Properties (GeoProperties for `location` and the other geo attributes).
pub fn normalize_attr(name: &str, v: &Value) -> Result<Value, ApiError> {
    let bad = |m: String| ApiError::BadRequestData(format!("attribute {name}: {m}"));
    if !is_name(name) {
        return Err(ApiError::BadRequestData(format!(
            "{name:?} is not a valid attribute name"
        )));
    }
    let obj = match v {
        Value::Object(a)
            if a.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| ATTR_TYPES.contains(&t)) =>
        {
            a.clone()
        }
        Value::Object(a) if GEO_ATTRS.contains(&name) && a.contains_key("coordinates") => {
            let mut m = Map::new();
            m.insert("type".into(), "GeoProperty".into());
            m.insert("value".into(), v.clone());
            m
        }
        Value::Array(items)
            if items.iter().all(|i| i.get("type").is_some()) && !items.is_empty() =>
        {
            // multi-attribute (datasetId): keep as given, each checked
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                out.push(normalize_attr(name, i)?);
            }
            return Ok(Value::Array(out));
        }
        other => {
            let mut m = Map::new();
            m.insert("type".into(), "Property".into());
            m.insert("value".into(), other.clone());
            m
        }
    };
    let ty = obj.get("type").and_then(Value::as_str).unwrap_or("");
    match ty {
        "Relationship" | "ListRelationship" => {
            if !obj.contains_key("object") && !obj.contains_key("objectList") {
                return Err(bad("a Relationship needs an \"object\"".into()));
            }
        }
        "LanguageProperty" => {
            if !obj.get("languageMap").is_some_and(Value::is_object) {
                return Err(bad(
                    "a LanguageProperty needs a \"languageMap\" object".into()
                ));
            }
        }
        "GeoProperty" => {
            let g = obj
                .get("value")
                .ok_or_else(|| bad("a GeoProperty needs a \"value\"".into()))?;
            let kind = g
                .get("type")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("the GeoJSON geometry needs a \"type\"".into()))?;
            let coords = g
                .get("coordinates")
                .ok_or_else(|| bad("the GeoJSON geometry needs \"coordinates\"".into()))?;
            geometry_from(kind, coords).map_err(|e| bad(e.to_string()))?;
        }
        _ => {
            if !obj.contains_key("value")
                && !obj.contains_key("valueList")
                && !obj.contains_key("json")
                && !obj.contains_key("vocab")
            {
                return Err(bad(format!("a {ty} needs a \"value\"")));
            }
        }
    }
    if let Some(t) = obj.get("observedAt") {
        let ok = t
            .as_str()
            .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok());
        if !ok {
            return Err(bad("observedAt must be an RFC 3339 date-time".into()));
        }
    }
    Ok(Value::Object(obj))
}

/// Checks and normalizes an entity written by a client: an `id` URI, a
/// `type` name, attributes normalized. `@context` is accepted and dropped
/// (the core context applies).
pub fn normalize_entity(v: &Value) -> Result<Entity, ApiError> {
    let Value::Object(obj) = v else {
        return Err(ApiError::BadRequestData(
            "an entity must be a JSON object".into(),
        ));
    };
    let id = obj
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::BadRequestData("the entity needs an \"id\" (a URI)".into()))?;
    if !is_uri(id) {
        return Err(ApiError::BadRequestData(format!(
            "entity id {id:?} is not a URI (e.g. urn:ngsi-ld:Bench:42)"
        )));
    }
    let ty = match obj.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) if ts.len() == 1 && ts[0].is_string() => {
            ts[0].as_str().unwrap_or_default().to_owned()
        }
        _ => {
            return Err(ApiError::BadRequestData(
                "the entity needs a \"type\" (a name)".into(),
            ));
        }
    };
    if !is_name(&ty) {
        return Err(ApiError::BadRequestData(format!(
            "entity type {ty:?} is not a valid name"
        )));
    }
    let mut out = Map::new();
    out.insert("id".into(), id.into());
    out.insert("type".into(), ty.into());
    for (k, v) in obj {
        if matches!(
            k.as_str(),
            "id" | "type" | "@context" | "createdAt" | "modifiedAt" | "scope"
        ) {
            continue;
        }
        out.insert(k.clone(), normalize_attr(k, v)?);
    }
    Ok(out)
}

/// The GeoJSON text of the entity's `location`, for the store's column.
pub fn location_text(e: &Entity) -> Option<String> {
    e.get("location")
        .and_then(|l| l.get("value"))
        .map(Value::to_string)
}

/// Adds `createdAt`/`modifiedAt` (the `sysAttrs` option).
pub fn with_sys_attrs(
    mut e: Entity,
    created: domain::Timestamp,
    modified: domain::Timestamp,
) -> Entity {
    e.insert("createdAt".into(), iso(created).into());
    e.insert("modifiedAt".into(), iso(modified).into());
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twin_urns_round_trip_and_foreign_ones_do_not_parse() {
        let u = twin_urn(EntityKind::RoadSegment, "r-1:2");
        assert_eq!(u, "urn:ngsi-ld:RoadSegment:r-1:2");
        assert_eq!(parse_twin_urn(&u), Some((EntityKind::RoadSegment, "r-1:2")));
        assert_eq!(parse_twin_urn("urn:ngsi-ld:Bench:1"), None);
        assert_eq!(parse_twin_urn("urn:x:Sensor:1"), None);
    }

    #[test]
    fn entities_normalize_plain_values_and_reject_bad_ones() {
        let e = normalize_entity(&json!({
            "id": "urn:ngsi-ld:Bench:1", "type": "Bench", "@context": CORE_CONTEXT,
            "seats": 4,
            "location": {"type": "Point", "coordinates": [24.94, 60.17]},
            "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Org:1"},
            "temperature": {"type": "Property", "value": 3.5, "observedAt": "2026-01-01T00:00:00Z"}
        }))
        .unwrap();
        assert_eq!(e["seats"], json!({"type": "Property", "value": 4}));
        assert_eq!(e["location"]["type"], "GeoProperty");
        assert!(!e.contains_key("@context"));
        let kv = key_values(&e);
        assert_eq!(kv["seats"], 4);
        assert_eq!(kv["owner"], "urn:ngsi-ld:Org:1");
        assert_eq!(kv["location"]["type"], "Point");
        assert!(geometry_of(&e, "location").is_some());

        for bad in [
            json!({"id": "not a uri", "type": "Bench"}),
            json!({"id": "urn:x:1"}),
            json!({"id": "urn:x:1", "type": "Bench", "r": {"type": "Relationship"}}),
            json!({"id": "urn:x:1", "type": "Bench", "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [500, 0]}}}),
            json!({"id": "urn:x:1", "type": "Bench", "t": {"type": "Property", "value": 1, "observedAt": "noon"}}),
            json!([1, 2]),
        ] {
            assert!(
                matches!(normalize_entity(&bad), Err(ApiError::BadRequestData(_))),
                "{bad}"
            );
        }
    }
}
