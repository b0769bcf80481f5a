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
/** --no-energy: answer 404 on /api/v1/energy/feeders (a server without the energy model). */
const NO_ENERGY = "no-energy" in args;

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

// --- scenarios: POST/GET/DELETE /api/v1/scenarios, GET /api/v1/scenarios/{id}/map ------------
// Runs are queued for 0.6 s, then run for ~3 s through the phases baseline → variant → compare;
// the KPIs are a deterministic function of (engine, seed, horizon, variant), so the numbers move
// the way the what-if says (closures slow traffic down, PV raises the yield, ...). A run whose
// name contains "fail" fails after 1 s of running (to see the failed state).
const SCENARIO_MAX_ACTIVE = 8;
const SCENARIO_DEFAULT_HORIZON = { traffic: 3600, community: 604800, energy: 86400 };
const SCENARIO_MAX_HORIZON = { traffic: 86400, community: 30 * 86400, energy: 7 * 86400 };
const SCENARIO_QUEUE_S = 0.6;
const SCENARIO_RUN_S = { traffic: 3.5, community: 3, energy: 3 };
const VARIANT_FIELDS = {
  traffic: ["closures", "capacity", "demand_scale", "signal_cycle_s"],
  community: ["surge", "staff_delta", "sla_factor"],
  energy: ["pv_kwp_per_building", "ev_chargers", "battery_kwh", "demand_growth"],
};
const roadById = new Map(roads.map((r) => [r.properties.id, r]));
const scenarioRuns = new Map();
let runSeq = 0;

class Invalid extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}
const isNum = (v) => typeof v === "number" && Number.isFinite(v);
function checkNum(path, v, { min = -Infinity, max = Infinity, gt, integer = false } = {}) {
  if (!isNum(v)) throw new Invalid(400, `${path}: expected a number, got ${JSON.stringify(v)}`);
  if (integer && !Number.isInteger(v)) throw new Invalid(400, `${path}: expected a whole number, got ${v}`);
  if (gt !== undefined && !(v > gt)) throw new Invalid(400, `${path}: must be greater than ${gt}, got ${v}`);
  if (v < min) throw new Invalid(400, `${path}: must be at least ${min}, got ${v}`);
  if (v > max) throw new Invalid(400, `${path}: must be at most ${max}, got ${v}`);
  return v;
}
function checkWindow(path, w, horizon) {
  const from = w.from_s === undefined ? 0 : checkNum(`${path}.from_s`, w.from_s, { min: 0 });
  const to = w.to_s === undefined ? horizon : checkNum(`${path}.to_s`, w.to_s, { min: 0, max: horizon });
  if (!(to > from)) throw new Invalid(400, `${path}.to_s: must be greater than from_s (${from})`);
  return { from_s: from, to_s: to };
}
function checkList(path, v) {
  if (!Array.isArray(v)) throw new Invalid(400, `${path}: expected an array`);
  return v.map((x, i) => {
    if (!x || typeof x !== "object") throw new Invalid(400, `${path}[${i}]: expected an object`);
    return x;
  });
}
function checkRoad(path, id) {
  if (typeof id !== "string" || !roadById.has(id)) throw new Invalid(422, `${path}: unknown road ${JSON.stringify(id)}`);
  return id;
}
/** Validates a POST body as the contract says; returns the normalised request or throws Invalid. */
function validateScenario(body) {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new Invalid(400, "the body must be a JSON object");
  const name = typeof body.name === "string" ? body.name.trim() : "";
  if (!name || name.length > 200) throw new Invalid(422, `name: required, 1..200 characters`);
  const engine = body.engine;
  if (!VARIANT_FIELDS[engine]) throw new Invalid(422, `engine: unknown engine ${JSON.stringify(engine)} (traffic, community or energy)`);
  const seed = body.seed === undefined ? 1 : checkNum("seed", body.seed, { min: 0, integer: true });
  const horizon = body.horizon_s === undefined ? SCENARIO_DEFAULT_HORIZON[engine] : checkNum("horizon_s", body.horizon_s, { gt: 0, max: SCENARIO_MAX_HORIZON[engine], integer: true });
  const v = body.variant ?? {};
  if (typeof v !== "object" || Array.isArray(v)) throw new Invalid(400, "variant: expected an object");
  for (const k of Object.keys(v)) if (!VARIANT_FIELDS[engine].includes(k)) throw new Invalid(422, `variant.${k}: not a ${engine} what-if (${VARIANT_FIELDS[engine].join(", ")})`);
  const out = {};
  if (engine === "traffic") {
    if (v.closures !== undefined) out.closures = checkList("variant.closures", v.closures).map((c, i) => ({ road: checkRoad(`variant.closures[${i}].road`, c.road), ...checkWindow(`variant.closures[${i}]`, c, horizon) }));
    if (v.capacity !== undefined)
      out.capacity = checkList("variant.capacity", v.capacity).map((c, i) => ({ road: checkRoad(`variant.capacity[${i}].road`, c.road), factor: checkNum(`variant.capacity[${i}].factor`, c.factor, { min: 0, max: 1 }), ...checkWindow(`variant.capacity[${i}]`, c, horizon) }));
    if (v.demand_scale !== undefined) out.demand_scale = checkNum("variant.demand_scale", v.demand_scale, { gt: 0, max: 10 });
    if (v.signal_cycle_s !== undefined) out.signal_cycle_s = checkNum("variant.signal_cycle_s", v.signal_cycle_s, { min: 10, max: 600 });
  } else if (engine === "community") {
    if (v.surge !== undefined)
      out.surge = checkList("variant.surge", v.surge).map((s, i) => {
        if (typeof s.type !== "string" || !(s.type === "*" || INCIDENT_TYPES.includes(s.type))) throw new Invalid(422, `variant.surge[${i}].type: unknown incident type ${JSON.stringify(s.type)}`);
        return { type: s.type, factor: checkNum(`variant.surge[${i}].factor`, s.factor, { gt: 0, max: 100 }), ...checkWindow(`variant.surge[${i}]`, s, horizon) };
      });
    if (v.staff_delta !== undefined) out.staff_delta = checkNum("variant.staff_delta", v.staff_delta, { min: -1000, max: 1000, integer: true });
    if (v.sla_factor !== undefined) out.sla_factor = checkNum("variant.sla_factor", v.sla_factor, { gt: 0, max: 10 });
  } else {
    if (v.pv_kwp_per_building !== undefined) out.pv_kwp_per_building = checkNum("variant.pv_kwp_per_building", v.pv_kwp_per_building, { min: 0, max: 1000 });
    if (v.ev_chargers !== undefined) out.ev_chargers = checkNum("variant.ev_chargers", v.ev_chargers, { min: 0, max: 1e6, integer: true });
    if (v.battery_kwh !== undefined) out.battery_kwh = checkNum("variant.battery_kwh", v.battery_kwh, { min: 0, max: 1e6 });
    if (v.demand_growth !== undefined) out.demand_growth = checkNum("variant.demand_growth", v.demand_growth, { gt: 0, max: 10 });
  }
  return { name, engine, seed, horizon_s: horizon, variant: out };
}

