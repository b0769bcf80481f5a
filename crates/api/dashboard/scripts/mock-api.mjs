#!/usr/bin/env node
// A stand-in for the CityBrain API (`/api/v1`, `/health`, `/metrics`, live stream) with a
// synthetic city, for developing the dashboard without `citybrain demo` and for the browser
// frame-time benchmark (`--cells 50000`). It follows the contract in README.md; it is a dev tool,
// not a reference implementation. Deterministic: seeded PRNG, no data files.
//
//   node scripts/mock-api.mjs [--port 8080] [--res 9] [--cells N] [--update-fraction 0.1]
//                             [--hz 1] [--lag-every 0] [--static dist]
//
// Tokens printed at start: viewer / operator (district "Kallio" only) / planner / admin.

import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { cellToLatLng, gridDisk, latLngToCell, polygonToCells } from "h3-js";
import { WebSocketServer } from "ws";

// --- arguments ---------------------------------------------------------------------------
const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => {
    if (a.startsWith("--")) acc.push([a.slice(2), all[i + 1] && !all[i + 1].startsWith("--") ? all[i + 1] : "true"]);
    return acc;
  }, []),
);
const PORT = Number(args.port ?? 8080);
const DEFAULT_RES = Number(args.res ?? 9);
const CELL_TARGET = args.cells ? Number(args.cells) : 0;
const UPDATE_FRACTION = Number(args["update-fraction"] ?? 0.1);
const HZ = Number(args.hz ?? 1);
const LAG_EVERY = Number(args["lag-every"] ?? 0);
const STATIC_DIR = args.static ?? null;

// --- deterministic randomness ------------------------------------------------------------
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = mulberry32(7);

// --- the synthetic city (central Helsinki's extent) -------------------------------------------
const BBOX = [24.9, 60.15, 24.99, 60.185];
const CENTER = [(BBOX[0] + BBOX[2]) / 2, (BBOX[1] + BBOX[3]) / 2];
const COMMUNITIES = ["Kallio", "Kamppi", "Kluuvi", "Punavuori", "Töölö", "Sörnäinen"];
const communityOf = (lon, lat) => COMMUNITIES[(Math.floor((lon - BBOX[0]) / 0.03) + 3 * Math.floor((lat - BBOX[1]) / 0.0175)) % COMMUNITIES.length];

const METRICS = [
  { name: "pm25", unit: "µg/m³", description: "Fine particulate matter PM2.5", base: 30, amp: 60 },
  { name: "no2", unit: "µg/m³", description: "Nitrogen dioxide", base: 20, amp: 40 },
  { name: "noise_db", unit: "dB(A)", description: "Equivalent sound level", base: 50, amp: 25 },
  { name: "temperature", unit: "°C", description: "Air temperature", base: 12, amp: 8 },
];

