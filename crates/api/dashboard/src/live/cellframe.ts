// Columnar cell frames: the compact rows of one stream message (or one snapshot) turned into
// typed arrays that move between threads without copying (their buffers are transferred).
//
// The sender (the feed worker) gives every distinct cell id a small integer key the first time
// it sees it and sends the id string only then; afterwards a row is one key and five numbers.
// The receiver (CellStore.applyFrame) maps keys to its slots with an array lookup, so applying
// 50,000 rows costs no string hashing and no object per row on the main thread.
//
// Keys are valid for one generation: a subscription (metric, resolution) starts a new key table
// on the sender and a fresh key map on the receiver.
//
// `CellKeyTable.scanMessage` reads a whole `cells` stream message straight from its text: no
// JSON.parse, no array or string per row (cell ids are parsed from their hex digits into two
// 32-bit halves and looked up in an integer hash table). It accepts exactly the compact form the
// server writes and returns null for anything else, and the caller then falls back to JSON.parse
// and `encode`, which gives the same frame.

import { normaliseCellId } from "../map/cellid";

/** Values per row in `CellFrame.values`: mean, count, min, max, last. */
export const FRAME_STRIDE = 5;

/** The rows of one message in columnar form. */
export interface CellFrame {
  /** One key per accepted row. */
  keys: Int32Array;
  /** FRAME_STRIDE values per row: mean, count, min, max, last; NaN where the server sent null. */
  values: Float64Array;
  /** Key of `newIds[0]`; the ids of keys `firstKey .. firstKey + newIds.length - 1`. */
  firstKey: number;
  /** Cell ids (normalised: lowercase hex) seen for the first time in this frame. */
  newIds: string[];
  /** Rows dropped by validation (not an array of six, bad id, bad count). */
  rejected: number;
}

/** What `scanMessage` found: a frame of the subscription, a cells message of another one, or null (not the compact form: parse it). */
export type ScanResult = { kind: "frame"; frame: CellFrame; res: number; metric: string } | { kind: "other"; res: number; metric: string } | null;

function num(v: unknown): number {
  return typeof v === "number" ? v : Number.NaN;
}

/** Exact powers of ten (10^0 .. 10^22 are exactly representable doubles). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** Hex digit value, or -1. Lowercase only: the compact form writes lowercase ids. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Splits a 15-16 digit lowercase hex id into its high and low 32 bits (as int32). */
function idHalves(id: string): [number, number] {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < id.length; i++) {
    const v = hexValue(id.charCodeAt(i));
    hi = ((hi << 4) | (lo >>> 28)) | 0;
    lo = ((lo << 4) | v) | 0;
  }
  return [hi, lo];
}

function hashHalves(hi: number, lo: number): number {
  return (Math.imul(lo, 0x9e3779b1) ^ Math.imul(hi ^ (lo >>> 15), 0x85ebca6b)) >>> 0;
}

const HEADER = /^\{"type":"cells","res":(\d{1,2}),"metric":"([^"\\]{0,200})","cells":\[/;

/** The sender's side: cell id → key, assigned in order of first appearance. */
export class CellKeyTable {
  private readonly keyOf = new Map<string, number>();
  /** Key → id, and the id's halves, for the integer table and rollback. */
  private readonly ids: string[] = [];
  private keyHi = new Int32Array(1024);
  private keyLo = new Int32Array(1024);
  /** Open addressing: key + 1 per bucket, 0 = empty. */
  private buckets = new Int32Array(2048);

  /** Keys assigned so far. */
  get size(): number {
    return this.ids.length;
  }

  private findHalves(hi: number, lo: number): number {
    const mask = this.buckets.length - 1;
    let b = hashHalves(hi, lo) & mask;
    for (;;) {
      const k = (this.buckets[b] as number) - 1;
      if (k < 0) return -1;
      if (this.keyHi[k] === hi && this.keyLo[k] === lo) return k;
      b = (b + 1) & mask;
    }
  }

  private placeInBuckets(k: number): void {
    const mask = this.buckets.length - 1;
    let b = hashHalves(this.keyHi[k] as number, this.keyLo[k] as number) & mask;
    while (this.buckets[b] !== 0) b = (b + 1) & mask;
    this.buckets[b] = k + 1;
  }

  private rebuildBuckets(capacity: number): void {
    this.buckets = new Int32Array(capacity);
    for (let k = 0; k < this.ids.length; k++) this.placeInBuckets(k);
  }

