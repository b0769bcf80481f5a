// Vector layers drawn from the city's own GeoJSON (no tiles): roads, building outlines and
// sensors. Geometry is projected to Mercator once when loaded and scaled per zoom when drawn.

import type {
  BuildingCollection,
  BuildingProps,
  RoadCollection,
  RoadProps,
  SensorCollection,
  SensorProps,
} from "../api/types";
import { roadColour, sensorColour, type RoadColourMode } from "./colour";
import type { PathContext, ViewRect } from "./hexlayer";
import { latToMy, lonToMx } from "./projection";

/** One ring or line in Mercator units plus its bbox, belonging to feature `feature`. */
export interface Part {
  feature: number;
  coords: Float64Array;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

export function toPart(feature: number, ring: readonly (readonly number[])[]): Part | null {
  if (ring.length < 2) return null;
  const coords = new Float64Array(ring.length * 2);
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let i = 0; i < ring.length; i++) {
    const p = ring[i] as readonly number[];
    const x = lonToMx(p[0] as number);
    const y = latToMy(p[1] as number);
    if (!Number.isFinite(x) || !Number.isFinite(y)) return null;
    coords[2 * i] = x;
    coords[2 * i + 1] = y;
    if (x < minX) minX = x;
    if (y < minY) minY = y;
    if (x > maxX) maxX = x;
    if (y > maxY) maxY = y;
  }
  return { feature, coords, minX, minY, maxX, maxY };
}

export function visible(p: Part, s: number, v: ViewRect, pad: number): boolean {
  return !(p.maxX * s - v.originX < -pad || p.minX * s - v.originX > v.width + pad || p.maxY * s - v.originY < -pad || p.minY * s - v.originY > v.height + pad);
}

export function tracePart(ctx: PathContext, p: Part, s: number, v: ViewRect, close: boolean): void {
  const c = p.coords;
  ctx.moveTo((c[0] as number) * s - v.originX, (c[1] as number) * s - v.originY);
  for (let i = 2; i < c.length; i += 2) ctx.lineTo((c[i] as number) * s - v.originX, (c[i + 1] as number) * s - v.originY);
  if (close) ctx.closePath();
}

const ROAD_WIDTH: Record<string, number> = {
  motorway: 3.5,
  trunk: 3,
  primary: 2.6,
  secondary: 2.2,
  tertiary: 1.8,
  residential: 1.2,
  service: 0.8,
};

export class RoadLayer {
  props: RoadProps[] = [];
  parts: Part[] = [];
  mode: RoadColourMode = "speed";

  load(fc: RoadCollection): void {
    this.props = [];
    this.parts = [];
    for (const f of fc.features) {
      if (!f.geometry || !f.properties) continue;
      const i = this.props.length;
      this.props.push(f.properties);
      const lines = f.geometry.type === "LineString" ? [f.geometry.coordinates] : f.geometry.type === "MultiLineString" ? f.geometry.coordinates : [];
      for (const l of lines) {
        const p = toPart(i, l);
        if (p) this.parts.push(p);
      }
    }
  }