// Roads: a street grid; buildings: blocks between streets.
const roads = [];
const buildings = [];
{
  const nx = 24;
  const ny = 14;
  const dx = (BBOX[2] - BBOX[0]) / nx;
  const dy = (BBOX[3] - BBOX[1]) / ny;
  let id = 0;
  for (let i = 0; i <= nx; i++) {
    const cls = i % 6 === 0 ? "primary" : i % 3 === 0 ? "secondary" : "residential";
    for (let j = 0; j < ny; j++) {
      const x = BBOX[0] + i * dx;
      roads.push(road(`r${id++}`, cls, [[x, BBOX[1] + j * dy], [x + (rnd() - 0.5) * dx * 0.1, BBOX[1] + (j + 1) * dy]]));
    }
  }
  for (let j = 0; j <= ny; j++) {
    const cls = j % 7 === 0 ? "trunk" : j % 2 === 0 ? "tertiary" : "residential";
    for (let i = 0; i < nx; i++) {
      const y = BBOX[1] + j * dy;
      roads.push(road(`r${id++}`, cls, [[BBOX[0] + i * dx, y], [BBOX[0] + (i + 1) * dx, y]]));
    }
  }
  let b = 0;
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) {
      for (let k = 0; k < 6; k++) {
        const x0 = BBOX[0] + i * dx + dx * (0.1 + 0.4 * (k % 2)) + rnd() * dx * 0.05;
        const y0 = BBOX[1] + j * dy + dy * (0.1 + 0.28 * Math.floor(k / 2)) + rnd() * dy * 0.04;
        const w = dx * (0.25 + rnd() * 0.1);
        const hgt = dy * (0.18 + rnd() * 0.06);
        buildings.push({
          type: "Feature",
          geometry: { type: "Polygon", coordinates: [[[x0, y0], [x0 + w, y0], [x0 + w, y0 + hgt], [x0, y0 + hgt], [x0, y0]]] },
          properties: { id: `b${b++}`, use: ["residential", "commercial", "office", "school"][Math.floor(rnd() * 4)], levels: 2 + Math.floor(rnd() * 7) },
        });
      }
    }
  }
}
function road(id, cls, coords) {
  const limit = { trunk: 60, primary: 50, secondary: 40, tertiary: 40, residential: 30 }[cls];
  return { type: "Feature", geometry: { type: "LineString", coordinates: coords }, properties: { id, name: `Street ${id}`, class: cls, lanes: cls === "residential" ? 1 : 2, speed_limit_kmh: limit, speed_kmh: null, flow_veh_h: null, tti: null } };
}
function tickRoads(t) {
  for (const [i, f] of roads.entries()) {
    const p = f.properties;
    if (i % 5 === 4) continue; // no detector: null live speed
    const congestion = 0.5 + 0.5 * Math.sin(t / 60 + i * 0.37);
    p.speed_kmh = Math.round(p.speed_limit_kmh * (0.25 + 0.75 * congestion));
    p.flow_veh_h = Math.round(200 + 800 * (1 - congestion));
    p.tti = +(p.speed_limit_kmh / Math.max(1, p.speed_kmh)).toFixed(2);
  }
}

// Sensors.
const KINDS = ["air_quality", "noise", "traffic_detector", "weather"];
const sensors = Array.from({ length: 220 }, (_, i) => {
  const lon = BBOX[0] + rnd() * (BBOX[2] - BBOX[0]);
  const lat = BBOX[1] + rnd() * (BBOX[3] - BBOX[1]);
  const r = rnd();
  return { id: `s${String(i).padStart(4, "0")}`, kind: KINDS[i % KINDS.length], lon, lat, status: r < 0.85 ? "online" : r < 0.94 ? "stale" : "offline", flags: r > 0.97 ? ["out_of_range"] : [] };
});

// Cells per (metric, res): a smooth field plus drift.
const cellSets = new Map();
function cellsFor(metric, res) {
  const key = `${metric}@${res}`;
  let set = cellSets.get(key);
  if (set) return set;
  let ids;
  if (CELL_TARGET > 0) {
    const center = latLngToCell(CENTER[1], CENTER[0], res);
    let k = 1;
    while (3 * k * (k + 1) + 1 < CELL_TARGET) k++;
    ids = gridDisk(center, k).slice(0, CELL_TARGET);
  } else {
    const ring = [[BBOX[1], BBOX[0]], [BBOX[1], BBOX[2]], [BBOX[3], BBOX[2]], [BBOX[3], BBOX[0]], [BBOX[1], BBOX[0]]];
    ids = polygonToCells(ring, res);
  }
  const m = METRICS.find((x) => x.name === metric) ?? METRICS[0];
  const cells = ids.map((id, i) => {
    const [lat, lon] = cellToLatLng(id);
    const phase = Math.sin(lon * 90) * Math.cos(lat * 120);
    const v = m.base + m.amp * (0.5 + 0.5 * phase) * (0.8 + 0.4 * rnd());
    return { id, lat, lon, mean: v, count: 10 + Math.floor(rnd() * 50), min: v * 0.7, max: v * 1.4, last: v, i };
  });
  set = { metric: m, res, cells, seq: 0 };
  cellSets.set(key, set);
  return set;
}
const round = (v) => Math.round(v * 100) / 100;
const compactRow = (c) => [c.id, round(c.mean), c.count, round(c.min), round(c.max), round(c.last)];
/** Advances a cell set one tick; returns the changed cells. */
function tickCells(set) {
  const changed = [];
  const n = set.cells.length;
  const k = Math.max(1, Math.round(n * UPDATE_FRACTION));
  const start = (set.seq * k) % n;
  set.seq++;
  for (let j = 0; j < k; j++) {
    const c = set.cells[(start + j) % n];
    const drift = (rnd() - 0.5) * set.metric.amp * 0.3;
    c.last = Math.max(0, c.mean + drift);
    c.mean = Math.max(0, c.mean * 0.9 + c.last * 0.1 + (rnd() - 0.5) * set.metric.amp * 0.15);
    c.count++;
    c.min = Math.min(c.min, c.last);
    c.max = Math.max(c.max, c.last);
    changed.push(c);
  }
  return changed;
}