  /** Assigns the next key to a normalised id whose halves are given. */
  private add(id: string, hi: number, lo: number): number {
    const k = this.ids.length;
    this.ids.push(id);
    this.keyOf.set(id, k);
    if (k >= this.keyHi.length) {
      const h = new Int32Array(this.keyHi.length * 2);
      h.set(this.keyHi);
      this.keyHi = h;
      const l = new Int32Array(this.keyLo.length * 2);
      l.set(this.keyLo);
      this.keyLo = l;
    }
    this.keyHi[k] = hi;
    this.keyLo[k] = lo;
    if ((k + 1) * 2 > this.buckets.length) this.rebuildBuckets(this.buckets.length * 2);
    else this.placeInBuckets(k);
    return k;
  }

  /** Forgets keys `from` and above (a scan that gave up half-way). */
  private truncate(from: number): void {
    if (from >= this.ids.length) return;
    for (let k = from; k < this.ids.length; k++) this.keyOf.delete(this.ids[k] as string);
    this.ids.length = from;
    this.rebuildBuckets(this.buckets.length);
  }

  /**
   * Encodes compact rows `[cell_hex, mean, count, min, max, last]` into a frame. Rows that are
   * not arrays of at least six, whose id is not 15-16 hex digits, or whose count is not a
   * finite number >= 0 are counted as rejected. Whether an id is a valid H3 cell of the wanted
   * resolution is the receiver's check (it needs h3-js, and only once per new key).
   */
  encode(rows: readonly unknown[]): CellFrame {
    const n = rows.length;
    const keys = new Int32Array(n);
    const values = new Float64Array(n * FRAME_STRIDE);
    const firstKey = this.ids.length;
    let k = 0;
    let rejected = 0;
    for (let i = 0; i < n; i++) {
      const row = rows[i];
      if (!Array.isArray(row) || row.length < 6) {
        rejected++;
        continue;
      }
      const count = row[2];
      if (typeof count !== "number" || !Number.isFinite(count) || count < 0) {
        rejected++;
        continue;
      }
      const raw = row[0];
      let key = typeof raw === "string" ? this.keyOf.get(raw) : undefined;
      if (key === undefined) {
        const id = normaliseCellId(raw);
        if (id === null) {
          rejected++;
          continue;
        }
        key = this.keyOf.get(id);
        if (key === undefined) {
          const [hi, lo] = idHalves(id);
          key = this.add(id, hi, lo);
        }
      }
      keys[k] = key;
      const o = k * FRAME_STRIDE;
      values[o] = num(row[1]);
      values[o + 1] = count;
      values[o + 2] = num(row[3]);
      values[o + 3] = num(row[4]);
      values[o + 4] = num(row[5]);
      k++;
    }
    return {
      keys: k === n ? keys : keys.slice(0, k),
      values: k === n ? values : values.slice(0, k * FRAME_STRIDE),
      firstKey,
      newIds: this.ids.slice(firstKey),
      rejected,
    };
  }

