// The live H3 cell layer's data: decoding of the compact wire form, and a store that keeps
// every cell's aggregates plus its outline projected once (Mercator units) and per zoom
// (world pixels), in flat typed arrays so 50,000 cells redraw in one pass.

import { cellToBoundary, getResolution, isValidCell } from "h3-js";
import type { CompactCell } from "../api/types";
import { FRAME_STRIDE, type CellFrame } from "../live/cellframe";
import { normaliseCellId } from "./cellid";
import { latToMy, lonToMx, worldSize } from "./projection";

/** Aggregates of one cell over the query window. NaN where the server sent null. */
export interface CellAggregate {
  cell: string;
  mean: number;
  count: number;
  min: number;
  max: number;
  last: number;
}

function num(v: unknown): number {
  return typeof v === "number" ? v : v === null ? NaN : Number.NaN;
}

export { normaliseCellId };

/**
 * Decodes one `[cell_hex, mean, count, min, max, last]` row. Rows with a malformed id or a
 * non-numeric count are rejected (null); null aggregates decode as NaN (a cell without data).
 */
export function decodeCompactRow(row: unknown): CellAggregate | null {
  if (!Array.isArray(row) || row.length < 6) return null;
  const cell = normaliseCellId(row[0]);
  if (!cell) return null;
  const count = num(row[2]);
  if (!Number.isFinite(count) || count < 0) return null;
  return { cell, mean: num(row[1]), count, min: num(row[3]), max: num(row[4]), last: num(row[5]) };
}

export interface DecodedCells {
  cells: CellAggregate[];
  /** Rows that could not be decoded (bad id or count). */
  rejected: number;
}

export function decodeCompactRows(rows: readonly unknown[]): DecodedCells {
  const cells: CellAggregate[] = [];
  let rejected = 0;
  for (const r of rows) {
    const d = decodeCompactRow(r);
    if (d) cells.push(d);
    else rejected++;
  }
  return { cells, rejected };
}

/** Converts the GeoJSON form of `/api/v1/cells` (hex polygons) to the compact rows. */
export function geojsonToCompact(fc: { features: { properties: Record<string, unknown> }[] }): CompactCell[] {
  return fc.features.map((f) => {
    const p = f.properties;
    return [String(p.cell), num(p.mean), num(p.count), num(p.min), num(p.max), num(p.last)] as CompactCell;
  });
}

/** Mercator outline of a cell: [mx0, my0, mx1, my1, ...], counter-clockwise as H3 gives it. */
export function cellOutlineMercator(cell: string): Float64Array {
  const boundary = cellToBoundary(cell); // [lat, lng] pairs
  const out = new Float64Array(boundary.length * 2);
  for (let i = 0; i < boundary.length; i++) {
    const p = boundary[i] as [number, number];
    out[2 * i] = lonToMx(p[1]);
    out[2 * i + 1] = latToMy(p[0]);
  }
  return out;
}

/** Growable Float64Array (amortised doubling). */
class F64 {
  data: Float64Array;
  length = 0;
  constructor(cap = 1024) {
    this.data = new Float64Array(cap);
  }
  reserve(n: number): void {
    if (this.length + n <= this.data.length) return;
    let cap = this.data.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Float64Array(cap);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  push(v: number): void {
    this.reserve(1);
    this.data[this.length++] = v;
  }
  clear(): void {
    this.length = 0;
  }
}

export interface ApplyResult {
  updated: number;
  added: number;
  rejected: number;
}

/** A cell whose value changed when a frame was applied: what it held before and after. */
export interface CellChange {
  cell: string;
  before: { mean: number; count: number; last: number };
  after: { mean: number; count: number; last: number };
}

/** The result of applying a frame: counts, and how many present cells changed value. */
export interface FrameResult extends ApplyResult {
  /** Rows that changed the mean, count or last value of a cell that was already present. */
  changed: number;
  /** The last such change (null when none). */
  lastChange: CellChange | null;
}

/** NaN-aware inequality: two NaNs are equal (both "no data"). */
function differs(a: number, b: number): boolean {
  return a !== b && !(Number.isNaN(a) && Number.isNaN(b));
}

/**
 * All cells of one (metric, resolution) pair. A cell gets a slot the first time it is seen; its
 * outline is computed then and never again (until `reset`). Slots are not freed by a snapshot
 * that lacks the cell: the cell is marked absent and skipped by the renderer.
 */
export class CellStore {
  res: number | null = null;
  metric = "";
  unit = "";

