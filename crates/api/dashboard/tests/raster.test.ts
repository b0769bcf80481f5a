import { cellToLatLng, gridDisk, latLngToCell } from "h3-js";
import { describe, expect, it } from "vitest";
import { CellStore } from "../src/map/cells";
import { sequentialScale } from "../src/map/colour";
import { fillConvex, HexRasterCache, packColour, rasterHexLayer, type PixelTarget } from "../src/map/hexraster";
import { latToMy, lonToMx, worldSize } from "../src/map/projection";

const target = (w: number, h: number): PixelTarget => ({ pixels: new Uint32Array(w * h), width: w, height: h });
const HEL = latLngToCell(60.1699, 24.9384, 9);

describe("scanline fill", () => {
  it("fills exactly the pixels whose centres are inside", () => {
    const t = target(6, 5);
    const n = fillConvex(t, [1, 4, 4, 1], [1, 1, 3, 3], 4, 7);
    expect(n).toBe(6);
    const filled: [number, number][] = [];
    t.pixels.forEach((v, i) => v && filled.push([i % 6, Math.floor(i / 6)]));
    expect(filled).toEqual([[1, 1], [2, 1], [3, 1], [1, 2], [2, 2], [3, 2]]);
  });

  it("clips to the target", () => {
    const t = target(4, 4);
    expect(fillConvex(t, [-10, 10, 10, -10], [-10, -10, 10, 10], 4, 1)).toBe(16);
  });

  it("fills a triangle's area within rounding", () => {
    const t = target(200, 200);
    const n = fillConvex(t, [10, 190, 10], [10, 10, 190], 3, 1);
    expect(Math.abs(n - 180 * 180 / 2)).toBeLessThan(200);
  });

  it("packs colours as little-endian RGBA words", () => {
    const word = packColour("#102030", 1);
    const bytes = new Uint8Array(new Uint32Array([word]).buffer);
    expect([...bytes]).toEqual([0x10, 0x20, 0x30, 255]);
    expect(() => packColour("red", 1)).toThrow(/#rrggbb/);
  });
});

describe("hex rasteriser", () => {
  const W = 400;
  const H = 300;
  function setup(k: number, zoom: number) {
    const store = new CellStore();
    store.reset("x", 9);
    const cells = gridDisk(HEL, k);
    store.applyRows(cells.map((c, i) => [c, i % 10, 1, 0, 0, 0]), 0);
    const [lat, lng] = cellToLatLng(HEL);
    const s = worldSize(zoom);
    const view = { zoom, originX: lonToMx(lng) * s - W / 2, originY: latToMy(lat) * s - H / 2, width: W, height: H };
    return { store, cells, view };
  }

  it("neighbouring cells neither overlap nor leave gaps", () => {
    const { store, cells, view } = setup(2, 15);
    // Rasterise each cell alone and count how often each pixel is covered.
    const cover = new Uint8Array(W * H);
    for (const c of cells) {
      const one = new CellStore();
      one.reset("x", 9);
      one.applyRows([[c, 1, 1, 1, 1, 1]], 0);
      const t = target(W, H);
      rasterHexLayer(t, one, sequentialScale(0, 10, 5), view, { alpha: 1 });
      t.pixels.forEach((v, i) => {
        if (v) cover[i] = (cover[i] as number) + 1;
      });
    }
    expect(Math.max(...cover)).toBe(1);
    // No hole in a box around the centre cell (well inside the disk).
    for (let y = H / 2 - 15; y < H / 2 + 15; y++) for (let x = W / 2 - 15; x < W / 2 + 15; x++) expect(cover[y * W + x]).toBe(1);
    // Together they cover what the whole-store rasterisation covers.
    const all = target(W, H);
    const stats = rasterHexLayer(all, store, sequentialScale(0, 10, 5), view, { alpha: 1 });
    expect(stats.pixels).toBe(cover.reduce((a, v) => a + v, 0));
    expect(stats.drawn).toBeGreaterThan(6);
    expect(stats.drawn + stats.culled).toBe(cells.length);
  });

  it("colours each cell by its bucket", () => {
    const { store, view } = setup(0, 15);
    const scale = sequentialScale(0, 10, 5);
    const t = target(W, H);
    rasterHexLayer(t, store, scale, view, { alpha: 1 });
    expect(t.pixels[(H / 2) * W + W / 2]).toBe(packColour(scale.colourOf(0), 1));
  });

  it("marks one pixel for cells smaller than a pixel, and culls off-screen cells", () => {
    const { store, cells, view } = setup(3, 6);
    const t = target(W, H);
    const s = rasterHexLayer(t, store, sequentialScale(0, 10, 5), view);
    expect(s.drawn).toBe(cells.length);
    expect(s.pixels).toBeGreaterThan(0);
    expect(s.pixels).toBeLessThanOrEqual(cells.length);
    const far = { ...view, originX: view.originX + 1e5 };
    const s2 = rasterHexLayer(target(W, H), store, sequentialScale(0, 10, 5), far);
    expect(s2.drawn).toBe(0);
    expect(s2.culled).toBe(cells.length);
  });

  it("the cache recolours on value changes and matches a fresh rasterisation pixel for pixel", () => {
    const { store, cells, view } = setup(8, 13);
    const scale = sequentialScale(0, 10, 5);
    const cache = new HexRasterCache();
    const cached = target(W, H);
    const first = cache.render(cached, store, scale, view, { alpha: 0.6 });
    expect(first.mode).toBe("full");
    for (let round = 1; round <= 3; round++) {
      store.applyRows(cells.map((c, i) => [c, (i * 7 + round * 3) % 11, 1, 0, 0, 0]), round);
      const r = cache.render(cached, store, scale, view, { alpha: 0.6 });
      expect(r.mode).toBe("recolour");
      const fresh = target(W, H);
      const ref = rasterHexLayer(fresh, store, scale, view, { alpha: 0.6 });
      expect(r.drawn).toBe(ref.drawn);
      expect(Buffer.from(cached.pixels.buffer).equals(Buffer.from(fresh.pixels.buffer))).toBe(true);
    }
    expect(cache.scans).toBe(1);
    expect(cache.recolours).toBe(3);
  });

  it("the cache re-scans when the view moves, a cell appears or one disappears", () => {
    const { store, cells, view } = setup(4, 14);
    const scale = sequentialScale(0, 10, 5);
    const cache = new HexRasterCache();
    const t = target(W, H);
    cache.render(t, store, scale, view);
    expect(cache.render(t, store, scale, { ...view, originX: view.originX + 3 }).mode).toBe("full");
    const moved = { ...view, originX: view.originX + 3 };
    expect(cache.render(t, store, scale, moved).mode).toBe("recolour");
    store.applyRows([[latLngToCell(60.25, 24.9384, 9), 5, 1, 5, 5, 5]], 1); // a new cell, off screen
    expect(cache.render(t, store, scale, moved).mode).toBe("full");
    store.replaceRows(cells.slice(1).map((c) => [c, 1, 1, 1, 1, 1]), 2); // one cell gone
    const r = cache.render(t, store, scale, moved);
    expect(r.mode).toBe("full");
    const fresh = target(W, H);
    rasterHexLayer(fresh, store, scale, moved);
    expect(Buffer.from(t.pixels.buffer).equals(Buffer.from(fresh.pixels.buffer))).toBe(true);
  });
});