  /** Draws roads grouped by (colour, width): one stroke per group. */
  draw(ctx: PathContext & { lineCap: CanvasLineCap; lineJoin: CanvasLineJoin }, v: ViewRect): number {
    const s = Math.pow(2, v.zoom) * 256;
    const zoomFactor = Math.max(0.5, Math.min(2.5, (v.zoom - 11) / 3));
    const groups = new Map<string, Part[]>();
    for (const p of this.parts) {
      if (!visible(p, s, v, 4)) continue;
      const props = this.props[p.feature] as RoadProps;
      const colour = roadColour(this.mode, props) ?? "#7c8792";
      const width = (ROAD_WIDTH[props.class] ?? 1) * zoomFactor;
      const key = `${colour}|${width.toFixed(2)}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = []));
      g.push(p);
    }
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    let drawn = 0;
    for (const [key, parts] of groups) {
      const [colour, width] = key.split("|") as [string, string];
      ctx.beginPath();
      for (const p of parts) tracePart(ctx, p, s, v, false);
      ctx.strokeStyle = colour;
      ctx.lineWidth = Number(width);
      ctx.stroke();
      drawn += parts.length;
    }
    return drawn;
  }

  /** The road nearest to screen point (x, y) within `maxPx` of one of its segments, or null. */
  pick(x: number, y: number, v: ViewRect, maxPx = 6): RoadProps | null {
    const s = Math.pow(2, v.zoom) * 256;
    let best = -1;
    let bestD = maxPx * maxPx;
    for (const p of this.parts) {
      if (p.maxX * s - v.originX < x - maxPx || p.minX * s - v.originX > x + maxPx || p.maxY * s - v.originY < y - maxPx || p.minY * s - v.originY > y + maxPx) continue;
      const c = p.coords;
      for (let i = 2; i < c.length; i += 2) {
        const d = segDist2(x, y, (c[i - 2] as number) * s - v.originX, (c[i - 1] as number) * s - v.originY, (c[i] as number) * s - v.originX, (c[i + 1] as number) * s - v.originY);
        if (d <= bestD) {
          bestD = d;
          best = p.feature;
        }
      }
    }
    return best < 0 ? null : (this.props[best] as RoadProps);
  }

  /** Outlines the roads whose ids are in `ids` (the roads picked for a scenario) in dark dashes. */
  drawHighlight(ctx: PathContext & { setLineDash(d: number[]): void; lineCap: CanvasLineCap }, v: ViewRect, ids: ReadonlySet<string>): number {
    if (!ids.size) return 0;
    const s = Math.pow(2, v.zoom) * 256;
    ctx.beginPath();
    let n = 0;
    for (const p of this.parts) {
      if (!ids.has((this.props[p.feature] as RoadProps).id) || !visible(p, s, v, 4)) continue;
      tracePart(ctx, p, s, v, false);
      n++;
    }
    ctx.strokeStyle = "#111827";
    ctx.lineWidth = 5;
    ctx.lineCap = "round";
    ctx.setLineDash([6, 4]);
    ctx.stroke();
    ctx.setLineDash([]);
    return n;
  }
}

/** Squared distance from (px, py) to the segment (ax, ay)–(bx, by). */
export function segDist2(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
  t = Math.max(0, Math.min(1, t));
  const qx = ax + t * dx - px;
  const qy = ay + t * dy - py;
  return qx * qx + qy * qy;
}

export class BuildingLayer {
  props: BuildingProps[] = [];
  parts: Part[] = [];

  load(fc: BuildingCollection): void {
    this.props = [];
    this.parts = [];
    for (const f of fc.features) {
      if (!f.geometry || !f.properties) continue;
      const i = this.props.length;
      this.props.push(f.properties);
      const polys = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.type === "MultiPolygon" ? f.geometry.coordinates : [];
      for (const poly of polys) {
        const outer = poly[0];
        if (!outer) continue;
        const p = toPart(i, outer);
        if (p) this.parts.push(p);
      }
    }
  }

  /** Outlines (and a faint fill) of every visible building in one path. */
  draw(ctx: PathContext, v: ViewRect): number {
    const s = Math.pow(2, v.zoom) * 256;
    ctx.beginPath();
    let drawn = 0;
    for (const p of this.parts) {
      if (!visible(p, s, v, 2)) continue;
      // Buildings smaller than a pixel only add noise at city scale.
      if ((p.maxX - p.minX) * s < 0.8 && (p.maxY - p.minY) * s < 0.8) continue;
      tracePart(ctx, p, s, v, true);
      drawn++;
    }
    ctx.fillStyle = "#dde1e6";
    ctx.fill();
    ctx.strokeStyle = "#9aa3ad";
    ctx.lineWidth = 0.6;
    ctx.stroke();
    return drawn;
  }
}

export interface SensorPoint {
  props: SensorProps;
  mx: number;
  my: number;
}

export class SensorLayer {
  points: SensorPoint[] = [];

  load(fc: SensorCollection): void {
    this.points = [];
    for (const f of fc.features) {
      if (!f.geometry || f.geometry.type !== "Point" || !f.properties) continue;
      const [lon, lat] = f.geometry.coordinates;
      this.points.push({ props: f.properties, mx: lonToMx(lon), my: latToMy(lat) });
    }
  }

  /** Replaces one sensor's properties (status change) if it is known; returns whether it was. */
  update(props: SensorProps): boolean {
    const p = this.points.find((q) => q.props.id === props.id);
    if (!p) return false;
    p.props = props;
    return true;
  }

  counts(): Record<string, number> {
    const c: Record<string, number> = { online: 0, stale: 0, offline: 0 };
    for (const p of this.points) c[p.props.status] = (c[p.props.status] ?? 0) + 1;
    return c;
  }

  draw(ctx: PathContext & { arc(x: number, y: number, r: number, a0: number, a1: number): void }, v: ViewRect): number {
    const s = Math.pow(2, v.zoom) * 256;
    const r = v.zoom >= 15 ? 5 : v.zoom >= 13 ? 4 : 3;
    const byStatus = new Map<string, SensorPoint[]>();
    for (const p of this.points) {
      const x = p.mx * s - v.originX;
      const y = p.my * s - v.originY;
      if (x < -r || y < -r || x > v.width + r || y > v.height + r) continue;
      let g = byStatus.get(p.props.status);
      if (!g) byStatus.set(p.props.status, (g = []));
      g.push(p);
    }
    let drawn = 0;
    for (const [status, pts] of byStatus) {
      ctx.beginPath();
      for (const p of pts) {
        const x = p.mx * s - v.originX;
        const y = p.my * s - v.originY;
        ctx.moveTo(x + r, y);
        ctx.arc(x, y, r, 0, Math.PI * 2);
      }
      ctx.fillStyle = sensorColour(status);
      ctx.fill();
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 1.2;
      ctx.stroke();
      drawn += pts.length;
    }
    return drawn;
  }

  /** The sensor nearest to screen point (x, y) within `maxPx`, or null. */
  pick(x: number, y: number, v: ViewRect, maxPx = 8): SensorPoint | null {
    const s = Math.pow(2, v.zoom) * 256;
    let best: SensorPoint | null = null;
    let bestD = maxPx * maxPx;
    for (const p of this.points) {
      const dx = p.mx * s - v.originX - x;
      const dy = p.my * s - v.originY - y;
      const d = dx * dx + dy * dy;
      if (d <= bestD) {
        bestD = d;
        best = p;
      }
    }
    return best;
  }
}
