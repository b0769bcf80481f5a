// The default hex renderer: a scanline rasteriser writing cells straight into a pixel buffer.
//
// Measured in headless Chromium (software raster, --disable-gpu), filling tens of thousands of
// small anti-aliased canvas paths costs hundreds of milliseconds and grows faster than linearly
// with the path size; writing pixels ourselves costs O(visible edges + covered pixels), and the
// covered pixels are bounded by the canvas area because cells tile the plane. Edges are not
// anti-aliased; when cells are large enough to see that, the map strokes their outlines on top.
//
// Sampling rule: a pixel is filled when its centre lies inside the cell (half-open spans
// [ceil(xl - 0.5), ceil(xr - 0.5)) on rows whose centre is inside), so neighbouring cells
// sharing an edge neither overlap nor leave gaps.
//
// Live updates change values, not shapes. `HexRasterCache` therefore rasterises slot numbers
// into an id buffer (one Int32 per pixel) only when the view or the set of cells changes, and
// otherwise recolours: one palette lookup per cell, then one pass over the pixels. At 50,000
// cells on a 1600x950 canvas that replaces ~40,000 polygon scans per update by a linear copy.

import type { CellStore } from "./cells";
import { NODATA_COLOUR, type ColourScale } from "./colour";
import type { CellValueField, HexDrawStats, ViewRect } from "./hexlayer";