// --- auth ----------------------------------------------------------------------------------
const TOKENS = {
  "viewer-demo-token": { role: "viewer", district: null },
  "operator-demo-token": { role: "operator", district: "Kallio" },
  "planner-demo-token": { role: "planner", district: null },
  "admin-demo-token": { role: "admin", district: null },
};
function principal(req) {
  const h = req.headers.authorization ?? "";
  const m = /^Bearer\s+(.+)$/i.exec(h);
  const url = new URL(req.url, "http://x");
  const token = m ? m[1].trim() : url.searchParams.get("access_token");
  if (!token) return { anonymous: true };
  const p = TOKENS[token];
  return p ? { ...p, token } : { invalid: true };
}

// --- alarms and incidents ------------------------------------------------------------------
const now = () => Date.now();
const iso = (ms) => new Date(ms).toISOString();
const alarms = [];
const incidents = [];
let alarmSeq = 0;
let incidentSeq = 0;
const INCIDENT_TYPES = ["air_pollution", "noise_complaint", "road_damage", "waste", "water_leak", "illegal_parking"];
function newIncident(source, at, extra = {}) {
  const s = sensors[Math.floor(rnd() * sensors.length)];
  const priority = ["P1", "P2", "P3", "P4"][Math.floor(rnd() * 4)];
  const slaMin = { P1: 60, P2: 240, P3: 1440, P4: 4320 }[priority];
  const type = INCIDENT_TYPES[Math.floor(rnd() * INCIDENT_TYPES.length)];
  const inc = {
    id: `INC-${String(++incidentSeq).padStart(5, "0")}`,
    type,
    priority,
    state: "REPORTED",
    community: communityOf(s.lon, s.lat),
    location: { lat: s.lat, lon: s.lon },
    team: null,
    sla_due: iso(at + slaMin * 60e3),
    created_at: iso(at),
    source,
    title: `${type.replace(/_/g, " ")} near ${s.id}`,
    audit: [{ at: iso(at), actor: source === "alarm" ? "rule-engine" : "citizen", action: "report", from: null, to: "REPORTED", note: null }],
    ...extra,
  };
  incidents.push(inc);
  return inc;
}
function newAlarm(at) {
  const s = sensors.filter((x) => x.kind === "air_quality")[Math.floor(rnd() * 50)] ?? sensors[0];
  const a = {
    id: `AL-${String(++alarmSeq).padStart(5, "0")}`,
    rule_id: "pm25_high_10min",
    rule_name: "PM2.5 > 75 µg/m³ for 10 min",
    severity: rnd() < 0.3 ? "critical" : "warning",
    state: "open",
    sensor: s.id,
    entity: null,
    cell: latLngToCell(s.lat, s.lon, 9),
    metric: "pm25",
    value: round(76 + rnd() * 60),
    threshold: 75,
    opened_at: iso(at),
    incident_id: null,
  };
  const inc = newIncident("alarm", at, { type: "air_pollution", title: `${a.rule_name} at ${s.id}`, location: { lat: s.lat, lon: s.lon }, community: communityOf(s.lon, s.lat) });
  a.incident_id = inc.id;
  alarms.push(a);
  return { alarm: a, incident: inc };
}
for (let i = 0; i < 14; i++) newIncident(i % 3 === 0 ? "api" : "citizen", now() - (i + 1) * 37 * 60e3);
for (let i = 0; i < 5; i++) newAlarm(now() - i * 11 * 60e3);
// Guarantee one incident per lifecycle stage in the operator's district.
incidents[0].community = "Kallio";
incidents[1].community = "Kallio";
incidents[1].state = "DISPATCHED";
incidents[1].team = "grid-team-3";