  /**
   * Reads a `cells` stream message in the server's compact form directly from its text:
   * `{"type":"cells","res":R,"metric":"M","cells":[["<15-16 lowercase hex>",n,n,n,n,n],...]}`
   * with numbers as JSON writes them (or `null`) and no whitespace. A message of another
   * subscription returns "other" without reading its rows. Anything else (whitespace, escapes,
   * upper-case ids, other keys or order) returns null with the table unchanged, and the caller
   * parses it with JSON.parse and `encode`, which gives the same frame.
   */
  scanMessage(t: string, sub: { metric: string; res: number }): ScanResult {
    const head = HEADER.exec(t.length > 300 ? t.slice(0, 300) : t);
    if (!head) return null;
    const res = Number(head[1]);
    const metric = head[2] as string;
    if (res !== sub.res || metric !== sub.metric) return { kind: "other", res, metric };
    const firstKey = this.ids.length;
    // Rows take at least 25 characters; size the arrays for the most that could fit.
    const cap = Math.max(1, Math.floor((t.length - head[0].length) / 25) + 1);
    let keys = new Int32Array(cap);
    let values = new Float64Array(cap * FRAME_STRIDE);
    let k = 0;
    let rejected = 0;
    let i = head[0].length;
    let ok = true;
    let c = 0;
    if (t.charCodeAt(i) !== 93) {
      rows: for (;;) {
        // ["hex",
        if (t.charCodeAt(i) !== 91 || t.charCodeAt(i + 1) !== 34) {
          ok = false;
          break;
        }
        let j = i + 2;
        let hi = 0;
        let lo = 0;
        for (;;) {
          c = t.charCodeAt(j);
          let v: number;
          if (c >= 48 && c <= 57) v = c - 48;
          else if (c >= 97 && c <= 102) v = c - 87;
          else break;
          hi = ((hi << 4) | (lo >>> 28)) | 0;
          lo = ((lo << 4) | v) | 0;
          j++;
        }
        const digits = j - i - 2;
        if (c !== 34 || t.charCodeAt(j + 1) !== 44 || digits < 15 || digits > 16) {
          ok = false;
          break;
        }
        const idStart = i + 2;
        i = j + 2;
        if (k === keys.length) {
          const nk = new Int32Array(keys.length * 2);
          nk.set(keys);
          keys = nk;
          const nv = new Float64Array(values.length * 2);
          nv.set(values);
          values = nv;
        }
        // Five numbers, each followed by "," (the last by "]"), written to row k's values.
        const o = k * FRAME_STRIDE;
        for (let f = 0; f < FRAME_STRIDE; f++) {
          c = t.charCodeAt(i);
          let value: number;
          if (c === 110) {
            // null
            if (t.charCodeAt(i + 1) !== 117 || t.charCodeAt(i + 2) !== 108 || t.charCodeAt(i + 3) !== 108) {
              ok = false;
              break rows;
            }
            i += 4;
            value = Number.NaN;
          } else {
            const start = i;
            let neg = false;
            if (c === 45) {
              neg = true;
              c = t.charCodeAt(++i);
            }
            if (c < 48 || c > 57) {
              ok = false;
              break rows;
            }
            let mant = 0;
            let nd = 0;
            let frac = 0;
            while (c >= 48 && c <= 57) {
              mant = mant * 10 + (c - 48);
              nd++;
              c = t.charCodeAt(++i);
            }
            if (c === 46) {
              c = t.charCodeAt(++i);
              if (c < 48 || c > 57) {
                ok = false;
                break rows;
              }
              while (c >= 48 && c <= 57) {
                mant = mant * 10 + (c - 48);
                nd++;
                frac++;
                c = t.charCodeAt(++i);
              }
            }
            if (c === 101 || c === 69) {
              c = t.charCodeAt(++i);
              if (c === 43 || c === 45) c = t.charCodeAt(++i);
              if (c < 48 || c > 57) {
                ok = false;
                break rows;
              }
              while (c >= 48 && c <= 57) c = t.charCodeAt(++i);
              value = Number(t.slice(start, i));
            } else if (nd > 15) {
              value = Number(t.slice(start, i));
            } else {
              // Up to 15 significant digits the mantissa is an exact integer and 10^frac an
              // exact double, so one division is correctly rounded: the double JSON.parse gives.
              value = frac ? mant / (POW10[frac] as number) : mant;
              if (neg) value = -value;
            }
          }
          values[o + f] = value;
          if (t.charCodeAt(i++) !== (f === FRAME_STRIDE - 1 ? 93 : 44)) {
            ok = false;
            break rows;
          }
        }
        const cnt = values[o + 1] as number;
        if (cnt >= 0 && cnt !== Infinity) {
          let key = this.findHalves(hi, lo);
          if (key < 0) key = this.add(t.slice(idStart, j), hi, lo);
          keys[k] = key;
          k++;
        } else {
          rejected++;
        }
        c = t.charCodeAt(i);
        if (c === 44) {
          i++;
          continue;
        }
        if (c === 93) break;
        ok = false;
        break;
      }
    }
    // ]} and the end.
    if (!ok || t.charCodeAt(i) !== 93 || t.charCodeAt(i + 1) !== 125 || i + 2 !== t.length) {
      this.truncate(firstKey);
      return null;
    }
    return {
      kind: "frame",
      res,
      metric,
      frame: {
        keys: keys.slice(0, k),
        values: values.slice(0, k * FRAME_STRIDE),
        firstKey,
        newIds: this.ids.slice(firstKey),
        rejected,
      },
    };
  }
}

/** Number of rows in a frame. */
export function frameRows(f: CellFrame): number {
  return f.keys.length;
}

/** The buffers to transfer with `postMessage` (the frame is unusable by the sender afterwards). */
export function frameTransfer(f: CellFrame): ArrayBuffer[] {
  return [f.keys.buffer as ArrayBuffer, f.values.buffer as ArrayBuffer];
}