  private readonly slotOf = new Map<string, number>();
  ids: string[] = [];
  present: Uint8Array = new Uint8Array(1024);
  mean = new F64();
  count = new F64();
  min = new F64();
  max = new F64();
  last = new F64();
  /** Updated-at (ms) per slot, for "last update" display. */
  updatedAt = new F64();
  /** Outline vertices in Mercator units, flat; slot i's run is [start[i], start[i+1]). */
  merc = new F64(8192);
  /** Vertex-run start per slot (in doubles); has slots+1 entries. */
  start: number[] = [0];
  /** Centroid (Mercator) and circumradius (Mercator units) per slot, for culling and LOD. */
  cmx = new F64();
  cmy = new F64();
  radius = new F64();

  /** Outlines in world pixels at `projZoom`; valid for slots < projCount. */
  proj = new Float64Array(0);
  projZoom = NaN;
  projCount = 0;

  /**
   * Key of the frame sender's table (see `live/cellframe.ts`) → slot; -1 = rejected id. Keys at
   * or above `keyCount` are unknown. Reset with `resetKeys` when the sender starts a new table.
   */
  private keySlot = new Int32Array(1024);
  private keyCount = 0;

  /** Monotonic change counter; the renderer redraws when it differs from what it drew. */
  version = 0;
  /**
   * Changes when the set of drawable cells changes (a slot added, a cell becoming present or
   * absent, a reset), not when only values change; the raster cache re-rasterises on it.
   */
  geomVersion = 0;
  presentCount = 0;

  /** Number of slots (present or not). */
  get size(): number {
    return this.ids.length;
  }

  /** Drops every cell and outline (on a metric or resolution change). */
  reset(metric: string, res: number, unit = ""): void {
    this.metric = metric;
    this.res = res;
    this.unit = unit;
    this.slotOf.clear();
    this.ids = [];
    this.present = new Uint8Array(1024);
    for (const a of [this.mean, this.count, this.min, this.max, this.last, this.updatedAt, this.merc, this.cmx, this.cmy, this.radius]) a.clear();
    this.start = [0];
    this.proj = new Float64Array(0);
    this.projZoom = NaN;
    this.projCount = 0;
    this.presentCount = 0;
    this.resetKeys();
    this.version++;
    this.geomVersion++;
  }

  /** Forgets the frame sender's keys (a new feed generation starts a new key table). */
  resetKeys(): void {
    this.keyCount = 0;
  }

  slot(cell: string): number | undefined {
    return this.slotOf.get(cell);
  }

  get(cell: string): CellAggregate | null {
    const s = this.slotOf.get(cell);
    if (s === undefined || !this.present[s]) return null;
    return {
      cell,
      mean: this.mean.data[s] as number,
      count: this.count.data[s] as number,
      min: this.min.data[s] as number,
      max: this.max.data[s] as number,
      last: this.last.data[s] as number,
    };
  }

  private addSlot(cell: string): number | null {
    let outline: Float64Array;
    try {
      if (!isValidCell(cell)) return null;
      if (this.res !== null && getResolution(cell) !== this.res) return null;
      outline = cellOutlineMercator(cell);
    } catch {
      return null;
    }
    const s = this.ids.length;
    this.ids.push(cell);
    this.slotOf.set(cell, s);
    if (s >= this.present.length) {
      const next = new Uint8Array(this.present.length * 2);
      next.set(this.present);
      this.present = next;
    }
    for (const a of [this.mean, this.count, this.min, this.max, this.last, this.updatedAt]) a.push(NaN);
    this.merc.reserve(outline.length);
    this.merc.data.set(outline, this.merc.length);
    this.merc.length += outline.length;
    this.start.push(this.merc.length);
    // Centroid and circumradius in Mercator units.
    let sx = 0;
    let sy = 0;
    const n = outline.length / 2;
    for (let i = 0; i < n; i++) {
      sx += outline[2 * i] as number;
      sy += outline[2 * i + 1] as number;
    }
    const cx = sx / n;
    const cy = sy / n;
    let r = 0;
    for (let i = 0; i < n; i++) {
      const dx = (outline[2 * i] as number) - cx;
      const dy = (outline[2 * i + 1] as number) - cy;
      r = Math.max(r, Math.hypot(dx, dy));
    }
    this.cmx.push(cx);
    this.cmy.push(cy);
    this.radius.push(r);
    return s;
  }

