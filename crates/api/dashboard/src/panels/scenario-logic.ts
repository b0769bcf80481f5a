// The pure part of the Scenarios view: the form → request body (with validation), the KPI
// comparison rows and their better/worse verdicts, the diverging delta scale of the map, the
// progress/ETA label, the KPI bar chart and the feeder loading classes. No DOM here.

import type { Feeder, ScenarioEngine, ScenarioKpi, ScenarioRequest, ScenarioRun, ScenarioStatus } from "../api/types";
import { ThresholdScale } from "../map/colour";

export const ENGINES: readonly ScenarioEngine[] = ["traffic", "community", "energy"];

/** Default horizons of the engines (s), as the server applies them when `horizon_s` is absent. */
export const DEFAULT_HORIZON_S: Record<ScenarioEngine, number> = { traffic: 3600, community: 604800, energy: 86400 };

/** What to do with the roads picked for a traffic what-if. */
export type RoadAction = "close" | "capacity";

/**
 * The form as typed: every number is the input's string (empty = not set, the server's
 * default applies). Only the fields of the chosen engine are sent.
 */
export interface ScenarioForm {
  name: string;
  engine: ScenarioEngine;
  seed: string;
  horizon_s: string;
  traffic: {
    roads: string[];
    action: RoadAction;
    factor: string;
    from_s: string;
    to_s: string;
    demand_scale: string;
    signal_cycle_s: string;
  };
  community: {
    surge_type: string;
    surge_factor: string;
    from_s: string;
    to_s: string;
    staff_delta: string;
  };
  energy: {
    pv_kwp_per_building: string;
    ev_chargers: string;
    battery_kwh: string;
    demand_growth: string;
  };
}

export function emptyForm(engine: ScenarioEngine = "traffic"): ScenarioForm {
  return {
    name: "",
    engine,
    seed: "1",
    horizon_s: "",
    traffic: { roads: [], action: "close", factor: "0.5", from_s: "", to_s: "", demand_scale: "", signal_cycle_s: "" },
    community: { surge_type: "*", surge_factor: "", from_s: "", to_s: "", staff_delta: "" },
    energy: { pv_kwp_per_building: "", ev_chargers: "", battery_kwh: "", demand_growth: "" },
  };
}

/** Field path (as the body names it, e.g. `variant.demand_scale`) → message. */
export type FormErrors = Record<string, string>;

export type BuildResult = { ok: true; body: ScenarioRequest } | { ok: false; errors: FormErrors };

interface NumRule {
  min?: number;
  max?: number;
  /** Exclusive lower bound. */
  gt?: number;
  integer?: boolean;
}

/** Parses an optional number input: undefined when empty, else the number or an error message. */
export function parseNum(raw: string, rule: NumRule = {}): { value?: number; error?: string } {
  const t = raw.trim();
  if (t === "") return {};
  const v = Number(t);
  if (!Number.isFinite(v)) return { error: `"${t}" is not a number` };
  if (rule.integer && !Number.isInteger(v)) return { error: "must be a whole number" };
  if (rule.gt !== undefined && !(v > rule.gt)) return { error: `must be greater than ${rule.gt}` };
  if (rule.min !== undefined && v < rule.min) return { error: `must be at least ${rule.min}` };
  if (rule.max !== undefined && v > rule.max) return { error: `must be at most ${rule.max}` };
  return { value: v };
}

/**
 * Validates the form and builds the `POST /api/v1/scenarios` body. Bounds here are the obvious
 * ones (positive scales, fractions in (0, 1], windows inside the horizon); the server stays the
 * authority (it may still answer 400/422 naming a field).
 */
