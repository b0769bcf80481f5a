//! The OpenAPI document and a self-contained docs page (no external assets:
//! it renders `/openapi.json` with a small inline script, so it works on a
//! closed network).

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::response::{Response as DocResponse, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi, OpenApiBuilder, Ref, RefOr, Tag};

/// Title, version, description, tags and the bearer scheme around the paths
/// collected from the handlers.
pub fn document(paths: OpenApi) -> OpenApi {
    let mut doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("CityBrain API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "City operations: the live twin on H3 cells, sensors, alarms and incidents, \
                     governance indicators, live streams (WebSocket, SSE), and an NGSI-LD core \
                     subset under /ngsi-ld/v1. Errors are RFC 7807 problem details. Reads may be \
                     anonymous when the server allows it; writes need `Authorization: Bearer <token>`.",
                ))
                .build(),
        )
        .build();
    doc.merge(paths);
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("cb_<id>_<secret>")
                .build(),
        ),
    );
    let tags = [
        ("system", "Health, readiness, metrics"),
        ("city", "The city and its live H3 cell aggregates"),
        ("map", "Map layers and the live traffic index"),
        ("sensors", "Sensors, their health and observation history"),
        ("alarms", "Alarms and alarm rules"),
        ("incidents", "Incidents and their lifecycle"),
        ("indicators", "Governance indicators"),
        ("live", "Live streams"),
        (
            "admin",
            "Tokens, dead letters, audit log, broker authentication",
        ),
        ("ngsi-ld", "NGSI-LD (ETSI GS CIM 009) core subset"),
    ];
    add_common_responses(&mut doc);
    doc.tags = Some(
        tags.iter()
            .map(|(n, d)| {
                let mut t = Tag::new(*n);
                t.description = Some((*d).to_owned());
                t
            })
            .collect(),
    );
    doc
}

fn problem(desc: &str) -> DocResponse {
    ResponseBuilder::new()
        .description(desc)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// Documents the responses every guarded operation can give besides its
/// own (the middleware's): 400, 401, 429, 503, and 403/413/415 on writes.
fn add_common_responses(doc: &mut OpenApi) {
    for (path, item) in &mut doc.paths.paths {
        if matches!(path.as_str(), "/health" | "/ready" | "/metrics") {
            continue;
        }
        let ops = [
            (&mut item.get, false),
            (&mut item.put, true),
            (&mut item.post, true),
            (&mut item.delete, true),
            (&mut item.patch, true),
        ];
        for (op, write) in ops {
            let Some(op) = op else { continue };
            let r = &mut op.responses.responses;
            let mut add = |code: &str, desc: &str| {
                r.entry(code.to_owned())
                    .or_insert_with(|| RefOr::T(problem(desc)));
            };
            add("400", "Invalid request: query, path or body");
            add("401", "Missing or invalid bearer token");
            add("429", "Rate limited; see Retry-After");
            add("503", "Database unavailable, or the request timed out");
            if write {
                add("403", "The token's role or scope does not allow it");
                add("413", "Body larger than the limit");
                add("415", "Unsupported Content-Type");
            }
        }
    }
}

/// `GET /openapi.json`.
pub fn openapi_json(json: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        json.to_owned(),
    )
        .into_response()
}

/// `GET /docs`: a page that renders the OpenAPI document.
pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}

const PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CityBrain API</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2733;background:#f6f8fa}
header{background:#14324d;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
main{max-width:1100px;margin:0 auto;padding:16px 24px}
input{width:100%;padding:8px;font-size:14px;box-sizing:border-box;margin:8px 0 16px}
details.op{background:#fff;border:1px solid #d8dee4;border-radius:6px;margin:6px 0}
details.op>summary{cursor:pointer;padding:8px 10px;list-style:none;display:flex;gap:10px;align-items:baseline}
.m{font:600 12px monospace;padding:2px 6px;border-radius:4px;color:#fff;min-width:52px;text-align:center}
.get{background:#1f6feb}.post{background:#1a7f37}.put{background:#9a6700}.patch{background:#8250df}.delete{background:#cf222e}
.p{font-family:monospace}.s{color:#57606a}.body{padding:4px 14px 12px}
table{border-collapse:collapse;width:100%;margin:6px 0}td,th{border-bottom:1px solid #eaeef2;padding:4px 6px;text-align:left;vertical-align:top}
pre{background:#f6f8fa;border:1px solid #eaeef2;padding:8px;overflow:auto;max-height:320px}
h2{margin:22px 0 4px;font-size:16px}.tagd{color:#57606a;margin:0 0 6px}
</style></head><body>
<header><h1>CityBrain API</h1><div id="info"></div></header>
<main><input id="q" placeholder="Filter by path, method or text"><div id="ops">Loading /openapi.json…</div></main>
<script>
"use strict";
const el=(t,a={},...c)=>{const e=document.createElement(t);for(const[k,v]of Object.entries(a))e.setAttribute(k,v);for(const x of c)e.append(x);return e};
function ref(spec,s){if(s&&s.$ref){const n=s.$ref.split("/").pop();return{name:n,schema:(spec.components.schemas||{})[n]}}return{name:null,schema:s}}
function show(spec,s,depth=0){if(!s)return"";if(depth>3)return"…";const r=ref(spec,s);if(r.name&&depth>0)return r.name;s=r.schema||{};
 if(s.type==="object"||s.properties){const o={};for(const[k,v]of Object.entries(s.properties||{}))o[k]=show(spec,v,depth+1);return o}
 if(s.type==="array"||(Array.isArray(s.type)&&s.type.includes("array")))return[show(spec,s.items,depth+1)];
 for(const k of["oneOf","anyOf","allOf"])if(s[k])return s[k].map(x=>show(spec,x,depth+1));
 return Array.isArray(s.type)?s.type.join("|"):(s.type||"any")}
function render(spec){document.getElementById("info").textContent=spec.info.title+" "+spec.info.version+" · OpenAPI "+spec.openapi;
 const byTag={};for(const[path,item]of Object.entries(spec.paths))for(const[m,op]of Object.entries(item)){if(!op||!op.responses)continue;const t=(op.tags||["other"])[0];(byTag[t]=byTag[t]||[]).push([m,path,op])}
 const root=document.getElementById("ops");root.textContent="";
 for(const tag of(spec.tags||[]).map(t=>t.name).concat(Object.keys(byTag)).filter((v,i,a)=>a.indexOf(v)===i&&byTag[v])){
  const d=(spec.tags||[]).find(t=>t.name===tag);root.append(el("h2",{},tag));if(d&&d.description)root.append(el("p",{class:"tagd"},d.description));
  for(const[m,path,op]of byTag[tag]){const det=el("details",{class:"op","data-k":(m+" "+path+" "+(op.summary||"")+" "+(op.description||"")).toLowerCase()});
   det.append(el("summary",{},el("span",{class:"m "+m},m.toUpperCase()),el("span",{class:"p"},path),el("span",{class:"s"},op.summary||"")));
   const b=el("div",{class:"body"});if(op.description)b.append(el("p",{},op.description));
   if(op.parameters&&op.parameters.length){const t=el("table",{},el("tr",{},el("th",{},"parameter"),el("th",{},"in"),el("th",{},"type"),el("th",{},"description")));
    for(const p of op.parameters)t.append(el("tr",{},el("td",{class:"p"},p.name+(p.required?" *":"")),el("td",{},p.in),el("td",{},JSON.stringify(show(spec,p.schema))),el("td",{},p.description||"")));b.append(t)}
   if(op.requestBody){for(const[ct,c]of Object.entries(op.requestBody.content||{})){b.append(el("div",{},"Request body ("+ct+")"),el("pre",{},JSON.stringify(show(spec,c.schema),null,2)));break}}
   const t=el("table",{},el("tr",{},el("th",{},"status"),el("th",{},"description"),el("th",{},"body")));
   for(const[st,r]of Object.entries(op.responses)){const c=Object.entries(r.content||{})[0];t.append(el("tr",{},el("td",{},st),el("td",{},r.description||""),el("td",{},c?c[0]+" "+JSON.stringify(show(spec,c[1].schema)):"")))}
   b.append(t);det.append(b);root.append(det)}}}
fetch("openapi.json").then(r=>r.json()).then(render).catch(e=>{document.getElementById("ops").textContent="Cannot load /openapi.json: "+e});
document.getElementById("q").addEventListener("input",e=>{const v=e.target.value.toLowerCase();for(const d of document.querySelectorAll("details.op"))d.style.display=d.dataset.k.includes(v)?"":"none"});
</script></body></html>
"#;