const TRANSITIONS = {
  dispatch: [["REPORTED", "ESCALATED", "REOPENED"], "DISPATCHED"],
  start: [["DISPATCHED", "ESCALATED", "REOPENED"], "IN_PROGRESS"],
  resolve: [["IN_PROGRESS"], "RESOLVED"],
  close: [["RESOLVED"], "CLOSED"],
  escalate: [["REPORTED", "DISPATCHED", "IN_PROGRESS", "REOPENED"], "ESCALATED"],
  reopen: [["RESOLVED", "CLOSED"], "REOPENED"],
};
function incidentMetrics() {
  const durations = (pick) => incidents.map(pick).filter((v) => v !== null).sort((a, b) => a - b);
  const stats = (v) => (v.length ? { mean: v.reduce((a, b) => a + b, 0) / v.length, p50: v[Math.floor(0.5 * (v.length - 1))], p90: v[Math.floor(0.9 * (v.length - 1))] } : { mean: null, p50: null, p90: null });
  const at = (inc, to) => {
    const e = inc.audit.find((x) => x.to === to);
    return e ? Date.parse(e.at) : null;
  };
  const resp = durations((i) => (at(i, "DISPATCHED") ? (at(i, "DISPATCHED") - Date.parse(i.created_at)) / 1000 : null));
  const resol = durations((i) => (at(i, "RESOLVED") ? (at(i, "RESOLVED") - Date.parse(i.created_at)) / 1000 : null));
  const closed = incidents.filter((i) => i.state === "CLOSED" || i.state === "RESOLVED");
  const onTime = closed.filter((i) => (at(i, "RESOLVED") ?? Infinity) <= Date.parse(i.sla_due)).length;
  const open = incidents.filter((i) => i.state !== "CLOSED" && i.state !== "RESOLVED");
  return {
    response_time_s: stats(resp),
    resolution_time_s: stats(resol),
    on_time_closure_rate: closed.length ? onTime / closed.length : null,
    closure_rate: incidents.length ? closed.length / incidents.length : null,
    backlog: open.length,
    overdue: open.filter((i) => Date.parse(i.sla_due) < now()).length,
  };
}

// --- indicators, traffic, scenarios --------------------------------------------------------------
const PILLARS = [
  ["digital_foundation", "数字基础", "Digital foundation", [["data_system", "数据体系", "Data system"], ["it", "信息技术", "Information technology"], ["blockchain", "区块链应用", "Blockchain applications"]]],
  ["smart_governance", "智慧治理", "Smart governance", [["governance_system", "治理体系", "Governance system"], ["city_operation", "城市运行", "City operation"]]],
  ["smart_livelihood", "智慧民生", "Smart livelihood", [["gov_services", "政务服务", "Government services"], ["public_services", "民生服务", "Public services"]]],
  ["digital_economy", "数字经济", "Digital economy", [["digital_industrialisation", "数字产业化", "Digital industrialisation"], ["industrial_digitalisation", "产业数字化", "Industrial digitalisation"]]],
  ["digital_citizens", "数字市民", "Digital citizens", [["digital_identity", "数字身份", "Digital identity"], ["digital_literacy", "数字素养", "Digital literacy"]]],
  ["smart_environment", "智慧环境", "Smart environment", [["trust", "信赖指数", "Trust index"], ["vitality", "智慧活力", "Smart vitality"], ["low_carbon", "低碳", "Low carbon"]]],
];
const indicatorHistory = [];
function indicators() {
  const m = incidentMetrics();
  const online = sensors.filter((s) => s.status === "online").length / sensors.length;
  const pillars = PILLARS.map(([id, zh, en, kids], pi) => {
    const children = kids.map(([cid, czh, cen], ci) => {
      let v = 0.35 + 0.1 * ((pi * 3 + ci * 7) % 5);
      if (cid === "data_system") v = online;
      if (cid === "governance_system") v = m.on_time_closure_rate ?? 0.5;
      if (cid === "low_carbon") v = 0.42;
      return { id: cid, name_zh: czh, name_en: cen, score_rate: round(v * 1000) / 1000, children: [] };
    });
    const score = children.reduce((a, c) => a + c.score_rate, 0) / children.length;
    return { id, name_zh: zh, name_en: en, score_rate: Math.round(score * 1000) / 1000, children };
  });
  const composite = pillars.reduce((a, p) => a + p.score_rate, 0) / pillars.length;
  return { profile: "cn_smart_city_six_pillars", composite: Math.round(composite * 1000) / 1000, pillars, coverage: 0.78, confidence: 0.9, as_of: iso(now()) };
}
const scenarioRuns = new Map();
let runSeq = 0;
const SCENARIO_KPIS = {
  traffic: { avg_travel_time_s: 412, mean_delay_s: 128, completed_trips: 2861, vkt_km: 10450, co2_kg: 1890 },
  community: { on_time_closure_rate: 0.91, resolution_time_p90_s: 14400, backlog: 37, utilisation: 0.72 },
  energy: { peak_demand_kw: 412, losses_kwh: 96, pv_yield_kwh: 0, co2_kg: 5120, max_trafo_loading_pct: 78 },
};
function runScenario(engine, preset) {
  const id = `run-${++runSeq}`;
  const started = now();
  const run = { id, engine, preset, started, status: "queued" };
  scenarioRuns.set(id, run);
  return run;
}
function scenarioView(run) {
  const elapsed = (now() - run.started) / 1000;
  const dur = 4;
  if (elapsed < 0.5) return { id: run.id, engine: run.engine, status: "queued", progress: 0 };
  if (elapsed < dur) return { id: run.id, engine: run.engine, status: "running", progress: Math.min(0.99, (elapsed - 0.5) / (dur - 0.5)) };
  const baseline = SCENARIO_KPIS[run.engine];
  const f = run.preset.includes("1.2") || run.preset.includes("surge") ? 1.18 : run.preset.includes("pv") || run.preset.includes("battery") ? 0.86 : 1.07;
  const variant = Object.fromEntries(Object.entries(baseline).map(([k, v]) => [k, k === "pv_yield_kwh" ? 830 : round(v * f)]));
  const deltas = Object.keys(baseline).map((k) => ({ kpi: k, baseline: baseline[k], variant: variant[k], delta: round(variant[k] - baseline[k]), relative: baseline[k] ? (variant[k] - baseline[k]) / Math.abs(baseline[k]) : null }));
  return { id: run.id, engine: run.engine, status: "done", progress: 1, baseline, variant, deltas };
}

