//! Content negotiation of NGSI-LD responses: `application/json` with the
//! core context in a `Link` header (default), `application/ld+json` with an
//! `@context` member, or `application/geo+json` (a Feature or a
//! FeatureCollection); normalized or key-value (`options=keyValues`).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::model::{CORE_CONTEXT, Entity, key_values, to_feature, with_sys_attrs};

/// How entities are written in a response.
#[derive(Debug, Clone)]
pub struct Repr {
    /// Key-value form (`options=keyValues` or `format=simplified`).
    pub kv: bool,
    /// Add `createdAt`/`modifiedAt` where known (`options=sysAttrs`).
    pub sys: bool,
    /// GeoJSON output (`Accept: application/geo+json`).
    pub geojson: bool,
    /// JSON-LD output (`Accept: application/ld+json`).
    pub ld: bool,
    /// The geometry property of GeoJSON output (`geoproperty`, default `location`).
    pub geoproperty: String,
}

impl Repr {
    /// From the request headers and the `options`, `format` and
    /// `geoproperty` parameters.
    pub fn of(
        headers: &HeaderMap,
        options: Option<&str>,
        format: Option<&str>,
        geoproperty: Option<&str>,
    ) -> Self {
        let accept = headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let opts: Vec<&str> = options.unwrap_or("").split(',').map(str::trim).collect();
        Self {
            kv: opts.contains(&"keyValues")
                || opts.contains(&"simplified")
                || matches!(format, Some("keyValues" | "simplified")),
            sys: opts.contains(&"sysAttrs"),
            geojson: accept.contains("application/geo+json"),
            ld: accept.contains("application/ld+json") && !accept.contains("application/geo+json"),
            geoproperty: geoproperty.unwrap_or("location").to_owned(),
        }
    }

    /// One entity in the requested form (sys attrs added by the caller).
    pub fn entity(&self, e: Entity, sys: Option<(domain::Timestamp, domain::Timestamp)>) -> Value {
        let e = match (self.sys, sys) {
            (true, Some((c, m))) => with_sys_attrs(e, c, m),
            _ => e,
        };
        let mut e = if self.kv { key_values(&e) } else { e };
        if self.geojson {
            return to_feature(&e, &self.geoproperty);
        }
        if self.ld {
            e.insert("@context".into(), CORE_CONTEXT.into());
        }
        Value::Object(e)
    }

    /// The response of one entity or a list of them.
    pub fn respond(&self, status: StatusCode, body: Value, list: bool) -> Response {
        let body = if self.geojson && list {
            json!({"type": "FeatureCollection", "features": body})
        } else {
            body
        };
        let ct = if self.geojson {
            "application/geo+json"
        } else if self.ld {
            "application/ld+json"
        } else {
            "application/json"
        };
        let mut resp = (status, axum::Json(body)).into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        if !self.ld
            && let Ok(v) = HeaderValue::from_str(&format!(
                "<{CORE_CONTEXT}>; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\""
            ))
        {
            h.insert(header::LINK, v);
        }
        resp
    }
}
