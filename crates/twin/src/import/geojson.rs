//! GeoJSON import: any entity kind, properties named as in
//! `docs/specs/city-import.md`.

use std::collections::BTreeSet;

use domain::{EntityId, EntityKind, GatewayId, LatLon, Metric, SensorId, SensorKind, SensorSpec};
use geo::Geometry;
use geojson::{GeoJson, JsonObject, JsonValue};

use super::{BuildingDefaults, FeatureError, ImportError};
use crate::entity::{BuildingUse, Entity, EntityAttrs, RoadClass, road_capacity_veh_h};
use crate::geom;

/// Properties every kind accepts.
const COMMON: &[&str] = &["id", "kind", "name", "community", "tags"];

/// The attribute properties of each kind; anything else goes to `tags`.
fn known(kind: EntityKind) -> &'static [&'static str] {
    match kind {
        EntityKind::RoadSegment => &[
            "from",
            "to",
            "length_m",
            "lanes",
            "speed_limit_kmh",
            "capacity_veh_h",
            "oneway",
            "class",
        ],
        EntityKind::Intersection => &["signalised", "signal_nodes", "boundary"],
        EntityKind::Building => &[
            "levels",
            "height_m",
            "use",
            "footprint_m2",
            "floor_area_m2",
            "residents_est",
            "feeder",
        ],
        EntityKind::PointOfInterest => &["category"],
        EntityKind::Community => &["population_est", "admin_level", "source"],
        EntityKind::Feeder => &["voltage_kv", "rated_kva", "substation"],
        EntityKind::Sensor => &["sensor_kind", "gateway", "metrics", "observes"],
    }
}

/// Reads entities from a GeoJSON FeatureCollection (or a single Feature).
///
/// Each feature needs an id (the feature `id` or an `id` property), a
/// geometry and a `kind` property (the NGSI-LD type name); the other
/// properties are the kind's attributes, with documented defaults. Scalar
/// properties the kind does not know are kept as tags. Entities are placed at
/// the default base resolution.
pub fn geojson(text: &str) -> Result<Vec<Entity>, ImportError> {
    let gj: GeoJson = text
        .parse()
        .map_err(|e: geojson::Error| ImportError::Json(e.to_string()))?;
    let features = match gj {
        GeoJson::FeatureCollection(fc) => fc.features,
        GeoJson::Feature(f) => vec![f],
        GeoJson::Geometry(_) => return Err(ImportError::NotFeatures("Geometry")),
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(features.len());
    for (index, f) in features.into_iter().enumerate() {
        let props = f.properties.clone().unwrap_or_default();
        let id_text = match &f.id {
            Some(geojson::feature::Id::String(s)) => Some(s.clone()),
            Some(geojson::feature::Id::Number(n)) => Some(n.to_string()),
            None => props.get("id").and_then(|v| v.as_str()).map(str::to_owned),
        };
        let fail = |reason| ImportError::Feature {
            index,
            id: id_text.clone().unwrap_or_else(|| "?".into()),
            reason,
        };
        let id_str = id_text
            .clone()
            .ok_or_else(|| fail(FeatureError::MissingId))?;
        let id = EntityId::new(&id_str).map_err(|e| fail(FeatureError::BadId(e)))?;
        let geometry: Geometry<f64> = match &f.geometry {
            None => return Err(fail(FeatureError::MissingGeometry)),
            Some(g) => {
                Geometry::try_from(g).map_err(|e| fail(FeatureError::BadGeometry(e.to_string())))?
            }
        };
        let e = entity(id, geometry, props).map_err(fail)?;
        if !seen.insert(e.id.clone()) {
            return Err(ImportError::DuplicateId(e.id));
        }
        out.push(e);
    }
    Ok(out)
}

/// Reads one GeoJSON geometry (as written by
/// [`export::geometry`](crate::export::geometry), e.g. from a store's
/// geometry column).
pub fn geometry(text: &str) -> Result<Geometry<f64>, ImportError> {
    let g: geojson::Geometry = text
        .parse()
        .map_err(|e: geojson::Error| ImportError::Json(e.to_string()))?;
    Geometry::try_from(&g).map_err(|e| ImportError::Json(e.to_string()))
}

fn bad(key: &str, v: &JsonValue, reason: impl Into<String>) -> FeatureError {
    let mut value = v.to_string();
    value.truncate(80);
    FeatureError::BadProperty {
        key: key.to_owned(),
        value,
        reason: reason.into(),
    }
}

fn get_str<'a>(p: &'a JsonObject, key: &str) -> Result<Option<&'a str>, FeatureError> {
    match p.get(key) {
        None | Some(JsonValue::Null) => Ok(None),
        Some(JsonValue::String(s)) => Ok(Some(s)),
        Some(v) => Err(bad(key, v, "expected a string")),
    }
}