// --- observations --------------------------------------------------------------------------
function observations(sensorId, metric, from, to, rollup) {
  const s = sensors.find((x) => x.id === sensorId);
  if (!s) return null;
  const m = METRICS.find((x) => x.name === metric) ?? METRICS[0];
  const step = rollup === "raw" ? 60e3 : rollup === "minute" ? 60e3 : 3600e3;
  const points = [];
  const seed = parseInt(sensorId.slice(1), 10);
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    const v = m.base + m.amp * (0.5 + 0.4 * Math.sin(t / 3.6e6 + seed) + 0.1 * Math.sin(t / 7e5 + seed * 3));
    if (rollup === "raw") points.push([t, round(v)]);
    else points.push([t, rollup === "minute" ? 6 : 360, round(v), round(v * 0.85), round(v * 1.2)]);
  }
  return { sensor: sensorId, metric: m.name, unit: m.unit, points };
}

// --- HTTP ----------------------------------------------------------------------------------
let obsTotal = 0;
let deadLetters = 3;
function send(res, status, body, type = "application/json") {
  const data = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  res.end(data);
}
function problem(res, status, title, detail) {
  send(res, status, { type: `/problems/${title.toLowerCase().replace(/\s+/g, "-")}`, title, status, detail }, "application/problem+json");
}
function parseBbox(s) {
  if (!s) return BBOX;
  const b = s.split(",").map(Number);
  return b.length === 4 && b.every(Number.isFinite) ? b : null;
}
const inBbox = (b, lon, lat) => lon >= b[0] && lon <= b[2] && lat >= b[1] && lat <= b[3];
async function readBody(req) {
  let data = "";
  for await (const chunk of req) {
    data += chunk;
    if (data.length > 65536) throw new Error("too large");
  }
  return data ? JSON.parse(data) : {};
}

const MIME = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".json": "application/json" };

