import { cellToBoundary, cellToLatLng, gridDisk, latLngToCell } from "h3-js";
import { describe, expect, it } from "vitest";
import { CellStore, decodeCompactRow, decodeCompactRows, geojsonToCompact, normaliseCellId } from "../src/map/cells";
import { sequentialScale } from "../src/map/colour";
import { drawHexLayer, type PathContext } from "../src/map/hexlayer";
import { latToMy, lonToMx, worldSize } from "../src/map/projection";

const HELSINKI = latLngToCell(60.1699, 24.9384, 9);

describe("compact cell decoding", () => {
  it("decodes [cell, mean, count, min, max, last]", () => {
    expect(decodeCompactRow([HELSINKI, 12.5, 7, 3, 20, 11])).toEqual({ cell: HELSINKI, mean: 12.5, count: 7, min: 3, max: 20, last: 11 });
  });

  it("normalises 0x-prefixed and upper-case ids", () => {
    expect(normaliseCellId(`0x${HELSINKI.toUpperCase()}`)).toBe(HELSINKI);
    expect(decodeCompactRow([HELSINKI.toUpperCase(), 1, 1, 1, 1, 1])?.cell).toBe(HELSINKI);
  });

  it("decodes null aggregates as NaN (a cell without data) but keeps the row", () => {
    const d = decodeCompactRow([HELSINKI, null, 0, null, null, null]);
    expect(d?.count).toBe(0);
    expect(Number.isNaN(d?.mean)).toBe(true);
  });

  it("rejects malformed rows and counts them", () => {
    const rows = [
      [HELSINKI, 1, 1, 1, 1, 1],
      ["not-a-cell", 1, 1, 1, 1, 1],
      [HELSINKI, 1, "x", 1, 1, 1],
      [HELSINKI, 1, -1, 1, 1, 1],
      [HELSINKI, 1, 1],
      { cell: HELSINKI },
      null,
    ];
    const { cells, rejected } = decodeCompactRows(rows);
    expect(cells).toHaveLength(1);
    expect(rejected).toBe(6);
  });

  it("converts the GeoJSON form to compact rows", () => {
    const rows = geojsonToCompact({ features: [{ properties: { cell: HELSINKI, count: 3, mean: 2, min: 1, max: 4, last: 2.5, last_ts: null } }] });
    expect(rows).toEqual([[HELSINKI, 2, 3, 1, 4, 2.5]]);
  });
});

