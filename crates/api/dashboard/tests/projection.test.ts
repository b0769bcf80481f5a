import { describe, expect, it } from "vitest";
import { latToMy, lonToMx, MAX_LAT, myToLat, mxToLon, TILE, Viewport, worldSize } from "../src/map/projection";

// Reference values: the standard XYZ tile formulas (OSM wiki "Slippy map tilenames"),
// x = (lon + 180) / 360 * 2^z, y = (1 - ln(tan φ + sec φ) / π) / 2 * 2^z, computed independently here.
function tileXY(lon: number, lat: number, z: number): [number, number] {
  const n = 2 ** z;
  const phi = (lat * Math.PI) / 180;
  return [((lon + 180) / 360) * n, ((1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2) * n];
}

describe("web mercator", () => {
  it("maps the origin, antimeridian and poles limit to the square's edges and centre", () => {
    expect(lonToMx(0)).toBe(0.5);
    expect(latToMy(0)).toBeCloseTo(0.5, 15);
    expect(lonToMx(-180)).toBe(0);
    expect(lonToMx(180)).toBe(1);
    expect(latToMy(MAX_LAT)).toBeCloseTo(0, 12);
    expect(latToMy(-MAX_LAT)).toBeCloseTo(1, 12);
  });

  it("clamps latitudes beyond the Mercator limit", () => {
    expect(latToMy(89.9)).toBe(latToMy(MAX_LAT));
    expect(latToMy(-90)).toBe(latToMy(-MAX_LAT));
  });

  it("agrees with the slippy-map tile formula for Helsinki and Hangzhou", () => {
    for (const [lon, lat] of [
      [24.9384, 60.1699],
      [120.1551, 30.2741],
      [-73.5673, 45.5017],
    ] as [number, number][]) {
      for (const z of [0, 9, 15]) {
        const [tx, ty] = tileXY(lon, lat, z);
        expect(lonToMx(lon) * 2 ** z).toBeCloseTo(tx, 9);
        expect(latToMy(lat) * 2 ** z).toBeCloseTo(ty, 9);
      }
    }
  });

  it("round-trips lon/lat through mercator units", () => {
    for (let lat = -80; lat <= 80; lat += 7.3) {
      for (let lon = -179; lon <= 179; lon += 23.9) {
        expect(mxToLon(lonToMx(lon))).toBeCloseTo(lon, 10);
        expect(myToLat(latToMy(lat))).toBeCloseTo(lat, 10);
      }
    }
  });

  it("world size doubles per zoom level from one tile at zoom 0", () => {
    expect(worldSize(0)).toBe(TILE);
    expect(worldSize(3)).toBe(TILE * 8);
    expect(worldSize(3.5) / worldSize(2.5)).toBeCloseTo(2, 12);
  });
});

describe("viewport", () => {
  const helsinki: [number, number, number, number] = [24.9, 60.15, 24.99, 60.185];

  it("projects its centre to the middle of the canvas and unprojects back", () => {
    const v = new Viewport(24.94, 60.17, 13, 800, 600);
    const [x, y] = v.project(24.94, 60.17);
    expect(x).toBeCloseTo(400, 6);
    expect(y).toBeCloseTo(300, 6);
    const [lon, lat] = v.unproject(123, 456);
    const [x2, y2] = v.project(lon, lat);
    expect(x2).toBeCloseTo(123, 6);
    expect(y2).toBeCloseTo(456, 6);
  });

  it("pans opposite to the drag in geographic terms", () => {
    const v = new Viewport(24.94, 60.17, 13, 800, 600);
    const [lonBefore] = v.unproject(400, 300);
    v.panBy(100, 0); // drag right: content moves right, the centre moves west
    const [lonAfter] = v.unproject(400, 300);
    expect(lonAfter).toBeLessThan(lonBefore);
    // The point that was at (400,300) is now at (500,300).
    const [x] = v.project(lonBefore, 60.17);
    expect(x).toBeCloseTo(500, 6);
  });

  it("zooms about the cursor, keeping the point under it fixed", () => {
    const v = new Viewport(24.94, 60.17, 12, 800, 600);
    const [lon, lat] = v.unproject(650, 120);
    v.zoomAt(1.5, 650, 120);
    expect(v.zoom).toBe(13.5);
    const [x, y] = v.project(lon, lat);
    expect(x).toBeCloseTo(650, 6);
    expect(y).toBeCloseTo(120, 6);
  });

  it("clamps zoom to its limits", () => {
    const v = new Viewport(0, 0, 3, 800, 600);
    v.zoomAt(-10);
    expect(v.zoom).toBe(1);
    v.zoomAt(100);
    expect(v.zoom).toBe(20);
  });

  it("fits a bbox: it lies inside the canvas and touches the padding on one axis", () => {
    const v = new Viewport(0, 0, 3, 900, 500);
    v.fitBbox(helsinki, 20);
    const [x0, y0] = v.project(helsinki[0], helsinki[3]);
    const [x1, y1] = v.project(helsinki[2], helsinki[1]);
    expect(x0).toBeGreaterThanOrEqual(20 - 1e-6);
    expect(y0).toBeGreaterThanOrEqual(20 - 1e-6);
    expect(x1).toBeLessThanOrEqual(880 + 1e-6);
    expect(y1).toBeLessThanOrEqual(480 + 1e-6);
    const touchesX = Math.abs(x0 - 20) < 1e-6 && Math.abs(x1 - 880) < 1e-6;
    const touchesY = Math.abs(y0 - 20) < 1e-6 && Math.abs(y1 - 480) < 1e-6;
    expect(touchesX || touchesY).toBe(true);
    const [w, s, e, n] = v.bbox();
    expect(w).toBeLessThanOrEqual(helsinki[0]);
    expect(e).toBeGreaterThanOrEqual(helsinki[2]);
    expect(s).toBeLessThanOrEqual(helsinki[1]);
    expect(n).toBeGreaterThanOrEqual(helsinki[3]);
  });

  it("reports metres per pixel shrinking with cos(latitude)", () => {
    const eq = new Viewport(0, 0, 10, 800, 600).metresPerPixel();
    const hel = new Viewport(0, 60, 10, 800, 600).metresPerPixel();
    // Equator at zoom 10: 2π·6378137 / (256·1024) = 152.874 m/px.
    expect(eq).toBeCloseTo(152.874, 2);
    expect(hel / eq).toBeCloseTo(0.5, 3);
  });
});