const server = createServer(async (req, res) => {
  const url = new URL(req.url, "http://localhost");
  const p = url.pathname;
  const q = url.searchParams;
  try {
    if (p === "/health") return send(res, 200, { status: "ok" });
    if (p === "/ready") return send(res, 200, { status: "ready" });
    if (p === "/metrics")
      return send(res, 200, `# TYPE ingest_observations_total counter\ningest_observations_total{source="mqtt"} ${obsTotal}\n# TYPE ingest_dead_letters_total counter\ningest_dead_letters_total ${deadLetters}\n`, "text/plain; version=0.0.4");
    if (p.startsWith("/api/v1/")) {
      const who = principal(req);
      if (who.invalid) return problem(res, 401, "Unauthorized", "The bearer token is not valid.");
      if (p === "/api/v1/city")
        return send(res, 200, { name: "Helsinki (mock)", bbox: BBOX, center: CENTER, attribution: "© OpenStreetMap contributors", counts: { entities: roads.length + buildings.length, sensors: sensors.length, dead_letters: deadLetters }, metrics: METRICS.map(({ name, unit, description }) => ({ name, unit, description })) });
      if (p === "/api/v1/map/roads") {
        const b = parseBbox(q.get("bbox"));
        if (!b) return problem(res, 400, "Bad Request", "bbox must be minLon,minLat,maxLon,maxLat");
        return send(res, 200, { type: "FeatureCollection", features: roads.filter((f) => f.geometry.coordinates.some(([x, y]) => inBbox(b, x, y))) });
      }
      if (p === "/api/v1/map/buildings") {
        const b = parseBbox(q.get("bbox"));
        if (!b) return problem(res, 400, "Bad Request", "bbox must be minLon,minLat,maxLon,maxLat");
        return send(res, 200, { type: "FeatureCollection", features: buildings.filter((f) => inBbox(b, ...f.geometry.coordinates[0][0])) });
      }
      if (p === "/api/v1/sensors") {
        const b = parseBbox(q.get("bbox"));
        if (!b) return problem(res, 400, "Bad Request", "bbox must be minLon,minLat,maxLon,maxLat");
        const kind = q.get("kind");
        const feats = sensors
          .filter((s) => inBbox(b, s.lon, s.lat) && (!kind || s.kind === kind))
          .map((s) => ({ type: "Feature", geometry: { type: "Point", coordinates: [s.lon, s.lat] }, properties: { id: s.id, kind: s.kind, status: s.status, flags: s.flags, last_seen: iso(now() - (s.status === "online" ? 20e3 : 40 * 60e3)), latest: latestOf(s) } }));
        return send(res, 200, { type: "FeatureCollection", features: feats });
      }
      if (p === "/api/v1/cells") {
        const res9 = Number(q.get("res") ?? DEFAULT_RES);
        if (!(res9 >= 0 && res9 <= 15)) return problem(res, 400, "Bad Request", `res must be 0..15, got ${q.get("res")}`);
        const metric = q.get("metric") ?? "pm25";
        if (!METRICS.some((m) => m.name === metric)) return problem(res, 404, "Not Found", `unknown metric ${metric}`);
        const set = cellsFor(metric, res9);
        if (q.get("format") === "geojson") return problem(res, 501, "Not Implemented", "the mock serves format=compact only");
        return send(res, 200, { res: res9, metric, unit: set.metric.unit, cells: set.cells.map(compactRow) });
      }
      if (p === "/api/v1/observations") {
        const to = q.get("to") ? Date.parse(q.get("to")) : now();
        const from = q.get("from") ? Date.parse(q.get("from")) : to - 3600e3;
        const o = observations(q.get("sensor") ?? "", q.get("metric") ?? "pm25", from, to, q.get("rollup") ?? "raw");
        return o ? send(res, 200, o) : problem(res, 404, "Not Found", `unknown sensor ${q.get("sensor")}`);
      }
      if (p === "/api/v1/alarms") return send(res, 200, alarms.filter((a) => !q.get("state") || a.state === q.get("state")));
      const ack = /^\/api\/v1\/alarms\/([^/]+)\/ack$/.exec(p);
      if (ack && req.method === "POST") {
        if (who.anonymous) return problem(res, 401, "Unauthorized", "Writing needs a bearer token.");
        if (who.role === "viewer") return problem(res, 403, "Forbidden", "Role viewer cannot acknowledge alarms.");
        const a = alarms.find((x) => x.id === decodeURIComponent(ack[1]));
        if (!a) return problem(res, 404, "Not Found", `no alarm ${ack[1]}`);
        a.state = "acknowledged";
        broadcast({ type: "alarm", ...a });
        return send(res, 200, a);
      }
      if (p === "/api/v1/incidents/metrics") return send(res, 200, incidentMetrics());
      if (p === "/api/v1/incidents") return send(res, 200, incidents.filter((i) => (!q.get("state") || i.state === q.get("state")) && (!q.get("community") || i.community === q.get("community"))));
      const tr = /^\/api\/v1\/incidents\/([^/]+)\/transition$/.exec(p);
      if (tr && req.method === "POST") {
        if (who.anonymous) return problem(res, 401, "Unauthorized", "Writing needs a bearer token.");
        const inc = incidents.find((x) => x.id === decodeURIComponent(tr[1]));
        if (!inc) return problem(res, 404, "Not Found", `no incident ${tr[1]}`);
        if (who.role === "viewer" || who.role === "planner") return problem(res, 403, "Forbidden", `Role ${who.role} cannot change incidents.`);
        if (who.role === "operator" && who.district && inc.community !== who.district) return problem(res, 403, "Forbidden", `Operator of ${who.district} cannot change an incident in ${inc.community}.`);
        const body = await readBody(req);
        const rule = TRANSITIONS[body.action];
        if (!rule) return problem(res, 422, "Unprocessable Entity", `unknown action ${body.action}`);
        if (!rule[0].includes(inc.state)) return problem(res, 409, "Conflict", `cannot ${body.action} an incident in state ${inc.state}`);
        const from = inc.state;
        inc.state = rule[1];
        if (body.team) inc.team = body.team;
        inc.audit.push({ at: iso(now()), actor: who.role, action: body.action, from, to: inc.state, note: body.note ?? null });
        broadcast({ ...inc, type: "incident", incident_type: inc.type });
        return send(res, 200, inc);
      }
      if (p === "/api/v1/indicators") return send(res, 200, indicators());
      if (p === "/api/v1/indicators/history") return send(res, 200, { points: indicatorHistory });
      if (p === "/api/v1/traffic/live") {
        const ttis = roads.map((r) => r.properties.tti).filter((v) => v);
        const tti = ttis.reduce((a, b) => a + b, 0) / ttis.length;
        const tpi = Math.min(10, Math.max(0, (tti - 1) * 5));
        const level = tpi < 2 ? "畅通 smooth" : tpi < 4 ? "基本畅通 basically smooth" : tpi < 6 ? "轻度拥堵 light" : tpi < 8 ? "中度拥堵 moderate" : "严重拥堵 severe";
        return send(res, 200, { tti: round(tti), tpi: round(tpi), level, by_community: COMMUNITIES.map((c, i) => ({ community: c, tti: round(tti * (0.9 + 0.05 * i)), tpi: round(tpi * (0.9 + 0.05 * i)), level: null })) });
      }
      if (p === "/api/v1/scenarios" && req.method === "POST") {
        if (who.anonymous) return problem(res, 401, "Unauthorized", "Running scenarios needs a bearer token.");
        if (who.role !== "planner" && who.role !== "admin") return problem(res, 403, "Forbidden", `Role ${who.role} cannot run scenarios.`);
        const body = await readBody(req);
        if (!SCENARIO_KPIS[body.engine]) return problem(res, 422, "Unprocessable Entity", `unknown engine ${body.engine}`);
        const run = runScenario(body.engine, String(body.preset ?? ""));
        return send(res, 202, { id: run.id, status: "queued" });
      }
      const sc = /^\/api\/v1\/scenarios\/([^/]+)$/.exec(p);
      if (sc) {
        const run = scenarioRuns.get(decodeURIComponent(sc[1]));
        return run ? send(res, 200, scenarioView(run)) : problem(res, 404, "Not Found", `no scenario run ${sc[1]}`);
      }
      if (p === "/api/v1/stream/sse") return sse(req, res, url);
      return problem(res, 404, "Not Found", `no route ${p}`);
    }
    if (STATIC_DIR && req.method === "GET") {
      const rel = normalize(p === "/" ? "/index.html" : p).replace(/^(\.\.[/\\])+/, "");
      try {
        const data = await readFile(join(STATIC_DIR, rel));
        res.writeHead(200, { "content-type": MIME[extname(rel)] ?? "application/octet-stream" });
        return res.end(data);
      } catch {
        // fall through
      }
    }
    problem(res, 404, "Not Found", `no route ${p}`);
  } catch (e) {
    problem(res, 500, "Internal Server Error", String(e));
  }
});
function latestOf(s) {
  const t = now();
  const v = (m) => round(m.base + m.amp * (0.5 + 0.4 * Math.sin(t / 3.6e6 + parseInt(s.id.slice(1), 10))));
  if (s.kind === "air_quality") return { pm25: v(METRICS[0]), no2: v(METRICS[1]) };
  if (s.kind === "noise") return { noise_db: v(METRICS[2]) };
  if (s.kind === "weather") return { temperature: v(METRICS[3]) };
  return { flow_veh_h: 400 + (parseInt(s.id.slice(1), 10) % 300) };
}