describe("cell store", () => {
  it("projects each outline once, matching h3-js's boundary in mercator units", () => {
    const store = new CellStore();
    store.reset("pm25", 9);
    store.apply([{ cell: HELSINKI, mean: 1, count: 1, min: 1, max: 1, last: 1 }], 0);
    const b = cellToBoundary(HELSINKI);
    const s = store.slot(HELSINKI) as number;
    const a = store.start[s] as number;
    expect((store.start[s + 1] as number) - a).toBe(b.length * 2);
    b.forEach(([lat, lng], i) => {
      expect(store.merc.data[a + 2 * i]).toBeCloseTo(lonToMx(lng), 14);
      expect(store.merc.data[a + 2 * i + 1]).toBeCloseTo(latToMy(lat), 14);
    });
    // Centroid close to the cell centre.
    const [clat, clng] = cellToLatLng(HELSINKI);
    expect(store.cmx.data[s]).toBeCloseTo(lonToMx(clng), 7);
    expect(store.cmy.data[s]).toBeCloseTo(latToMy(clat), 7);
  });

  it("updates in place, counts adds vs updates, and bumps the version", () => {
    const store = new CellStore();
    store.reset("pm25", 9);
    const v0 = store.version;
    const disk = gridDisk(HELSINKI, 2); // 19 cells
    const r1 = store.apply(disk.map((c, i) => ({ cell: c, mean: i, count: 1, min: i, max: i, last: i })), 1);
    expect(r1).toEqual({ updated: 0, added: 19, rejected: 0 });
    expect(store.presentCount).toBe(19);
    const r2 = store.apply([{ cell: disk[3] as string, mean: 99, count: 2, min: 0, max: 99, last: 99 }], 2);
    expect(r2).toEqual({ updated: 1, added: 0, rejected: 0 });
    expect(store.get(disk[3] as string)?.mean).toBe(99);
    expect(store.size).toBe(19);
    expect(store.version).toBeGreaterThan(v0 + 1);
  });

  it("applyRows gives the same state as decoding then applying, including rejects", () => {
    const disk = gridDisk(HELSINKI, 3);
    const rows: unknown[] = disk.map((c, i) => [i % 5 === 0 ? c.toUpperCase() : c, i * 1.5, i, i - 1, i + 1, i + 0.5]);
    rows.push(["zz", 1, 1, 1, 1, 1], [HELSINKI, 1, -2, 1, 1, 1], [disk[1], null, 3, null, null, null], "junk", [latLngToCell(60.17, 24.94, 8), 1, 1, 1, 1, 1]);
    const a = new CellStore();
    a.reset("pm25", 9);
    const ra = a.applyRows(rows, 5);
    const b = new CellStore();
    b.reset("pm25", 9);
    const d = decodeCompactRows(rows);
    const rb = b.apply(d.cells, 5);
    expect(ra.rejected).toBe(rb.rejected + d.rejected);
    expect(ra.added).toBe(rb.added);
    expect(ra.updated).toBe(rb.updated);
    expect(a.ids).toEqual(b.ids);
    for (const id of a.ids) expect(a.get(id)).toEqual(b.get(id));
    expect(a.updatedAtTime(disk[2] as string, 5)?.mean).toBe(3);
    expect(a.updatedAtTime(disk[2] as string, 6)).toBeNull();
    // Fast path on a second pass: every valid row is an update.
    const again = a.applyRows(rows, 6);
    expect(again.added).toBe(0);
    expect(again.updated).toBe(ra.added + ra.updated);
  });

  it("replaceRows marks cells missing from the snapshot absent", () => {
    const s = new CellStore();
    s.reset("pm25", 9);
    const disk = gridDisk(HELSINKI, 1);
    s.applyRows(disk.map((c) => [c, 1, 1, 1, 1, 1]), 0);
    s.replaceRows([[HELSINKI, 2, 1, 2, 2, 2]], 1);
    expect(s.presentCount).toBe(1);
    expect(s.get(HELSINKI)?.mean).toBe(2);
  });

  it("rejects cells of another resolution and invalid ids", () => {
    const store = new CellStore();
    store.reset("pm25", 9);
    const r8 = latLngToCell(60.17, 24.94, 8);
    const r = store.apply(
      [
        { cell: r8, mean: 1, count: 1, min: 1, max: 1, last: 1 },
        { cell: "8f0000000000000", mean: 1, count: 1, min: 1, max: 1, last: 1 },
      ],
      0,
    );
    expect(r.rejected).toBe(2);
    expect(store.size).toBe(0);
  });

  it("a snapshot marks cells it lacks as absent but keeps their outlines", () => {
    const store = new CellStore();
    store.reset("pm25", 9);
    const disk = gridDisk(HELSINKI, 1);
    store.apply(disk.map((c) => ({ cell: c, mean: 1, count: 1, min: 1, max: 1, last: 1 })), 0);
    store.replace([{ cell: HELSINKI, mean: 5, count: 1, min: 5, max: 5, last: 5 }], 1);
    expect(store.presentCount).toBe(1);
    expect(store.get(disk[1] === HELSINKI ? (disk[2] as string) : (disk[1] as string))).toBeNull();
    expect(store.size).toBe(7);
  });

  it("re-projects per zoom and only projects new slots incrementally", () => {
    const store = new CellStore();
    store.reset("pm25", 9);
    store.apply([{ cell: HELSINKI, mean: 1, count: 1, min: 1, max: 1, last: 1 }], 0);
    store.ensureProjected(12);
    const a = store.start[0] as number;
    expect(store.proj[a]).toBeCloseTo((store.merc.data[a] as number) * worldSize(12), 6);
    const other = gridDisk(HELSINKI, 1).find((c) => c !== HELSINKI) as string;
    store.apply([{ cell: other, mean: 1, count: 1, min: 1, max: 1, last: 1 }], 0);
    store.ensureProjected(12);
    const b = store.start[1] as number;
    expect(store.proj[b]).toBeCloseTo((store.merc.data[b] as number) * worldSize(12), 6);
    store.ensureProjected(13);
    expect(store.proj[a]).toBeCloseTo((store.merc.data[a] as number) * worldSize(13), 6);
  });
});

