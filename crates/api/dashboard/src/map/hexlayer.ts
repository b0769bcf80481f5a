// Canvas-path hex renderer (the benchmark's "batched" peer; the map uses hexraster.ts): cells are
// culled against the view, grouped by colour bucket with a counting sort, and each bucket is
// filled with few paths (one per PATH_CHUNK cells), so a frame costs (visible cells × vertices)
// path operations and about buckets + cells/PATH_CHUNK fills.

import type { CellStore } from "./cells";
import { NODATA_COLOUR, type ColourScale } from "./colour";

/** The subset of CanvasRenderingContext2D the layer uses (lets tests count calls). */
export interface PathContext {
  fillStyle: string | CanvasGradient | CanvasPattern;
  strokeStyle: string | CanvasGradient | CanvasPattern;
  lineWidth: number;
  globalAlpha: number;
  beginPath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  closePath(): void;
  rect(x: number, y: number, w: number, h: number): void;
  fill(): void;
  stroke(): void;
}

export interface ViewRect {
  zoom: number;
  originX: number;
  originY: number;
  width: number;
  height: number;
}

export type CellValueField = "mean" | "last" | "max" | "min" | "count";

export interface HexDrawOptions {
  alpha?: number;
  field?: CellValueField;
  /** Cells whose on-screen radius is below this many pixels are drawn as squares. */
  lodRadiusPx?: number;
  /** Outline cells when their on-screen radius exceeds this many pixels. */
  outlineRadiusPx?: number;
}

export interface HexDrawStats {
  drawn: number;
  culled: number;
  fills: number;
}

/** Cells per path before a fill (measured sweet spot in Chromium's software raster: 250-1000). */
const PATH_CHUNK = 512;

// Scratch buffers reused across frames (grown on demand) to keep the frame allocation-free.
let bucketOfSlot = new Int16Array(0);
let order = new Int32Array(0);

export function drawHexLayer(
  ctx: PathContext,
  store: CellStore,
  scale: ColourScale,
  view: ViewRect,
  opts: HexDrawOptions = {},
): HexDrawStats {
  const n = store.size;
  const stats: HexDrawStats = { drawn: 0, culled: 0, fills: 0 };
  if (n === 0) return stats;
  store.ensureProjected(view.zoom);
  if (bucketOfSlot.length < n) bucketOfSlot = new Int16Array(Math.max(n, bucketOfSlot.length * 2));
  if (order.length < n) order = new Int32Array(Math.max(n, order.length * 2));

  const values = store[opts.field ?? "mean"].data;
  const nodata = scale.size; // an extra bucket for cells without a finite value
  const counts = new Int32Array(nodata + 2);
  const worldScale = Math.pow(2, view.zoom) * 256;
  const ox = view.originX;
  const oy = view.originY;
  const w = view.width;
  const h = view.height;
  const cmx = store.cmx.data;
  const cmy = store.cmy.data;
  const rad = store.radius.data;
  const present = store.present;

  // Pass 1: cull and bucket.
  for (let s = 0; s < n; s++) {
    if (!present[s]) {
      bucketOfSlot[s] = -1;
      continue;
    }
    const r = (rad[s] as number) * worldScale;
    const x = (cmx[s] as number) * worldScale - ox;
    const y = (cmy[s] as number) * worldScale - oy;
    if (x + r < 0 || y + r < 0 || x - r > w || y - r > h) {
      bucketOfSlot[s] = -1;
      stats.culled++;
      continue;
    }
    let b = scale.bucketOf(values[s] as number);
    if (b < 0) b = nodata;
    bucketOfSlot[s] = b;
    counts[b + 1] = (counts[b + 1] as number) + 1;
  }
  // Counting sort: counts[b+1] -> start offsets.
  for (let b = 1; b < counts.length; b++) counts[b] = (counts[b] as number) + (counts[b - 1] as number);
  const starts = counts.slice();
  for (let s = 0; s < n; s++) {
    const b = bucketOfSlot[s] as number;
    if (b < 0) continue;
    const pos = starts[b] as number;
    order[pos] = s;
    starts[b] = pos + 1;
  }

  const proj = store.proj;
  const startOf = store.start;
  const lod = opts.lodRadiusPx ?? 1.2;
  const prevAlpha = ctx.globalAlpha;
  ctx.globalAlpha = opts.alpha ?? 0.7;
  // Pass 2: one path and one fill per non-empty bucket.
  for (let b = 0; b <= nodata; b++) {
    const from = counts[b] as number;
    const to = counts[b + 1] as number;
    if (to === from) continue;
    ctx.fillStyle = b === nodata ? NODATA_COLOUR : (scale.colours[b] as string);
    ctx.beginPath();
    for (let k = from; k < to; k++) {
      // Skia's software fill grows faster than linearly with the edges of one path: flush often.
      if (k > from && (k - from) % PATH_CHUNK === 0) {
        ctx.fill();
        stats.fills++;
        ctx.beginPath();
      }
      const s = order[k] as number;
      const r = (rad[s] as number) * worldScale;
      if (r < lod) {
        const x = (cmx[s] as number) * worldScale - ox;
        const y = (cmy[s] as number) * worldScale - oy;
        const side = Math.max(1, r * 1.75);
        ctx.rect(x - side / 2, y - side / 2, side, side);
        continue;
      }
      const a = startOf[s] as number;
      const e = startOf[s + 1] as number;
      ctx.moveTo((proj[a] as number) - ox, (proj[a + 1] as number) - oy);
      for (let i = a + 2; i < e; i += 2) ctx.lineTo((proj[i] as number) - ox, (proj[i + 1] as number) - oy);
      ctx.closePath();
    }
    ctx.fill();
    stats.fills++;
    stats.drawn += to - from;
  }
  ctx.globalAlpha = prevAlpha;

  // Thin outlines once cells are big enough to read as hexagons.
  const outlineAt = opts.outlineRadiusPx ?? 10;
  const total = counts[nodata + 1] as number;
  if (total > 0) {
    const s0 = order[0] as number;
    if ((rad[s0] as number) * worldScale > outlineAt) {
      ctx.beginPath();
      for (let k = 0; k < total; k++) {
        const s = order[k] as number;
        const a = startOf[s] as number;
        const e = startOf[s + 1] as number;
        ctx.moveTo((proj[a] as number) - ox, (proj[a + 1] as number) - oy);
        for (let i = a + 2; i < e; i += 2) ctx.lineTo((proj[i] as number) - ox, (proj[i + 1] as number) - oy);
        ctx.closePath();
      }
      ctx.strokeStyle = "rgba(255,255,255,0.55)";
      ctx.lineWidth = 0.75;
      ctx.stroke();
    }
  }
  return stats;
}