// --- live stream -----------------------------------------------------------------------------
/** Subscribers: { send(text), metric, res, types:Set, sent } */
const subscribers = new Set();
function subscribe(url, sendFn) {
  const types = new Set((url.searchParams.get("types") ?? "cells,alarms,incidents").split(","));
  const sub = { send: sendFn, metric: url.searchParams.get("metric") ?? "pm25", res: Number(url.searchParams.get("res") ?? DEFAULT_RES), types, sent: 0 };
  subscribers.add(sub);
  cellsFor(sub.metric, sub.res);
  return sub;
}
function broadcast(msg) {
  const kind = msg.type === "alarm" ? "alarms" : msg.type === "incident" ? "incidents" : msg.type;
  const text = JSON.stringify(msg);
  for (const s of subscribers) if (s.types.has(kind)) s.send(text);
}
function sse(req, res, url) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
  res.write(": connected\n\n");
  const sub = subscribe(url, (text) => res.write(`data: ${text}\n\n`));
  req.on("close", () => subscribers.delete(sub));
}
const wss = new WebSocketServer({ noServer: true });
server.on("upgrade", (req, socket, head) => {
  const url = new URL(req.url, "http://localhost");
  if (url.pathname !== "/api/v1/stream") return socket.destroy();
  wss.handleUpgrade(req, socket, head, (ws) => {
    const sub = subscribe(url, (text) => ws.readyState === 1 && ws.send(text));
    ws.on("close", () => subscribers.delete(sub));
  });
});