fn get_f64(p: &JsonObject, key: &str) -> Result<Option<f64>, FeatureError> {
    match p.get(key) {
        None | Some(JsonValue::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| bad(key, v, "expected a finite number")),
    }
}

fn entity_id(p: &JsonObject, key: &str) -> Result<Option<EntityId>, FeatureError> {
    get_str(p, key)?
        .map(|s| EntityId::new(s).map_err(|e| bad(key, &JsonValue::from(s), e.to_string())))
        .transpose()
}

fn entity(
    id: EntityId,
    geometry: Geometry<f64>,
    mut p: JsonObject,
) -> Result<Entity, FeatureError> {
    let kind_name = get_str(&p, "kind")?.unwrap_or("").to_owned();
    let kind =
        EntityKind::from_type_name(&kind_name).ok_or(FeatureError::UnknownKind(kind_name))?;
    let attrs = match kind {
        EntityKind::Sensor => sensor_attrs(&id, &geometry, &p)?,
        _ => {
            fill_defaults(kind, &geometry, &mut p)?;
            let mut obj: JsonObject = known(kind)
                .iter()
                .filter_map(|k| p.get(*k).map(|v| ((*k).to_owned(), v.clone())))
                .collect();
            obj.insert("type".into(), JsonValue::from(attrs_tag(kind)));
            serde_json::from_value::<EntityAttrs>(JsonValue::Object(obj)).map_err(|e| {
                FeatureError::BadProperty {
                    key: kind.type_name().into(),
                    value: "attributes".into(),
                    reason: e.to_string(),
                }
            })?
        }
    };
    let mut e = Entity::new(id, geometry, attrs)?;
    e.name = get_str(&p, "name")?.map(str::to_owned);
    e.community = entity_id(&p, "community")?;
    if let Some(t) = p.get("tags") {
        let JsonValue::Object(tags) = t else {
            return Err(bad("tags", t, "expected an object of strings"));
        };
        for (k, v) in tags {
            let JsonValue::String(s) = v else {
                return Err(bad("tags", v, "tag values must be strings"));
            };
            e.tags.insert(k.clone(), s.clone());
        }
    }
    let known_keys: BTreeSet<&str> = COMMON.iter().chain(known(kind)).copied().collect();
    for (k, v) in &p {
        if known_keys.contains(k.as_str()) {
            continue;
        }
        let text = match v {
            JsonValue::String(s) => s.clone(),
            JsonValue::Number(n) => n.to_string(),
            JsonValue::Bool(b) => b.to_string(),
            _ => continue,
        };
        e.tags.entry(k.clone()).or_insert(text);
    }
    Ok(e)
}

/// The `type` tag of [`EntityAttrs`] for a kind.
fn attrs_tag(kind: EntityKind) -> &'static str {
    kind.type_name()
}