/** Parses #rrggbb into a little-endian RGBA word (as Uint32Array over ImageData sees it). */
export function packColour(hex: string, alpha: number): number {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new RangeError(`colour must be #rrggbb, got ${hex}`);
  const r = parseInt(m[1] as string, 16);
  const g = parseInt(m[2] as string, 16);
  const b = parseInt(m[3] as string, 16);
  const a = Math.round(Math.max(0, Math.min(1, alpha)) * 255);
  return ((a << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

export interface PixelTarget {
  /** RGBA pixels, row-major, as a Uint32Array view (little-endian ABGR words). */
  pixels: Uint32Array;
  width: number;
  height: number;
}

/** What the scanline fill writes into: pixels, or slot ids (the cache's id buffer). */
export interface SpanTarget {
  pixels: Uint32Array | Int32Array;
  width: number;
  height: number;
}

export interface RasterOptions {
  alpha?: number;
  field?: CellValueField;
  /** Device pixels per CSS pixel. */
  dpr?: number;
}

const MAX_VERTS = 16;
const vx = new Float64Array(MAX_VERTS);
const vy = new Float64Array(MAX_VERTS);

/**
 * Fills one convex polygon (vertices in device pixels) with `colour`. Returns the number of
 * pixels written. Non-convex input is filled as the span between its outermost crossings.
 */
export function fillConvex(t: SpanTarget, xs: ArrayLike<number>, ys: ArrayLike<number>, n: number, colour: number): number {
  let minY = Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const y = ys[i] as number;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const y0 = Math.max(0, Math.ceil(minY - 0.5));
  const y1 = Math.min(t.height - 1, Math.ceil(maxY - 0.5) - 1);
  let written = 0;
  const w = t.width;
  const px = t.pixels;
  for (let y = y0; y <= y1; y++) {
    const cy = y + 0.5;
    let xl = Infinity;
    let xr = -Infinity;
    for (let i = 0, j = n - 1; i < n; j = i++) {
      const yi = ys[i] as number;
      const yj = ys[j] as number;
      // Half-open in y so a vertex exactly on the row centre counts once.
      if (yi <= cy !== yj <= cy) {
        const xi = xs[i] as number;
        const x = xi + ((cy - yi) * ((xs[j] as number) - xi)) / (yj - yi);
        if (x < xl) xl = x;
        if (x > xr) xr = x;
      }
    }
    if (xr < xl) continue;
    const a = Math.max(0, Math.ceil(xl - 0.5));
    const b = Math.min(w, Math.ceil(xr - 0.5));
    if (b > a) {
      px.fill(colour, y * w + a, y * w + b);
      written += b - a;
    }
  }
  return written;
}

/** Packed colours per bucket of `scale`, plus the no-data colour at index `scale.size`. */
function paletteOf(scale: ColourScale, alpha: number): Uint32Array {
  const palette = new Uint32Array(scale.size + 1);
  for (let b = 0; b < scale.size; b++) palette[b] = packColour(scale.colours[b] as string, alpha);
  palette[scale.size] = packColour(NODATA_COLOUR, alpha);
  return palette;
}

/**
 * Scans the visible present cells into `t` (not cleared here), writing `valueOf(slot)` over
 * each cell's pixels. Cells smaller than a pixel mark the pixel under their centre.
 */
function scanCells(t: SpanTarget, store: CellStore, view: ViewRect, dpr: number, valueOf: (slot: number) => number): HexDrawStats & { pixels: number } {
  const stats = { drawn: 0, culled: 0, fills: 0, pixels: 0 };
  const n = store.size;
  if (n === 0) return stats;
  store.ensureProjected(view.zoom);
  const worldScale = Math.pow(2, view.zoom) * 256;
  const ox = view.originX;
  const oy = view.originY;
  const cmx = store.cmx.data;
  const cmy = store.cmy.data;
  const rad = store.radius.data;
  const proj = store.proj;
  const start = store.start;
  const present = store.present;
  const W = t.width;
  const H = t.height;
  for (let s = 0; s < n; s++) {
    if (!present[s]) continue;
    const r = (rad[s] as number) * worldScale * dpr;
    const x = ((cmx[s] as number) * worldScale - ox) * dpr;
    const y = ((cmy[s] as number) * worldScale - oy) * dpr;
    if (x + r < 0 || y + r < 0 || x - r > W || y - r > H) {
      stats.culled++;
      continue;
    }
    const value = valueOf(s);
    stats.drawn++;
    if (r < 0.75) {
      const ix = Math.floor(x);
      const iy = Math.floor(y);
      if (ix >= 0 && iy >= 0 && ix < W && iy < H) {
        t.pixels[iy * W + ix] = value;
        stats.pixels++;
      }
      continue;
    }
    const a = start[s] as number;
    const e = start[s + 1] as number;
    const nv = Math.min(MAX_VERTS, (e - a) / 2);
    for (let i = 0; i < nv; i++) {
      vx[i] = ((proj[a + 2 * i] as number) - ox) * dpr;
      vy[i] = ((proj[a + 2 * i + 1] as number) - oy) * dpr;
    }
    stats.pixels += fillConvex(t, vx, vy, nv, value);
  }
  stats.fills = 1;
  return stats;
}

/**
 * Rasterises the visible cells of `store` into `t` (cleared first). Cells smaller than a pixel
 * still mark the pixel under their centre, so the densest views are never blank. Stateless;
 * the map uses `HexRasterCache`, which gives the same pixels.
 */
export function rasterHexLayer(t: PixelTarget, store: CellStore, scale: ColourScale, view: ViewRect, opts: RasterOptions = {}): HexDrawStats & { pixels: number } {
  t.pixels.fill(0);
  const palette = paletteOf(scale, opts.alpha ?? 0.7);
  const values = store[opts.field ?? "mean"].data;
  return scanCells(t, store, view, opts.dpr ?? 1, (s) => {
    const b = scale.bucketOf(values[s] as number);
    return palette[b < 0 ? scale.size : b] as number;
  });
}

/** How the cache produced the last image. */
export type RasterMode = "full" | "recolour";

/**
 * The map's hex rasteriser with an id buffer: `render` re-scans cells only when the view, the
 * canvas size or the set of drawable cells (`CellStore.geomVersion`) changed, and otherwise
 * recolours the pixels from the buffer. Either way the pixels equal `rasterHexLayer`'s.
 */
export class HexRasterCache {
  private ids = new Int32Array(0);
  private key = "";
  private slotColour = new Uint32Array(0);
  private last: HexDrawStats & { pixels: number } = { drawn: 0, culled: 0, fills: 0, pixels: 0 };
  /** Full scans and recolours so far. */
  scans = 0;
  recolours = 0;

  /** Forgets the id buffer (the next render scans). */
  invalidate(): void {
    this.key = "";
  }

  render(t: PixelTarget, store: CellStore, scale: ColourScale, view: ViewRect, opts: RasterOptions = {}): HexDrawStats & { pixels: number; mode: RasterMode } {
    const dpr = opts.dpr ?? 1;
    const size = t.width * t.height;
    const key = `${store.geomVersion}|${store.res}|${store.metric}|${view.zoom}|${view.originX}|${view.originY}|${t.width}|${t.height}|${dpr}`;
    let mode: RasterMode = "recolour";
    if (key !== this.key || this.ids.length !== size) {
      if (this.ids.length !== size) this.ids = new Int32Array(size);
      else this.ids.fill(0);
      // Slot s is stored as s + 1 so that 0 means "no cell".
      this.last = scanCells({ pixels: this.ids, width: t.width, height: t.height }, store, view, dpr, (s) => s + 1);
      this.key = key;
      mode = "full";
      this.scans++;
    } else {
      this.recolours++;
    }
    // Colour per slot, then one pass over the pixels.
    const n = store.size;
    if (this.slotColour.length < n + 1) this.slotColour = new Uint32Array(Math.max(n + 1, this.slotColour.length * 2));
    const sc = this.slotColour;
    const palette = paletteOf(scale, opts.alpha ?? 0.7);
    const values = store[opts.field ?? "mean"].data;
    const present = store.present;
    sc[0] = 0;
    for (let s = 0; s < n; s++) {
      if (!present[s]) {
        sc[s + 1] = 0;
        continue;
      }
      const b = scale.bucketOf(values[s] as number);
      sc[s + 1] = palette[b < 0 ? scale.size : b] as number;
    }
    const ids = this.ids;
    const px = t.pixels;
    for (let i = 0; i < size; i++) px[i] = sc[ids[i] as number] as number;
    return { ...this.last, mode };
  }
}