/** A deterministic factor in [1 - 0.002, 1 + 0.002] from the seed and a KPI index. */
function seedJitter(seed, k) {
  let x = (Number(seed) * 2654435761 + k * 40503) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 1274126177) >>> 0;
  return 1 + ((x % 1000) / 1000 - 0.5) * 0.004;
}
const windowFrac = (w, horizon) => Math.max(0, Math.min(w.to_s, horizon) - w.from_s) / horizon;
function trafficLoad(v, horizon) {
  const closed = (v.closures ?? []).reduce((a, c) => a + windowFrac(c, horizon), 0);
  const cap = (v.capacity ?? []).reduce((a, c) => a + (1 - c.factor) * windowFrac(c, horizon), 0);
  const demand = v.demand_scale ?? 1;
  const sig = v.signal_cycle_s ? 1 + Math.abs(v.signal_cycle_s - 90) / 600 : 1;
  return { L: demand * (1 + 0.05 * closed + 0.03 * cap) * sig, demand, closed };
}
function communityLoad(v, horizon) {
  const surge = (v.surge ?? []).reduce((a, s) => a + (s.factor - 1) * windowFrac(s, horizon) * (s.type === "*" ? 1 : 0.3), 0);
  return (1 + surge) / Math.max(0.2, 1 + 0.12 * (v.staff_delta ?? 0)) / Math.sqrt(v.sla_factor ?? 1);
}
function energyFigures(v) {
  const g = v.demand_growth ?? 1;
  const pv = v.pv_kwp_per_building ?? 0;
  const ev = v.ev_chargers ?? 0;
  const bat = v.battery_kwh ?? 0;
  const peak = Math.max(50, 412 * g + ev * 3.7 * 0.3 - Math.min(bat / 4, 0.25 * 412));
  const pvYield = pv * 60 * 3.2;
  const energy = Math.max(0, 412 * 24 * 0.55 * g + ev * 7 - pvYield * 0.9);
  const pvExport = pv * 60 * 0.8 - 412 * 0.3 * g;
  const loading = (78 * Math.max(peak, pvExport)) / 412;
  return { peak, pvYield, energy, loading, losses: 96 * Math.pow(Math.max(peak, pvExport) / 412, 2), violations: Math.max(0, Math.round((loading - 90) / 5)) };
}
/** [id, name, unit, better, value(variant)] per KPI of an engine. */
function engineKpis(engine, v, horizon) {
  if (engine === "traffic") {
    const { L, demand, closed } = trafficLoad(v, horizon);
    return [
      ["avg_travel_time_s", "Average travel time", "s", "lower", 412 * Math.pow(L, 1.6)],
      ["mean_delay_s", "Mean delay", "s", "lower", 128 * Math.pow(L, 2.4)],
      ["mean_speed_kmh", "Mean speed", "km/h", "higher", 24.6 / Math.pow(L, 1.2)],
      ["completed_trips", "Completed trips", "trips", "higher", (2861 * demand) / Math.pow(Math.max(1, L / demand), 0.8)],
      ["vkt_km", "Vehicle km travelled", "km", "lower", 10450 * demand * (1 + 0.015 * closed)],
      ["co2_kg", "CO₂ emitted", "kg", "lower", 1890 * demand * (1 + 0.015 * closed) * Math.pow(L, 0.3)],
    ];
  }
  if (engine === "community") {
    const load = communityLoad(v, horizon);
    return [
      ["on_time_closure_rate", "On-time closure rate", "", "higher", Math.max(0, Math.min(1, 0.91 - 0.3 * (load - 1)))],
      ["resolution_time_p90_s", "Resolution time p90", "s", "lower", 14400 * Math.pow(load, 1.5)],
      ["backlog", "Backlog at end", "incidents", "lower", 37 * load * load],
      ["utilisation", "Staff utilisation", "", "lower", Math.min(0.99, 0.72 * load)],
    ];
  }
  const e = energyFigures(v);
  return [
    ["peak_demand_kw", "Peak demand", "kW", "lower", e.peak],
    ["energy_kwh", "Energy from the grid", "kWh", "lower", e.energy],
    ["pv_yield_kwh", "PV yield", "kWh", "higher", e.pvYield],
    ["losses_kwh", "Network losses", "kWh", "lower", e.losses],
    ["max_loading_pct", "Max transformer loading", "%", "lower", e.loading],
    ["voltage_violations", "Voltage violations", "", "lower", e.violations],
  ];
}
const r3 = (v) => Math.round(v * 1000) / 1000;
function scenarioResult(run) {
  const base = engineKpis(run.engine, {}, run.horizon_s);
  const vari = engineKpis(run.engine, run.variant, run.horizon_s);
  const kpis = base.map(([id, name, unit, better, b], k) => {
    const j = seedJitter(run.seed, k);
    const bv = r3(b * j);
    const vv = r3(vari[k][4] * j);
    const delta = r3(vv - bv);
    const pct = bv !== 0 ? Math.round((delta / Math.abs(bv)) * 1000) / 10 : null;
    const same = delta === 0 || (pct !== null && Math.abs(pct) < 0.05);
    const verdict = same ? "same" : (better === "lower") === delta < 0 ? "better" : "worse";
    return { id, name, unit, baseline: bv, variant: vv, delta, delta_pct: pct, better, verdict };
  });
  const report = (side) => ({ engine: run.engine, seed: run.seed, horizon_s: run.horizon_s, kpis: Object.fromEntries(kpis.map((k) => [k.id, k[side]])) });
  return { kpis, baseline: report("baseline"), variant: report("variant") };
}
function scenarioState(run, t = now()) {
  const dur = SCENARIO_RUN_S[run.engine];
  const fails = /fail/i.test(run.name);
  const elapsed = ((run.cancelledAt ?? t) - run.created) / 1000;
  const runFor = elapsed - SCENARIO_QUEUE_S;
  let status = elapsed < SCENARIO_QUEUE_S ? "queued" : fails && runFor >= 1 ? "failed" : runFor < dur ? "running" : "done";
  if (run.cancelledAt !== null && (status === "queued" || status === "running")) status = "cancelled";
  const fraction = status === "done" ? 1 : Math.max(0, Math.min(0.999, runFor / dur));
  const phase = fraction < 0.45 ? "baseline" : fraction < 0.9 ? "variant" : "compare";
  const startedMs = run.created + SCENARIO_QUEUE_S * 1000;
  const endMs = status === "done" ? startedMs + dur * 1000 : status === "failed" ? startedMs + 1000 : status === "cancelled" ? run.cancelledAt : null;
  return {
    status,
    progress: { fraction: r3(fraction), phase, eta_s: status === "queued" || status === "running" ? r3(dur - Math.max(0, runFor)) : 0 },
    started_at: status === "queued" || (status === "cancelled" && elapsed < SCENARIO_QUEUE_S) ? null : iso(startedMs),
    finished_at: endMs === null ? null : iso(endMs),
    wall_s: status === "done" ? dur : null,
  };
}
function scenarioView(run, withResult = true) {
  const st = scenarioState(run);
  const out = { id: run.id, name: run.name, engine: run.engine, seed: run.seed, horizon_s: run.horizon_s, variant: run.variant, ...st, created_at: iso(run.created), twin_version: run.twinVersion };
  if (st.status === "failed") out.error = "engine failed: the mock fails runs whose name contains \"fail\"";
  if (withResult && st.status === "done") out.result = scenarioResult(run);
  return out;
}
const activeRuns = () => [...scenarioRuns.values()].filter((r) => ["queued", "running"].includes(scenarioState(r).status)).length;