/**
 * The straightforward way, kept only as the benchmark's peer (`?renderer=naive`): every cell is
 * its own path with its own fillStyle and fill(), with no culling. Same cached geometry as
 * `drawHexLayer`, so the comparison isolates culling and colour batching.
 */
export function drawHexLayerNaive(ctx: PathContext, store: CellStore, scale: ColourScale, view: ViewRect, opts: HexDrawOptions = {}): HexDrawStats {
  const n = store.size;
  const stats: HexDrawStats = { drawn: 0, culled: 0, fills: 0 };
  store.ensureProjected(view.zoom);
  const values = store[opts.field ?? "mean"].data;
  const proj = store.proj;
  const startOf = store.start;
  const prevAlpha = ctx.globalAlpha;
  ctx.globalAlpha = opts.alpha ?? 0.7;
  for (let s = 0; s < n; s++) {
    if (!store.present[s]) continue;
    const a = startOf[s] as number;
    const e = startOf[s + 1] as number;
    ctx.beginPath();
    ctx.moveTo((proj[a] as number) - view.originX, (proj[a + 1] as number) - view.originY);
    for (let i = a + 2; i < e; i += 2) ctx.lineTo((proj[i] as number) - view.originX, (proj[i + 1] as number) - view.originY);
    ctx.closePath();
    ctx.fillStyle = scale.colourOf(values[s] as number);
    ctx.fill();
    stats.fills++;
    stats.drawn++;
  }
  ctx.globalAlpha = prevAlpha;
  return stats;
}

/** Strokes thin outlines of the visible cells when they are larger than `minRadiusPx` on screen. */
export function strokeHexOutlines(ctx: PathContext, store: CellStore, view: ViewRect, minRadiusPx = 10): number {
  const n = store.size;
  if (n === 0) return 0;
  store.ensureProjected(view.zoom);
  const worldScale = Math.pow(2, view.zoom) * 256;
  const { originX: ox, originY: oy, width: w, height: h } = view;
  const proj = store.proj;
  let drawn = 0;
  ctx.beginPath();
  for (let s = 0; s < n; s++) {
    if (!store.present[s]) continue;
    const r = (store.radius.data[s] as number) * worldScale;
    if (r <= minRadiusPx) return 0; // same resolution everywhere: all cells are this small
    const x = (store.cmx.data[s] as number) * worldScale - ox;
    const y = (store.cmy.data[s] as number) * worldScale - oy;
    if (x + r < 0 || y + r < 0 || x - r > w || y - r > h) continue;
    const a = store.start[s] as number;
    const e = store.start[s + 1] as number;
    ctx.moveTo((proj[a] as number) - ox, (proj[a + 1] as number) - oy);
    for (let i = a + 2; i < e; i += 2) ctx.lineTo((proj[i] as number) - ox, (proj[i + 1] as number) - oy);
    ctx.closePath();
    drawn++;
  }
  ctx.strokeStyle = "rgba(255,255,255,0.55)";
  ctx.lineWidth = 0.75;
  ctx.stroke();
  return drawn;
}