export function buildScenarioRequest(form: ScenarioForm): BuildResult {
  const errors: FormErrors = {};
  const num = (path: string, raw: string, rule: NumRule = {}): number | undefined => {
    const r = parseNum(raw, rule);
    if (r.error) errors[path] = r.error;
    return r.value;
  };
  const name = form.name.trim();
  if (!name) errors.name = "a name is required";
  else if (name.length > 200) errors.name = "at most 200 characters";
  if (!ENGINES.includes(form.engine)) errors.engine = `unknown engine ${String(form.engine)}`;
  const seed = num("seed", form.seed, { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true });
  const horizon = num("horizon_s", form.horizon_s, { gt: 0, integer: true });
  const horizonEff = horizon ?? DEFAULT_HORIZON_S[form.engine] ?? Infinity;

  /** An optional [from, to] window; both default to the whole horizon. */
  const window = (prefix: string, fromRaw: string, toRaw: string): { from_s: number; to_s: number } | undefined => {
    const from = num(`${prefix}.from_s`, fromRaw, { min: 0, integer: true });
    const to = num(`${prefix}.to_s`, toRaw, { gt: 0, integer: true });
    if (errors[`${prefix}.from_s`] || errors[`${prefix}.to_s`]) return undefined;
    const f = from ?? 0;
    const t = to ?? horizonEff;
    if (!(t > f)) {
      errors[`${prefix}.to_s`] = "the window must end after it starts";
      return undefined;
    }
    if (Number.isFinite(horizonEff) && t > horizonEff) {
      errors[`${prefix}.to_s`] = `the window ends after the horizon (${horizonEff} s)`;
      return undefined;
    }
    return { from_s: f, to_s: t };
  };

  const variant: Record<string, unknown> = {};
  if (form.engine === "traffic") {
    const t = form.traffic;
    const roads = [...new Set(t.roads.map((r) => r.trim()).filter(Boolean))];
    if (roads.length) {
      const w = window("variant.window", t.from_s, t.to_s);
      if (t.action === "close") {
        if (w) variant.closures = roads.map((road) => ({ road, ...w }));
      } else {
        const factor = num("variant.capacity.factor", t.factor, { min: 0, max: 1 });
        if (factor === undefined && !errors["variant.capacity.factor"]) errors["variant.capacity.factor"] = "a capacity factor is required";
        if (w && factor !== undefined) variant.capacity = roads.map((road) => ({ road, factor, ...w }));
      }
    }
    const demand = num("variant.demand_scale", t.demand_scale, { gt: 0, max: 10 });
    if (demand !== undefined) variant.demand_scale = demand;
    const cycle = num("variant.signal_cycle_s", t.signal_cycle_s, { min: 10, max: 600, integer: true });
    if (cycle !== undefined) variant.signal_cycle_s = cycle;
  } else if (form.engine === "community") {
    const c = form.community;
    const factor = num("variant.surge.factor", c.surge_factor, { gt: 0, max: 100 });
    if (factor !== undefined) {
      const w = window("variant.surge", c.from_s, c.to_s);
      const type = c.surge_type.trim() || "*";
      if (w) variant.surge = [{ type, factor, ...w }];
    }
    const staff = num("variant.staff_delta", c.staff_delta, { min: -1000, max: 1000, integer: true });
    if (staff !== undefined) variant.staff_delta = staff;
  } else if (form.engine === "energy") {
    const e = form.energy;
    const pv = num("variant.pv_kwp_per_building", e.pv_kwp_per_building, { min: 0, max: 1000 });
    if (pv !== undefined) variant.pv_kwp_per_building = pv;
    const ev = num("variant.ev_chargers", e.ev_chargers, { min: 0, max: 1_000_000, integer: true });
    if (ev !== undefined) variant.ev_chargers = ev;
    const bat = num("variant.battery_kwh", e.battery_kwh, { min: 0, max: 1_000_000 });
    if (bat !== undefined) variant.battery_kwh = bat;
    const growth = num("variant.demand_growth", e.demand_growth, { gt: 0, max: 10 });
    if (growth !== undefined) variant.demand_growth = growth;
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  const body: ScenarioRequest = { name, engine: form.engine, variant };
  if (seed !== undefined) body.seed = seed;
  if (horizon !== undefined) body.horizon_s = horizon;
  return { ok: true, body };
}

/**
 * The form input a problem's detail names at its start (`variant.surge[0].factor: ...` →
 * `variant.surge.factor`; a closure's or capacity's window → the roads' window), or null.
 */
export function problemField(detail: string | undefined): string | null {
  const m = detail ? /^\s*(name|engine|seed|horizon_s|variant(?:\.[a-z_]+(?:\[\d+\])?)+)\s*:/.exec(detail) : null;
  if (!m?.[1]) return null;
  const path = m[1].replace(/\[\d+\]/g, "");
  const w = /^variant\.(?:closures|capacity)\.(from_s|to_s)$/.exec(path);
  return w ? `variant.window.${w[1]}` : path;
}

// --- run status and progress -----------------------------------------------------------------

export function isActive(status: ScenarioStatus | string): boolean {
  return status === "queued" || status === "running";
}

/** Progress clamped to [0, 1]; a done run shows 1. */
export function progressOf(run: Pick<ScenarioRun, "status" | "progress">): number {
  if (run.status === "done") return 1;
  const p = Number(run.progress?.fraction);
  return Number.isFinite(p) ? Math.max(0, Math.min(1, p)) : 0;
}

/** A duration in seconds as "<1 s", "42 s", "3 min 05 s", "2 h 10 min"; "" for no value. */
export function fmtDuration(s: number | null | undefined): string {
  if (s === null || s === undefined || !Number.isFinite(s) || s < 0) return "";
  if (s < 1) return "<1 s";
  if (s < 60) return `${Math.round(s)} s`;
  const total = Math.round(s);
  if (total < 3600) return `${Math.floor(total / 60)} min ${String(total % 60).padStart(2, "0")} s`;
  const h = Math.floor(total / 3600);
  const m = Math.round((total % 3600) / 60);
  return m === 60 ? `${h + 1} h 0 min` : `${h} h ${m} min`;
}

/** The line under the progress bar: "running · variant · 42% · ETA 3 s". */
export function progressLabel(run: Pick<ScenarioRun, "status" | "progress" | "wall_s">): string {
  const pct = `${Math.floor(progressOf(run) * 100)}%`;
  if (run.status === "done") return `done · 100%${run.wall_s != null && Number.isFinite(run.wall_s) ? ` · ${fmtDuration(run.wall_s)}` : ""}`;
  if (!isActive(run.status)) return run.status;
  const parts: string[] = [run.status];
  const phase = run.progress?.phase;
  if (run.status === "running" && phase) parts.push(String(phase));
  parts.push(pct);
  const eta = fmtDuration(run.progress?.eta_s);
  if (eta) parts.push(`ETA ${eta}`);
  return parts.join(" · ");
}

// --- KPI comparison --------------------------------------------------------------------------

export type Verdict = "better" | "worse" | "same" | "unknown";

export interface KpiRow {
  id: string;
  name: string;
  unit: string;
  baseline: number | null;
  variant: number | null;
  delta: number | null;
  deltaPct: number | null;
  verdict: Verdict;
}

const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/**
 * Rows of the comparison table. The server's delta, delta % and verdict are used when given;
 * otherwise they are computed (verdict from `better`: a change below 0.05% is "same").
 */
export function kpiRows(kpis: readonly ScenarioKpi[] | null | undefined): KpiRow[] {
  if (!Array.isArray(kpis)) return [];
  return kpis
    .filter((k) => k && typeof k.id === "string")
    .map((k) => {
      const baseline = finite(k.baseline) ? k.baseline : null;
      const variant = finite(k.variant) ? k.variant : null;
      const delta = finite(k.delta) ? k.delta : baseline !== null && variant !== null ? variant - baseline : null;
      const deltaPct = finite(k.delta_pct) ? k.delta_pct : delta !== null && baseline !== null && baseline !== 0 ? (delta / Math.abs(baseline)) * 100 : null;
      let verdict: Verdict = k.verdict === "better" || k.verdict === "worse" || k.verdict === "same" ? k.verdict : "unknown";
      if (verdict === "unknown" && delta !== null) {
        const tiny = delta === 0 || (deltaPct !== null && Math.abs(deltaPct) < 0.05);
        if (tiny) verdict = "same";
        else if (k.better === "lower") verdict = delta < 0 ? "better" : "worse";
        else if (k.better === "higher") verdict = delta > 0 ? "better" : "worse";
      }
      return { id: k.id, name: k.name || k.id, unit: k.unit ?? "", baseline, variant, delta, deltaPct, verdict };
    });
}

/** A KPI value for the table: up to 3 significant decimals for small numbers. */
export function fmtKpi(v: number | null, signed = false): string {
  if (v === null) return "–";
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  const s = v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return signed && v > 0 ? `+${s}` : s;
}

export function fmtDeltaPct(p: number | null): string {
  if (p === null) return "–";
  return `${p > 0 ? "+" : ""}${p.toFixed(1)}%`;
}

export const VERDICT_COLOURS: Record<Verdict, string> = { better: "#1a9641", worse: "#d7191c", same: "#9aa3ad", unknown: "#6b7785" };

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A horizontal bar chart (SVG markup) of each KPI's delta %, bars coloured by verdict, zero in
 * the middle. KPIs without a delta % are listed with "–".
 */
export function kpiBarChartSvg(rows: readonly KpiRow[], width = 400): string {
  const rowH = 18;
  const labelW = 150;
  const valueW = 56;
  const h = rows.length * rowH + 8;
  if (!rows.length) return `<svg class="chart" width="${width}" height="24" viewBox="0 0 ${width} 24"><text class="chart-empty" x="4" y="16">no KPIs</text></svg>`;
  const max = Math.max(1, ...rows.map((r) => (r.deltaPct === null ? 0 : Math.abs(r.deltaPct))));
  const plotW = width - labelW - valueW;
  const mid = labelW + plotW / 2;
  const parts = [`<svg class="chart kpi-bars" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" role="img" aria-label="KPI change, percent">`];
  parts.push(`<line class="chart-grid" x1="${mid}" y1="0" x2="${mid}" y2="${h}" stroke="#9aa3ad"/>`);
  rows.forEach((r, i) => {
    const y = 4 + i * rowH;
    parts.push(`<text class="chart-label" x="${labelW - 4}" y="${y + 12}" text-anchor="end">${esc(r.name.length > 26 ? `${r.name.slice(0, 25)}…` : r.name)}</text>`);
    if (r.deltaPct !== null) {
      const w = (Math.abs(r.deltaPct) / max) * (plotW / 2);
      const x = r.deltaPct >= 0 ? mid : mid - w;
      parts.push(`<rect data-kpi="${esc(r.id)}" data-verdict="${r.verdict}" x="${x.toFixed(1)}" y="${y + 2}" width="${Math.max(1, w).toFixed(1)}" height="${rowH - 6}" fill="${VERDICT_COLOURS[r.verdict]}"/>`);
    }
    parts.push(`<text class="chart-label" x="${width - 2}" y="${y + 12}" text-anchor="end">${esc(fmtDeltaPct(r.deltaPct))}</text>`);
  });
  parts.push("</svg>");
  return parts.join("");
}

// --- map deltas ------------------------------------------------------------------------------

/** Whether a higher value of a map metric is an improvement. */
export const MAP_METRIC_BETTER: Record<string, "higher" | "lower"> = {
  mean_speed_kmh: "higher",
  on_time_closure_rate: "higher",
  max_loading_pct: "lower",
};

/** Seven diverging colours, from "much worse" to "much better" (ColorBrewer RdBu). */
export const DIVERGING_COLOURS = ["#b2182b", "#ef8a62", "#fddbc7", "#f7f7f7", "#d1e5f0", "#67a9cf", "#2166ac"] as const;

/** A "nice" upper bound ≥ v: 1, 2, 2.5 or 5 times a power of ten. */
export function niceCeil(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const f of [1, 2, 2.5, 5, 10]) if (f * p >= v * (1 - 1e-12)) return f * p;
  return 10 * p;
}