const mid = (f) => {
  const c = f.geometry.coordinates;
  return [(c[0][0] + c[c.length - 1][0]) / 2, (c[0][1] + c[c.length - 1][1]) / 2];
};
const unit01 = (i) => ((Math.imul(i + 1, 2654435761) >>> 0) % 1000) / 1000;
/** The per-entity deltas of a finished run, as GeoJSON. */
function scenarioMap(run) {
  const features = [];
  if (run.engine === "traffic") {
    const v = run.variant;
    const { L } = trafficLoad(v, run.horizon_s);
    const closed = new Map((v.closures ?? []).map((c) => [c.road, windowFrac(c, run.horizon_s)]));
    const cap = new Map((v.capacity ?? []).map((c) => [c.road, (1 - c.factor) * windowFrac(c, run.horizon_s)]));
    const touched = [...closed.keys(), ...cap.keys()].map((id) => mid(roadById.get(id)));
    roads.forEach((f, i) => {
      const id = f.properties.id;
      const m = mid(f);
      const dist = touched.length ? Math.min(...touched.map(([x, y]) => Math.hypot(x - m[0], (y - m[1]) * 2))) : Infinity;
      // The changed roads, their neighbourhood, and a sample of the rest of the network.
      if (!closed.has(id) && !cap.has(id) && dist > 0.012 && i % 6 !== 0) return;
      const baseline = round(f.properties.speed_limit_kmh * (0.55 + 0.3 * unit01(i)));
      let variant = baseline / Math.pow(L, 1.2);
      if (closed.has(id)) variant = baseline * (1 - closed.get(id));
      else if (cap.has(id)) variant = (baseline * (1 - 0.6 * cap.get(id))) / Math.pow(L, 1.2);
      else if (Number.isFinite(dist)) variant /= 1 + 0.3 / (1 + dist / 0.004);
      variant = round(variant);
      features.push({ type: "Feature", geometry: f.geometry, properties: { id, metric: "mean_speed_kmh", baseline, variant, delta: round(variant - baseline) } });
    });
  } else if (run.engine === "community") {
    const load = communityLoad(run.variant, run.horizon_s);
    COMMUNITIES.forEach((c, i) => {
      const lon = BBOX[0] + (BBOX[2] - BBOX[0]) * ((i % 3) + 0.5) / 3;
      const lat = BBOX[1] + (BBOX[3] - BBOX[1]) * (Math.floor(i / 3) + 0.5) / 2;
      const baseline = r3(0.84 + 0.02 * i);
      const variant = r3(Math.max(0, Math.min(1, baseline - 0.3 * (load - 1) * (0.8 + 0.4 * unit01(i)))));
      features.push({ type: "Feature", geometry: { type: "Point", coordinates: [lon, lat] }, properties: { id: c, metric: "on_time_closure_rate", baseline, variant, delta: r3(variant - baseline) } });
    });
  } else {
    const b = energyFigures({});
    const e = energyFigures(run.variant);
    FEEDERS.forEach((f) => {
      const baseline = round(f.base);
      const variant = round((f.base * e.loading) / b.loading);
      features.push({ type: "Feature", geometry: { type: "Point", coordinates: [f.lon, f.lat] }, properties: { id: f.id, metric: "max_loading_pct", baseline, variant, delta: round(variant - baseline) } });
    });
  }
  return { type: "FeatureCollection", features };
}

