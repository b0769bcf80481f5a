// Web Mercator (EPSG:3857) in the tile convention: the world is a square of TILE * 2^zoom
// pixels, x grows east from longitude -180, y grows south from latitude +85.0511.
//
// "Mercator units" (mx, my) are that square normalised to [0, 1]; they do not depend on the zoom,
// so geometry is projected once and scaled per zoom.

export const TILE = 256;
/** Latitude limit of Web Mercator, where the square world ends. */
export const MAX_LAT = 85.0511287798066;
export const MIN_ZOOM = 1;
export const MAX_ZOOM = 20;

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** Longitude in degrees to Mercator x in [0, 1]. */
export function lonToMx(lon: number): number {
  return (lon + 180) / 360;
}

/** Latitude in degrees to Mercator y in [0, 1] (0 at the north edge); clamped to MAX_LAT. */
export function latToMy(lat: number): number {
  const phi = (clamp(lat, -MAX_LAT, MAX_LAT) * Math.PI) / 180;
  return 0.5 - Math.log(Math.tan(Math.PI / 4 + phi / 2)) / (2 * Math.PI);
}

export function mxToLon(mx: number): number {
  return mx * 360 - 180;
}

export function myToLat(my: number): number {
  const n = Math.PI - 2 * Math.PI * my;
  return (180 / Math.PI) * Math.atan(Math.sinh(n));
}

/** World size in pixels at a (possibly fractional) zoom. */
export function worldSize(zoom: number): number {
  return TILE * Math.pow(2, zoom);
}

/**
 * The map's view: centre in Mercator units, zoom and the canvas size in CSS pixels.
 * Screen coordinates are CSS pixels from the canvas's top-left corner.
 */
export class Viewport {
  cx: number;
  cy: number;
  zoom: number;
  width: number;
  height: number;

  constructor(centerLon: number, centerLat: number, zoom: number, width: number, height: number) {
    this.cx = lonToMx(centerLon);
    this.cy = latToMy(centerLat);
    this.zoom = clamp(zoom, MIN_ZOOM, MAX_ZOOM);
    this.width = width;
    this.height = height;
  }

  get scale(): number {
    return worldSize(this.zoom);
  }

  /** World pixel of the canvas's top-left corner at the current zoom. */
  get originX(): number {
    return this.cx * this.scale - this.width / 2;
  }

  get originY(): number {
    return this.cy * this.scale - this.height / 2;
  }

  project(lon: number, lat: number): [number, number] {
    const s = this.scale;
    return [lonToMx(lon) * s - this.originX, latToMy(lat) * s - this.originY];
  }

  unproject(x: number, y: number): [number, number] {
    const s = this.scale;
    return [mxToLon((x + this.originX) / s), myToLat((y + this.originY) / s)];
  }

  /** Moves the view by a screen-pixel delta (dragging the map right moves the centre west). */
  panBy(dx: number, dy: number): void {
    const s = this.scale;
    this.cx = clamp(this.cx - dx / s, 0, 1);
    this.cy = clamp(this.cy - dy / s, 0, 1);
  }

  /** Zooms by `delta` levels keeping the geographic point under screen (x, y) fixed. */
  zoomAt(delta: number, x: number = this.width / 2, y: number = this.height / 2): void {
    const before = this.scale;
    const mx = (x + this.originX) / before;
    const my = (y + this.originY) / before;
    this.zoom = clamp(this.zoom + delta, MIN_ZOOM, MAX_ZOOM);
    const after = this.scale;
    // Keep (mx, my) at (x, y): origin = m * after - (x, y); centre = (origin + size/2) / after.
    this.cx = clamp((mx * after - x + this.width / 2) / after, 0, 1);
    this.cy = clamp((my * after - y + this.height / 2) / after, 0, 1);
  }

  /** Centres on a bbox and picks the largest zoom at which it fits with `padding` pixels. */
  fitBbox(bbox: readonly [number, number, number, number], padding = 16): void {
    const [minLon, minLat, maxLon, maxLat] = bbox;
    const x0 = lonToMx(minLon);
    const x1 = lonToMx(maxLon);
    const y0 = latToMy(maxLat);
    const y1 = latToMy(minLat);
    this.cx = (x0 + x1) / 2;
    this.cy = (y0 + y1) / 2;
    const w = Math.max(1, this.width - 2 * padding);
    const h = Math.max(1, this.height - 2 * padding);
    const spanX = Math.max(x1 - x0, 1e-12);
    const spanY = Math.max(y1 - y0, 1e-12);
    const z = Math.log2(Math.min(w / spanX, h / spanY) / TILE);
    this.zoom = clamp(z, MIN_ZOOM, MAX_ZOOM);
  }

  /** The visible bbox in degrees. */
  bbox(): [number, number, number, number] {
    const [w, n] = this.unproject(0, 0);
    const [e, s] = this.unproject(this.width, this.height);
    return [w, s, e, n];
  }

  /** Metres per CSS pixel at the view centre (for the scale bar). */
  metresPerPixel(): number {
    const lat = myToLat(this.cy);
    return (Math.cos((lat * Math.PI) / 180) * 2 * Math.PI * 6378137) / this.scale;
  }
}