  /** Upserts cells (stream deltas or a snapshot page). Invalid or off-resolution ids are rejected. */
  apply(cells: readonly CellAggregate[], nowMs: number): ApplyResult {
    let updated = 0;
    let added = 0;
    let rejected = 0;
    for (const c of cells) {
      let s = this.slotOf.get(c.cell);
      if (s === undefined) {
        const ns = this.addSlot(c.cell);
        if (ns === null) {
          rejected++;
          continue;
        }
        s = ns;
        added++;
      } else {
        updated++;
      }
      if (!this.present[s]) {
        this.present[s] = 1;
        this.presentCount++;
        this.geomVersion++;
      }
      this.mean.data[s] = c.mean;
      this.count.data[s] = c.count;
      this.min.data[s] = c.min;
      this.max.data[s] = c.max;
      this.last.data[s] = c.last;
      this.updatedAt.data[s] = nowMs;
    }
    if (updated + added > 0) this.version++;
    return { updated, added, rejected };
  }

  /**
   * Applies compact rows `[cell_hex, mean, count, min, max, last]` directly, without building an
   * object per row: known ids take a fast path (one map lookup and five stores); unknown or
   * non-canonical ids go through `decodeCompactRow` and outline projection. Rows that fail
   * validation are counted as rejected. Same result as `apply(decodeCompactRows(rows).cells)`.
   */
  applyRows(rows: readonly unknown[], nowMs: number): ApplyResult {
    let updated = 0;
    let added = 0;
    let rejected = 0;
    for (const row of rows) {
      if (!Array.isArray(row) || row.length < 6) {
        rejected++;
        continue;
      }
      let s = typeof row[0] === "string" ? this.slotOf.get(row[0]) : undefined;
      const count = num(row[2]);
      if (!Number.isFinite(count) || count < 0) {
        rejected++;
        continue;
      }
      if (s === undefined) {
        const d = decodeCompactRow(row);
        if (!d) {
          rejected++;
          continue;
        }
        s = this.slotOf.get(d.cell);
        if (s === undefined) {
          const ns = this.addSlot(d.cell);
          if (ns === null) {
            rejected++;
            continue;
          }
          s = ns;
          added++;
        } else {
          updated++;
        }
      } else {
        updated++;
      }
      if (!this.present[s]) {
        this.present[s] = 1;
        this.presentCount++;
        this.geomVersion++;
      }
      this.mean.data[s] = num(row[1]);
      this.count.data[s] = count;
      this.min.data[s] = num(row[3]);
      this.max.data[s] = num(row[4]);
      this.last.data[s] = num(row[5]);
      this.updatedAt.data[s] = nowMs;
    }
    if (updated + added > 0) this.version++;
    return { updated, added, rejected };
  }