/** A fake 2D context that records path operations. */
class RecordingContext implements PathContext {
  fillStyle: string | CanvasGradient | CanvasPattern = "";
  strokeStyle: string | CanvasGradient | CanvasPattern = "";
  lineWidth = 1;
  globalAlpha = 1;
  fills: { colour: string; subpaths: number }[] = [];
  strokes = 0;
  private subpaths = 0;
  points: [number, number][] = [];
  beginPath(): void {
    this.subpaths = 0;
  }
  moveTo(x: number, y: number): void {
    this.subpaths++;
    this.points.push([x, y]);
  }
  lineTo(x: number, y: number): void {
    this.points.push([x, y]);
  }
  closePath(): void {}
  rect(x: number, y: number): void {
    this.subpaths++;
    this.points.push([x, y]);
  }
  fill(): void {
    this.fills.push({ colour: String(this.fillStyle), subpaths: this.subpaths });
  }
  stroke(): void {
    this.strokes++;
  }
}

describe("hex layer drawing", () => {
  function storeWith(n: number): CellStore {
    const store = new CellStore();
    store.reset("x", 9);
    const cells = gridDisk(HELSINKI, 20).slice(0, n);
    store.apply(
      cells.map((c, i) => ({ cell: c, mean: i % 10, count: 1, min: 0, max: 0, last: 0 })),
      0,
    );
    return store;
  }
  const centre = (zoom: number, w: number, h: number): { zoom: number; originX: number; originY: number; width: number; height: number } => {
    const [lat, lng] = cellToLatLng(HELSINKI);
    const s = worldSize(zoom);
    return { zoom, originX: lonToMx(lng) * s - w / 2, originY: latToMy(lat) * s - h / 2, width: w, height: h };
  };

  it("fills once per non-empty colour bucket (up to 512 cells per path), covering every visible cell", () => {
    const store = storeWith(500);
    const scale = sequentialScale(0, 10, 5); // values 0..9 -> 5 buckets of two values each
    const ctx = new RecordingContext();
    const stats = drawHexLayer(ctx, store, scale, centre(12, 4000, 4000));
    expect(stats.fills).toBe(5);
    expect(ctx.fills).toHaveLength(5);
    expect(new Set(ctx.fills.map((f) => f.colour)).size).toBe(5);
    expect(ctx.fills.reduce((a, f) => a + f.subpaths, 0)).toBe(500);
    expect(stats.drawn).toBe(500);
    expect(stats.culled).toBe(0);
  });

  it("puts each cell in the bucket of its value", () => {
    const store = storeWith(100);
    const scale = sequentialScale(0, 10, 5);
    const ctx = new RecordingContext();
    drawHexLayer(ctx, store, scale, centre(12, 4000, 4000));
    // Values 0..9 each occur 10 times; each bucket holds two values -> 20 cells.
    for (const f of ctx.fills) expect(f.subpaths).toBe(20);
  });

  it("culls cells outside the view", () => {
    const store = storeWith(500);
    const scale = sequentialScale(0, 10, 5);
    const ctx = new RecordingContext();
    const stats = drawHexLayer(ctx, store, scale, centre(15, 200, 200));
    expect(stats.drawn).toBeGreaterThan(0);
    expect(stats.drawn).toBeLessThan(500);
    expect(stats.drawn + stats.culled).toBe(500);
    for (const [x, y] of ctx.points) {
      expect(x).toBeGreaterThan(-200);
      expect(x).toBeLessThan(400);
      expect(y).toBeGreaterThan(-200);
      expect(y).toBeLessThan(400);
    }
  });

  it("draws cells without a value in the no-data colour", () => {
    const store = new CellStore();
    store.reset("x", 9);
    store.apply([{ cell: HELSINKI, mean: NaN, count: 0, min: NaN, max: NaN, last: NaN }], 0);
    const ctx = new RecordingContext();
    drawHexLayer(ctx, store, sequentialScale(0, 1, 2), centre(12, 800, 800));
    expect(ctx.fills).toEqual([{ colour: "#9aa3ad", subpaths: 1 }]);
  });

  it("draws vertices where the projection puts them", () => {
    const store = storeWith(1);
    const ctx = new RecordingContext();
    const view = centre(14, 800, 600);
    drawHexLayer(ctx, store, sequentialScale(0, 10, 5), view, { outlineRadiusPx: 1e9 });
    const b = cellToBoundary(HELSINKI);
    const s = worldSize(14);
    b.forEach(([lat, lng], i) => {
      const [x, y] = ctx.points[i] as [number, number];
      expect(x).toBeCloseTo(lonToMx(lng) * s - view.originX, 6);
      expect(y).toBeCloseTo(latToMy(lat) * s - view.originY, 6);
    });
  });
});
