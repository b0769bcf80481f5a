// Small SVG charts built as markup strings (no chart library): a time-series line chart with an
// optional min–max band (roll-ups), and a sparkline.

import { fmt } from "../map/colour";

export interface SeriesPoint {
  t: number;
  v: number;
  lo?: number;
  hi?: number;
}

/**
 * Converts `/api/v1/observations` points to chart points: raw rows are [ts_ms, value];
 * roll-up rows are [ts_ms, count, mean, min, max] (the mean is plotted, min/max as a band).
 * Rows with non-finite values are dropped; the result is sorted by time.
 */
export function toSeries(points: readonly (readonly number[])[]): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (const p of points) {
    if (p.length >= 5) {
      const [t, , mean, lo, hi] = p as [number, number, number, number, number];
      if (Number.isFinite(t) && Number.isFinite(mean)) out.push({ t, v: mean, lo, hi });
    } else if (p.length >= 2) {
      const [t, v] = p as [number, number];
      if (Number.isFinite(t) && Number.isFinite(v)) out.push({ t, v });
    }
  }
  out.sort((a, b) => a.t - b.t);
  return out;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

/** Evenly spaced "nice" ticks covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 4): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  const f = raw / p;
  const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function timeLabel(t: number, spanMs: number): string {
  const d = new Date(t);
  const hh = String(d.getHours()).padStart(2, "0");
  const mm = String(d.getMinutes()).padStart(2, "0");
  if (spanMs > 2 * 86400000) return `${d.getMonth() + 1}/${d.getDate()}`;
  return `${hh}:${mm}`;
}

export interface ChartOptions {
  width?: number;
  height?: number;
  unit?: string;
  colour?: string;
  /** Horizontal reference line (e.g. an alarm threshold). */
  threshold?: number;
  title?: string;
}