let tick = 0;
setInterval(() => {
  tick++;
  tickRoads(tick);
  obsTotal += 1800 + Math.floor(rnd() * 400);
  if (tick % 97 === 0) deadLetters++;
  // One cell tick per (metric, res) that someone watches.
  const changed = new Map();
  for (const s of subscribers) {
    const key = `${s.metric}@${s.res}`;
    if (!changed.has(key)) changed.set(key, JSON.stringify({ type: "cells", res: s.res, metric: s.metric, cells: tickCells(cellsFor(s.metric, s.res)).map(compactRow) }));
  }
  for (const s of subscribers) {
    if (!s.types.has("cells")) continue;
    s.sent++;
    if (LAG_EVERY > 0 && s.sent % LAG_EVERY === 0) {
      s.send(JSON.stringify({ type: "lagged", missed: 3 }));
      continue;
    }
    s.send(changed.get(`${s.metric}@${s.res}`));
  }
  if (tick % 30 === 0) {
    const { alarm, incident } = newAlarm(now());
    broadcast({ type: "alarm", ...alarm });
    broadcast({ ...incident, type: "incident", incident_type: incident.type });
  }
  if (tick % 10 === 0) {
    indicatorHistory.push([now(), indicators().composite]);
    if (indicatorHistory.length > 96) indicatorHistory.shift();
  }
}, 1000 / HZ);

server.listen(PORT, "127.0.0.1", () => {
  console.log(`mock CityBrain API on http://127.0.0.1:${PORT} (res ${DEFAULT_RES}${CELL_TARGET ? `, ${CELL_TARGET} cells` : ""}, update fraction ${UPDATE_FRACTION}, ${HZ} Hz)`);
  for (const [t, p] of Object.entries(TOKENS)) console.log(`  token ${p.role}${p.district ? ` (district ${p.district})` : ""}: ${t}`);
});