/// Fills the documented defaults of missing attribute properties.
fn fill_defaults(
    kind: EntityKind,
    g: &Geometry<f64>,
    p: &mut JsonObject,
) -> Result<(), FeatureError> {
    let set = |p: &mut JsonObject, k: &str, v: JsonValue| {
        if p.get(k).is_none_or(JsonValue::is_null) {
            p.insert(k.to_owned(), v);
        }
    };
    match kind {
        EntityKind::RoadSegment => {
            for k in ["from", "to"] {
                if get_str(p, k)?.is_none() {
                    return Err(FeatureError::MissingProperty(k));
                }
            }
            let class_name = get_str(p, "class")?.unwrap_or("road").to_owned();
            let class = RoadClass::from_osm(&class_name).ok_or_else(|| {
                bad(
                    "class",
                    &JsonValue::from(class_name.as_str()),
                    "not a drivable highway class",
                )
            })?;
            set(p, "class", JsonValue::from(class.as_str()));
            set(p, "lanes", JsonValue::from(class.default_lanes()));
            let lanes = p
                .get("lanes")
                .and_then(JsonValue::as_u64)
                .and_then(|l| u8::try_from(l).ok())
                .ok_or_else(|| bad("lanes", &p["lanes"], "expected a whole number 1-255"))?;
            set(
                p,
                "speed_limit_kmh",
                JsonValue::from(class.default_speed_kmh()),
            );
            set(
                p,
                "capacity_veh_h",
                JsonValue::from(road_capacity_veh_h(class, lanes)),
            );
            set(p, "oneway", JsonValue::from(false));
            let len = match g {
                Geometry::LineString(ls) => geom::length_m(ls),
                Geometry::MultiLineString(m) => m.0.iter().map(geom::length_m).sum(),
                _ => 0.0,
            };
            set(p, "length_m", JsonValue::from(len));
        }
        EntityKind::Intersection => {
            set(p, "signalised", JsonValue::from(false));
            set(p, "signal_nodes", JsonValue::from(0));
            set(p, "boundary", JsonValue::from(false));
        }
        EntityKind::Building => {
            let d = BuildingDefaults::default();
            let use_name = get_str(p, "use")?.unwrap_or("mixed").to_owned();
            let u = BuildingUse::parse(&use_name).ok_or_else(|| {
                bad(
                    "use",
                    &JsonValue::from(use_name.as_str()),
                    "unknown building use",
                )
            })?;
            set(p, "use", JsonValue::from(u.as_str()));
            let footprint = get_f64(p, "footprint_m2")?.unwrap_or_else(|| geom::area_m2(g));
            set(p, "footprint_m2", JsonValue::from(footprint));
            let levels = d.effective_levels(get_f64(p, "levels")?, get_f64(p, "height_m")?);
            let floor = get_f64(p, "floor_area_m2")?.unwrap_or(footprint * levels);
            set(p, "floor_area_m2", JsonValue::from(floor));
            set(
                p,
                "residents_est",
                JsonValue::from(d.residents(floor, u.residential_share())),
            );
        }
        EntityKind::PointOfInterest => {
            if get_str(p, "category")?.is_none() {
                return Err(FeatureError::MissingProperty("category"));
            }
        }
        EntityKind::Community => {
            set(p, "population_est", JsonValue::from(0.0));
            set(p, "source", JsonValue::from("imported"));
        }
        EntityKind::Feeder => {
            set(p, "voltage_kv", JsonValue::from(10.0));
            set(p, "rated_kva", JsonValue::from(0.0));
        }
        EntityKind::Sensor => {}
    }
    Ok(())
}

fn sensor_attrs(
    id: &EntityId,
    g: &Geometry<f64>,
    p: &JsonObject,
) -> Result<EntityAttrs, FeatureError> {
    let Geometry::Point(pt) = g else {
        return Err(FeatureError::BadGeometry("a sensor must be a Point".into()));
    };
    let location = LatLon::new(pt.y(), pt.x())
        .ok_or_else(|| FeatureError::BadGeometry("invalid lon/lat".into()))?;
    let kind_name =
        get_str(p, "sensor_kind")?.ok_or(FeatureError::MissingProperty("sensor_kind"))?;
    let kind = SensorKind::parse(kind_name).ok_or_else(|| {
        bad(
            "sensor_kind",
            &JsonValue::from(kind_name),
            "unknown sensor kind",
        )
    })?;
    let gw_name = get_str(p, "gateway")?.ok_or(FeatureError::MissingProperty("gateway"))?;
    let gateway = GatewayId::new(gw_name)
        .map_err(|e| bad("gateway", &JsonValue::from(gw_name), e.to_string()))?;
    let metrics = match p.get("metrics") {
        None | Some(JsonValue::Null) => Vec::new(),
        Some(JsonValue::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| bad("metrics", v, "expected metric names"))
                    .and_then(|s| Metric::new(s).map_err(|e| bad("metrics", v, e.to_string())))
            })
            .collect::<Result<_, _>>()?,
        Some(v) => return Err(bad("metrics", v, "expected an array of metric names")),
    };
    Ok(EntityAttrs::Sensor(SensorSpec {
        id: SensorId::new(id.as_str()).map_err(FeatureError::BadId)?,
        kind,
        gateway,
        location,
        observes: entity_id(p, "observes")?,
        metrics,
    }))
}
