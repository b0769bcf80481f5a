//! Writing entities as GeoJSON, in the format [`import::geojson`] reads
//! (see `docs/specs/city-import.md`).
//!
//! [`import::geojson`]: crate::import::geojson

use geojson::{Feature, FeatureCollection, JsonObject, JsonValue};

use crate::entity::{Entity, EntityAttrs};

/// One entity as a GeoJSON feature: `id` is the entity id; `properties`
/// hold `kind`, `name`, `community`, `tags` and the kind's attributes.
pub fn feature(e: &Entity) -> Feature {
    let mut props = JsonObject::new();
    props.insert("kind".into(), JsonValue::from(e.kind.type_name()));
    if let Some(n) = &e.name {
        props.insert("name".into(), JsonValue::from(n.as_str()));
    }
    if let Some(c) = &e.community {
        props.insert("community".into(), JsonValue::from(c.as_str()));
    }
    if !e.tags.is_empty() {
        let tags: JsonObject = e
            .tags
            .iter()
            .map(|(k, v)| (k.clone(), JsonValue::from(v.as_str())))
            .collect();
        props.insert("tags".into(), JsonValue::Object(tags));
    }
    match &e.attrs {
        EntityAttrs::Sensor(spec) => {
            props.insert("sensor_kind".into(), JsonValue::from(spec.kind.as_str()));
            props.insert("gateway".into(), JsonValue::from(spec.gateway.as_str()));
            props.insert(
                "metrics".into(),
                JsonValue::Array(
                    spec.metrics
                        .iter()
                        .map(|m| JsonValue::from(m.as_str()))
                        .collect(),
                ),
            );
            if let Some(o) = &spec.observes {
                props.insert("observes".into(), JsonValue::from(o.as_str()));
            }
        }
        attrs => {
            if let Ok(JsonValue::Object(fields)) = serde_json::to_value(attrs) {
                for (k, v) in fields {
                    if k != "type" && !v.is_null() {
                        props.insert(k, v);
                    }
                }
            }
        }
    }
    Feature {
        bbox: None,
        geometry: Some(geojson::Geometry::from(&e.geometry)),
        id: Some(geojson::feature::Id::String(e.id.to_string())),
        properties: Some(props),
        foreign_members: None,
    }
}

/// Entities as a GeoJSON FeatureCollection, in the order given.
pub fn geojson<'a>(entities: impl IntoIterator<Item = &'a Entity>) -> String {
    let fc = FeatureCollection {
        bbox: None,
        features: entities.into_iter().map(feature).collect(),
        foreign_members: None,
    };
    fc.to_string()
}

/// A geometry as GeoJSON text (for a store's geometry column).
pub fn geometry(g: &geo::Geometry<f64>) -> String {
    geojson::Geometry::from(g).to_string()
}