/**
 * The diverging scale of per-entity deltas: symmetric about zero over the largest |delta|
 * (rounded up to a nice number), seven buckets, the middle one "no change" (|delta| < 10% of
 * the range). Red is worse and blue is better, whichever direction the metric improves in.
 */
export function deltaScale(deltas: Iterable<number>, metric = "", unit = ""): ThresholdScale {
  let m = 0;
  for (const d of deltas) if (Number.isFinite(d) && Math.abs(d) > m) m = Math.abs(d);
  const max = niceCeil(m);
  const breaks = [-0.6, -0.3, -0.1, 0.1, 0.3, 0.6].map((f) => f * max);
  const higherBetter = (MAP_METRIC_BETTER[metric] ?? "higher") === "higher";
  const colours = higherBetter ? [...DIVERGING_COLOURS] : [...DIVERGING_COLOURS].reverse();
  const names = higherBetter ? ["worse", "", "", "≈ same", "", "", "better"] : ["better", "", "", "≈ same", "", "", "worse"];
  return new ThresholdScale(breaks, colours, unit, names);
}

// --- feeders ---------------------------------------------------------------------------------

export type LoadingClass = "ok" | "high" | "over" | "unknown";

/** Feeder loading class: green below 80%, amber 80–100%, red above 100%. */
export function loadingClass(pct: number | null | undefined): LoadingClass {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return "unknown";
  if (pct < 80) return "ok";
  if (pct <= 100) return "high";
  return "over";
}

export const LOADING_COLOURS: Record<LoadingClass, string> = { ok: "#1a9641", high: "#f0a202", over: "#d7191c", unknown: "#9aa3ad" };

/** Feeders as the list answers them, tolerant of a bare array or missing fields; worst first. */
export function readFeeders(body: unknown): Feeder[] {
  const list = Array.isArray(body) ? body : body && typeof body === "object" && Array.isArray((body as { feeders?: unknown }).feeders) ? (body as { feeders: unknown[] }).feeders : [];
  return list
    .filter((f): f is Feeder => !!f && typeof f === "object" && (typeof (f as Feeder).id === "string" || typeof (f as Feeder).id === "number"))
    .map((f) => ({ ...f, id: String(f.id) }))
    .sort((a, b) => (finite(b.loading_pct) ? b.loading_pct : -Infinity) - (finite(a.loading_pct) ? a.loading_pct : -Infinity));
}