// --- energy feeders ------------------------------------------------------------------------
const FEEDERS = [
  ["fdr-01", "Kallio F1", 62],
  ["fdr-02", "Kamppi F2", 86],
  ["fdr-03", "Kluuvi F3", 104],
  ["fdr-04", "Punavuori F4", 45],
  ["fdr-05", "Töölö F5", 93],
  ["fdr-06", "Sörnäinen F6", 71],
].map(([id, name, base], i) => ({ id, name, base, lon: BBOX[0] + (BBOX[2] - BBOX[0]) * (0.15 + 0.7 * ((i * 0.37) % 1)), lat: BBOX[1] + (BBOX[3] - BBOX[1]) * (0.2 + 0.6 * ((i * 0.61) % 1)) }));
function feeders() {
  const t = now() / 1000;
  return FEEDERS.map((f, i) => {
    const loading = round(f.base * (1 + 0.03 * Math.sin(t / 120 + i)));
    const drop = loading / 1000;
    return {
      id: f.id,
      name: f.name,
      loading_pct: loading,
      v_min_pu: r3(1 - 0.6 * drop),
      v_max_pu: r3(1.02 - 0.05 * drop),
      losses_kw: round((loading / 100) ** 2 * 14),
      losses_pct: round(1.2 + loading / 60),
      violations: loading > 100 ? 2 : loading > 90 ? 1 : 0,
      as_of: iso(Math.floor(t / 60) * 60e3),
      lat: f.lat,
      lon: f.lon,
    };
  });
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
      if (p === "/api/v1/energy/feeders") {
        if (NO_ENERGY) return problem(res, 404, "Not Found", `no route ${p}`);
        return send(res, 200, { feeders: feeders() });
      }
      if (p === "/api/v1/scenarios" || p.startsWith("/api/v1/scenarios/")) {
        if (who.anonymous) return problem(res, 401, "Unauthorized", "Scenario runs need a bearer token.");
        const writer = who.role === "planner" || who.role === "admin";
        if (p === "/api/v1/scenarios" && req.method === "POST") {
          if (!writer) return problem(res, 403, "Forbidden", `Role ${who.role} cannot run scenarios (planner or admin only).`);
          let body;
          try {
            body = await readBody(req);
          } catch (e) {
            return problem(res, 400, "Bad Request", `the body is not JSON: ${e.message}`);
          }
          let r;
          try {
            r = validateScenario(body);
          } catch (e) {
            if (e instanceof Invalid) return problem(res, e.status, e.status === 422 ? "Unprocessable Entity" : "Bad Request", e.message);
            throw e;
          }
          if (activeRuns() >= SCENARIO_MAX_ACTIVE) return problem(res, 429, "Too Many Requests", `at most ${SCENARIO_MAX_ACTIVE} scenario runs may be queued or running; wait for one to finish or cancel one`);
          const id = `scn-${String(++runSeq).padStart(6, "0")}`;
          const run = { id, ...r, created: now(), cancelledAt: null, twinVersion: 1000 + tick };
          scenarioRuns.set(id, run);
          const data = JSON.stringify(scenarioView(run));
          res.writeHead(202, { "content-type": "application/json", "cache-control": "no-store", location: `/api/v1/scenarios/${id}` });
          return res.end(data);
        }
        if (p === "/api/v1/scenarios" && req.method === "GET")
          return send(res, 200, { runs: [...scenarioRuns.values()].reverse().map((r) => scenarioView(r, false)) });
        const sc = /^\/api\/v1\/scenarios\/([^/]+)(\/map)?$/.exec(p);
        const run = sc ? scenarioRuns.get(decodeURIComponent(sc[1])) : null;
        if (!run) return problem(res, 404, "Not Found", sc ? `no scenario run ${decodeURIComponent(sc[1])}` : `no route ${p}`);
        if (sc[2] && req.method === "GET") {
          const st = scenarioState(run).status;
          if (st !== "done") return problem(res, 409, "Conflict", `scenario run ${run.id} is ${st}; its map exists once it is done`);
          return send(res, 200, scenarioMap(run), "application/geo+json");
        }
        if (!sc[2] && req.method === "GET") return send(res, 200, scenarioView(run));
        if (!sc[2] && req.method === "DELETE") {
          if (!writer) return problem(res, 403, "Forbidden", `Role ${who.role} cannot cancel or delete scenario runs.`);
          const st = scenarioState(run).status;
          if (st === "queued" || st === "running") run.cancelledAt = now();
          else scenarioRuns.delete(run.id);
          res.writeHead(204, { "cache-control": "no-store" });
          return res.end();
        }
        return problem(res, 405, "Method Not Allowed", `${req.method} ${p}`);
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