  /**
   * Applies a columnar frame (stream deltas or a snapshot, see `live/cellframe.ts`). New keys are
   * resolved once: an id already in the store keeps its slot, a new valid cell of the store's
   * resolution gets one, anything else maps to "rejected". Known keys cost one array lookup.
   * Same state and counts as `applyRows` on the rows the frame was encoded from (`added` = slots
   * created, `updated` = the other accepted rows).
   */
  applyFrame(f: CellFrame, nowMs: number): FrameResult {
    let accepted = 0;
    let added = 0;
    let rejected = f.rejected;
    let changed = 0;
    let lastSlot = -1;
    let bm = NaN;
    let bc = NaN;
    let bl = NaN;
    if (f.newIds.length) {
      const end = f.firstKey + f.newIds.length;
      if (end > this.keySlot.length) {
        let cap = this.keySlot.length * 2;
        while (cap < end) cap *= 2;
        const next = new Int32Array(cap);
        next.set(this.keySlot.subarray(0, this.keyCount));
        this.keySlot = next;
      }
      // Keys skipped by a lost frame stay unknown (-1) rather than pointing at a wrong cell.
      for (let k = this.keyCount; k < f.firstKey; k++) this.keySlot[k] = -1;
      for (let i = 0; i < f.newIds.length; i++) {
        const id = f.newIds[i] as string;
        let s = this.slotOf.get(id);
        if (s === undefined) {
          s = this.addSlot(id) ?? -1;
          if (s >= 0) added++;
        }
        this.keySlot[f.firstKey + i] = s;
      }
      this.keyCount = Math.max(this.keyCount, end);
    }
    const keys = f.keys;
    const v = f.values;
    const keySlot = this.keySlot;
    const keyCount = this.keyCount;
    const mean = this.mean.data;
    const count = this.count.data;
    const min = this.min.data;
    const max = this.max.data;
    const last = this.last.data;
    const at = this.updatedAt.data;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as number;
      const s = k >= 0 && k < keyCount ? (keySlot[k] as number) : -1;
      if (s < 0) {
        rejected++;
        continue;
      }
      const o = i * FRAME_STRIDE;
      const m = v[o] as number;
      const c = v[o + 1] as number;
      const l = v[o + 4] as number;
      accepted++;
      if (this.present[s]) {
        const om = mean[s] as number;
        const oc = count[s] as number;
        const ol = last[s] as number;
        if (differs(om, m) || differs(oc, c) || differs(ol, l)) {
          changed++;
          lastSlot = s;
          bm = om;
          bc = oc;
          bl = ol;
        }
      } else {
        this.present[s] = 1;
        this.presentCount++;
        this.geomVersion++;
      }
      mean[s] = m;
      count[s] = c;
      min[s] = v[o + 2] as number;
      max[s] = v[o + 3] as number;
      last[s] = l;
      at[s] = nowMs;
    }
    const updated = accepted - added;
    if (accepted > 0) this.version++;
    const lastChange =
      lastSlot < 0
        ? null
        : {
            cell: this.ids[lastSlot] as string,
            before: { mean: bm, count: bc, last: bl },
            after: { mean: mean[lastSlot] as number, count: count[lastSlot] as number, last: last[lastSlot] as number },
          };
    return { updated, added, rejected, changed, lastChange };
  }

  /** Replaces the whole state with a snapshot frame: cells missing from it become absent. */
  replaceFrame(f: CellFrame, nowMs: number): FrameResult {
    this.present.fill(0);
    this.presentCount = 0;
    this.geomVersion++;
    const r = this.applyFrame(f, nowMs);
    this.version++;
    return r;
  }

  /** Replaces the whole state with a snapshot of compact rows: cells missing from it become absent. */
  replaceRows(rows: readonly unknown[], nowMs: number): ApplyResult {
    this.present.fill(0);
    this.presentCount = 0;
    this.geomVersion++;
    const r = this.applyRows(rows, nowMs);
    this.version++;
    return r;
  }

  /** The aggregates of a cell if it was updated at exactly `nowMs` (by the last apply), else null. */
  updatedAtTime(cell: string, nowMs: number): CellAggregate | null {
    const s = this.slotOf.get(cell);
    return s !== undefined && this.updatedAt.data[s] === nowMs ? this.get(cell) : null;
  }

  /** Replaces the whole state with a snapshot: cells missing from it become absent. */
  replace(cells: readonly CellAggregate[], nowMs: number): ApplyResult {
    this.present.fill(0);
    this.presentCount = 0;
    this.geomVersion++;
    const r = this.apply(cells, nowMs);
    this.version++;
    return r;
  }

  /** Ensures `proj` holds world-pixel outlines at `zoom` for every slot (incremental for new slots). */
  ensureProjected(zoom: number): void {
    const total = this.merc.length;
    if (this.projZoom !== zoom) {
      this.projCount = 0;
      this.projZoom = zoom;
    }
    if (this.proj.length < total) {
      const next = new Float64Array(Math.max(total, this.proj.length * 2));
      next.set(this.proj.subarray(0, this.start[this.projCount] ?? 0));
      this.proj = next;
    }
    const scale = worldSize(zoom);
    const from = this.start[this.projCount] ?? 0;
    const m = this.merc.data;
    const p = this.proj;
    for (let i = from; i < total; i++) p[i] = (m[i] as number) * scale;
    this.projCount = this.ids.length;
  }

  /** Values of present cells (for data-driven colour domains). */
  *presentMeans(): IterableIterator<number> {
    for (let s = 0; s < this.ids.length; s++) if (this.present[s]) yield this.mean.data[s] as number;
  }
}
