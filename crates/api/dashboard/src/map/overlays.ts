// Overlays drawn above the roads: a scenario's per-entity deltas (lines, polygons or points
// coloured on a diverging scale) and the energy feeders (points coloured by loading).

import type { Feeder, ScenarioMapCollection, ScenarioMapProps } from "../api/types";
import { LOADING_COLOURS, loadingClass } from "../panels/scenario-logic";
import type { ColourScale } from "./colour";
import { toPart, tracePart, visible, type Part } from "./features";
import type { PathContext, ViewRect } from "./hexlayer";
import { latToMy, lonToMx } from "./projection";

type ArcContext = PathContext & { arc(x: number, y: number, r: number, a0: number, a1: number): void; lineCap: CanvasLineCap; lineJoin: CanvasLineJoin };

interface DeltaPoint {
  feature: number;
  mx: number;
  my: number;
}

/** Per-entity deltas of a scenario run (`GET /api/v1/scenarios/{id}/map`). */
export class DeltaLayer {
  props: ScenarioMapProps[] = [];
  lines: Part[] = [];
  areas: Part[] = [];
  points: DeltaPoint[] = [];
  scale: ColourScale | null = null;
  metric = "";

  get size(): number {
    return this.props.length;
  }

  clear(): void {
    this.props = [];
    this.lines = [];
    this.areas = [];
    this.points = [];
    this.scale = null;
    this.metric = "";
  }

  load(fc: ScenarioMapCollection, scale: ColourScale): void {
    this.clear();
    this.scale = scale;
    for (const f of fc.features ?? []) {
      if (!f?.geometry || !f.properties) continue;
      const i = this.props.length;
      this.props.push(f.properties);
      if (!this.metric && f.properties.metric) this.metric = f.properties.metric;
      const g = f.geometry;
      if (g.type === "LineString" || g.type === "MultiLineString") {
        for (const l of g.type === "LineString" ? [g.coordinates] : g.coordinates) {
          const p = toPart(i, l);
          if (p) this.lines.push(p);
        }
      } else if (g.type === "Polygon" || g.type === "MultiPolygon") {
        for (const poly of g.type === "Polygon" ? [g.coordinates] : g.coordinates) {
          const p = poly[0] ? toPart(i, poly[0]) : null;
          if (p) this.areas.push(p);
        }
      } else if (g.type === "Point") {
        const [lon, lat] = g.coordinates;
        if (Number.isFinite(lon) && Number.isFinite(lat)) this.points.push({ feature: i, mx: lonToMx(lon), my: latToMy(lat) });
      }
    }
  }

  private colour(feature: number): string {
    const d = this.props[feature]?.delta;
    return this.scale ? this.scale.colourOf(typeof d === "number" ? d : NaN) : "#9aa3ad";
  }

  /** Draws every feature; returns how many were drawn (in view). */
  draw(ctx: ArcContext, v: ViewRect): number {
    if (!this.scale) return 0;
    const s = Math.pow(2, v.zoom) * 256;
    let drawn = 0;
    ctx.globalAlpha = 0.55;
    for (const p of this.areas) {
      if (!visible(p, s, v, 2)) continue;
      ctx.beginPath();
      tracePart(ctx, p, s, v, true);
      ctx.fillStyle = this.colour(p.feature);
      ctx.fill();
      drawn++;
    }
    ctx.globalAlpha = 1;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    const width = Math.max(3, Math.min(7, v.zoom - 9));
    for (const p of this.lines) {
      if (!visible(p, s, v, 4)) continue;
      // A dark casing so that the pale "no change" colour stays visible on the map.
      ctx.beginPath();
      tracePart(ctx, p, s, v, false);
      ctx.strokeStyle = "#374151";
      ctx.lineWidth = width + 2;
      ctx.stroke();
      ctx.strokeStyle = this.colour(p.feature);
      ctx.lineWidth = width;
      ctx.stroke();
      drawn++;
    }
    for (const p of this.points) {
      const x = p.mx * s - v.originX;
      const y = p.my * s - v.originY;
      if (x < -10 || y < -10 || x > v.width + 10 || y > v.height + 10) continue;
      ctx.beginPath();
      ctx.moveTo(x + 8, y);
      ctx.arc(x, y, 8, 0, Math.PI * 2);
      ctx.fillStyle = this.colour(p.feature);
      ctx.fill();
      ctx.strokeStyle = "#374151";
      ctx.lineWidth = 1.5;
      ctx.stroke();
      drawn++;
    }
    return drawn;
  }
}

export interface FeederPoint {
  feeder: Feeder;
  mx: number;
  my: number;
}

/** Energy feeders with a location, as squares coloured by loading. */
export class FeederLayer {
  points: FeederPoint[] = [];

  load(feeders: readonly Feeder[]): void {
    this.points = [];
    for (const f of feeders) {
      if (typeof f.lat !== "number" || typeof f.lon !== "number" || !Number.isFinite(f.lat) || !Number.isFinite(f.lon)) continue;
      this.points.push({ feeder: f, mx: lonToMx(f.lon), my: latToMy(f.lat) });
    }
  }

  draw(ctx: PathContext, v: ViewRect): number {
    const s = Math.pow(2, v.zoom) * 256;
    const r = v.zoom >= 15 ? 8 : 6;
    let drawn = 0;
    for (const p of this.points) {
      const x = p.mx * s - v.originX;
      const y = p.my * s - v.originY;
      if (x < -r || y < -r || x > v.width + r || y > v.height + r) continue;
      ctx.beginPath();
      ctx.rect(x - r, y - r, 2 * r, 2 * r);
      ctx.fillStyle = LOADING_COLOURS[loadingClass(p.feeder.loading_pct)];
      ctx.fill();
      ctx.strokeStyle = "#111827";
      ctx.lineWidth = 1.5;
      ctx.stroke();
      drawn++;
    }
    return drawn;
  }

  pick(x: number, y: number, v: ViewRect, maxPx = 9): Feeder | null {
    const s = Math.pow(2, v.zoom) * 256;
    for (const p of this.points) if (Math.abs(p.mx * s - v.originX - x) <= maxPx && Math.abs(p.my * s - v.originY - y) <= maxPx) return p.feeder;
    return null;
  }
}