export function lineChartSvg(series: readonly SeriesPoint[], opts: ChartOptions = {}): string {
  const W = opts.width ?? 360;
  const H = opts.height ?? 160;
  const m = { l: 40, r: 10, t: 14, b: 22 };
  const colour = opts.colour ?? "#2563eb";
  const title = opts.title ? `<title>${esc(opts.title)}</title>` : "";
  if (series.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-testid="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">${title}<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="chart-empty">no data in this window</text></svg>`;
  }
  const t0 = (series[0] as SeriesPoint).t;
  const t1 = (series[series.length - 1] as SeriesPoint).t;
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of series) {
    lo = Math.min(lo, p.lo ?? p.v, p.v);
    hi = Math.max(hi, p.hi ?? p.v, p.v);
  }
  if (opts.threshold !== undefined && Number.isFinite(opts.threshold)) {
    lo = Math.min(lo, opts.threshold);
    hi = Math.max(hi, opts.threshold);
  }
  if (hi === lo) {
    hi += 1;
    lo -= 1;
  }
  const pad = (hi - lo) * 0.06;
  lo -= pad;
  hi += pad;
  const spanT = Math.max(1, t1 - t0);
  const x = (t: number): number => m.l + ((t - t0) / spanT) * (W - m.l - m.r);
  const y = (v: number): number => m.t + (1 - (v - lo) / (hi - lo)) * (H - m.t - m.b);
  const parts: string[] = [];
  // Grid and y labels.
  for (const v of niceTicks(lo, hi, 4)) {
    const yy = y(v).toFixed(1);
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${yy}" y2="${yy}" class="chart-grid"/>`);
    parts.push(`<text x="${m.l - 4}" y="${yy}" dy="0.32em" text-anchor="end" class="chart-label">${esc(fmt(v))}</text>`);
  }
  // X labels: start, middle, end.
  for (const t of series.length > 1 ? [t0, t0 + spanT / 2, t1] : [t0]) {
    parts.push(`<text x="${x(t).toFixed(1)}" y="${H - 6}" text-anchor="middle" class="chart-label">${esc(timeLabel(t, spanT))}</text>`);
  }
  // Min–max band for roll-ups.
  const banded = series.filter((p) => Number.isFinite(p.lo) && Number.isFinite(p.hi));
  if (banded.length > 1) {
    const top = banded.map((p) => `${x(p.t).toFixed(1)},${y(p.hi as number).toFixed(1)}`);
    const bottom = banded
      .slice()
      .reverse()
      .map((p) => `${x(p.t).toFixed(1)},${y(p.lo as number).toFixed(1)}`);
    parts.push(`<polygon points="${[...top, ...bottom].join(" ")}" fill="${colour}" fill-opacity="0.15" stroke="none"/>`);
  }
  if (opts.threshold !== undefined && Number.isFinite(opts.threshold)) {
    const yy = y(opts.threshold).toFixed(1);
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${yy}" y2="${yy}" stroke="#d7191c" stroke-dasharray="4 3"/>`);
  }
  const d = series.map((p, i) => `${i ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join("");
  parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.6"/>`);
  if (series.length === 1) {
    const p = series[0] as SeriesPoint;
    parts.push(`<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.v).toFixed(1)}" r="2.5" fill="${colour}"/>`);
  }
  const unit = opts.unit ? `<text x="4" y="10" class="chart-label">${esc(opts.unit)}</text>` : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-testid="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img">${title}${unit}${parts.join("")}</svg>`;
}

/** A tiny line without axes (indicator trend). */
export function sparklineSvg(values: readonly number[], width = 120, height = 28, colour = "#2563eb"): string {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length < 2) return `<svg class="spark" width="${width}" height="${height}"></svg>`;
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const span = hi - lo || 1;
  const pts = v.map((y, i) => `${((i / (v.length - 1)) * (width - 2) + 1).toFixed(1)},${(height - 2 - ((y - lo) / span) * (height - 4)).toFixed(1)}`);
  return `<svg xmlns="http://www.w3.org/2000/svg" class="spark" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><polyline points="${pts.join(" ")}" fill="none" stroke="${colour}" stroke-width="1.5"/></svg>`;
}

/** Radar (spider) chart of named scores in [0, 1], as SVG markup. */
export function radarSvg(items: readonly { label: string; value: number | null }[], size = 220): string {
  const n = items.length;
  if (n < 3) return "";
  // Extra width on both sides so horizontal labels are not clipped.
  const W = size + 140;
  const cx = W / 2;
  const c = size / 2;
  const R = size / 2 - 28;
  const pt = (i: number, r: number): [number, number] => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / n;
    return [cx + r * Math.cos(a), c + r * Math.sin(a)];
  };
  const parts: string[] = [];
  for (const f of [0.25, 0.5, 0.75, 1]) {
    const ring = items.map((_, i) => pt(i, R * f).map((q) => q.toFixed(1)).join(",")).join(" ");
    parts.push(`<polygon points="${ring}" fill="none" class="radar-grid"/>`);
  }
  items.forEach((it, i) => {
    const [x, y] = pt(i, R);
    parts.push(`<line x1="${cx}" y1="${c}" x2="${x.toFixed(1)}" y2="${y.toFixed(1)}" class="radar-grid"/>`);
    const [lx, ly] = pt(i, R + 12);
    const anchor = Math.abs(lx - cx) < 4 ? "middle" : lx > cx ? "start" : "end";
    parts.push(`<text x="${lx.toFixed(1)}" y="${ly.toFixed(1)}" dy="0.32em" text-anchor="${anchor}" class="chart-label">${esc(it.label)}</text>`);
  });
  const poly = items.map((it, i) => pt(i, R * Math.max(0, Math.min(1, it.value ?? 0))).map((q) => q.toFixed(1)).join(",")).join(" ");
  parts.push(`<polygon points="${poly}" fill="#2563eb" fill-opacity="0.25" stroke="#2563eb" stroke-width="1.5"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" class="radar" data-testid="pillar-radar" width="${W}" height="${size}" viewBox="0 0 ${W} ${size}" role="img">${parts.join("")}</svg>`;
}
