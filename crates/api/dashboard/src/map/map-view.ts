// The map widget: one visible canvas composited from three cached layer canvases
// (buildings; hexes; roads + sensors). A layer is re-rendered only when its data or the view
// changed; while the user drags or wheels, cached layers are shifted/scaled instead and
// re-rendered once the interaction settles. Frames are scheduled with requestAnimationFrame
// only when something is dirty.

import { latLngToCell } from "h3-js";
import type { Bbox } from "../api/types";
import type { CellStore } from "./cells";
import type { ColourScale } from "./colour";
import { BuildingLayer, RoadLayer, SensorLayer, type SensorPoint } from "./features";
import { drawHexLayer, drawHexLayerNaive, strokeHexOutlines, type CellValueField } from "./hexlayer";
import { HexRasterCache } from "./hexraster";
import { DeltaLayer, FeederLayer } from "./overlays";
import type { Feeder, RoadProps } from "../api/types";
import { Viewport } from "./projection";

/** Frame statistics read by the browser benchmark (`window.__cbStats`). */
export interface CbStats {
  frames: number;
  /** Duration of the last frame's work (layer renders + composite), ms. */
  lastFrameMs: number;
  /** Duration of the last frame that re-rendered the hex layer, ms. */
  lastHexFrameMs: number;
  /** Cells held (present) in the store. */
  hexes: number;
  /** Cells drawn in the last hex render (after culling). */
  hexesDrawn: number;
  /** performance.now() of the last cell update applied. */
  lastUpdateAt: number;
  /** Main-thread time of the last cell update (apply; plus parse when the feed runs inline), ms. */
  lastUpdateMs: number;
  updates: number;
  /** The last 600 frame durations (ms), oldest first. */
  frameTimes: number[];
  /** The last 600 main-thread cell-update durations (as `lastUpdateMs`), oldest first. */
  updateTimes: number[];
  /** Hex renderer: "raster" (default), or the benchmark peers "batched" (canvas paths) and "naive". */
  renderer: string;
  /** Where stream JSON is parsed: "worker" (default) or "inline" (main thread). */
  feed: string;
  /** How cells messages are read: "scan" (compact-form scanner, default) or "json" (JSON.parse). */
  parse: string;
  /** Cells updates read by the scanner (the others went through JSON.parse). */
  scannedUpdates: number;
  /** The last 600 parse + encode times of cell messages in the feed (worker or inline), ms. */
  parseTimes: number[];
  /** Stream rows that changed the value (mean, count or last) of a cell already on the map. */
  cellsChanged: number;
  /** The last such change, for tests: the cell and its values before and after. */
  lastChange: { cell: string; before: { mean: number; count: number; last: number }; after: { mean: number; count: number; last: number } } | null;
  /** Snapshots (`/api/v1/cells`) applied. */
  snapshots: number;
  /** Hex layer renders that re-scanned cell outlines (view or cell set changed). */
  hexScans: number;
  /** Hex layer renders that only recoloured the cached id buffer (values changed). */
  hexRecolours: number;
  /** The last 600 durations of frames whose hex render re-scanned the cells (pan, zoom, new cells), ms. */
  scanFrameTimes: number[];
  /** Fetch + parse time of the last snapshot in the feed, ms. */
  lastSnapshotFeedMs: number;
  /** Scenario delta features drawn in the last render of the top layer. */
  deltaDrawn: number;
  /** Feeders drawn in the last render of the top layer. */
  feedersDrawn: number;
}

declare global {
  interface Window {
    __cbStats: CbStats;
  }
}

export function newStats(): CbStats {
  return {
    frames: 0,
    lastFrameMs: 0,
    lastHexFrameMs: 0,
    hexes: 0,
    hexesDrawn: 0,
    lastUpdateAt: 0,
    lastUpdateMs: 0,
    updates: 0,
    frameTimes: [],
    updateTimes: [],
    renderer: "raster",
    feed: "worker",
    parse: "scan",
    scannedUpdates: 0,
    parseTimes: [],
    cellsChanged: 0,
    lastChange: null,
    snapshots: 0,
    lastSnapshotFeedMs: 0,
    hexScans: 0,
    hexRecolours: 0,
    scanFrameTimes: [],
    deltaDrawn: 0,
    feedersDrawn: 0,
  };
}

interface LayerCache {
  canvas: HTMLCanvasElement;
  ctx: CanvasRenderingContext2D;
  /** View the cache was rendered at; NaN zoom = never rendered. */
  zoom: number;
  originX: number;
  originY: number;
  /** Data changed since the last render. */
  dataDirty: boolean;
}

export type MapSelection = { kind: "sensor"; sensor: SensorPoint } | { kind: "feeder"; feeder: Feeder } | { kind: "cell"; cell: string; lon: number; lat: number };

export interface MapLayersVisible {
  hexes: boolean;
  roads: boolean;
  buildings: boolean;
  sensors: boolean;
  /** A scenario run's per-entity deltas. */
  scenario: boolean;
  feeders: boolean;
}

export class MapView {
  readonly canvas: HTMLCanvasElement;
  readonly view: Viewport;
  readonly roads = new RoadLayer();
  readonly buildings = new BuildingLayer();
  readonly sensors = new SensorLayer();
  readonly deltas = new DeltaLayer();
  readonly feeders = new FeederLayer();
  /** Roads picked for a scenario what-if, outlined on the map. */
  readonly pickedRoads = new Set<string>();
  /** "road": a click picks the road under the pointer (`onPickRoad`) instead of selecting. */
  pickMode: "road" | null = null;
  onPickRoad: ((road: RoadProps) => void) | null = null;
  visible: MapLayersVisible = { hexes: true, roads: true, buildings: true, sensors: true, scenario: true, feeders: true };
  hexAlpha = 0.55;
  hexField: CellValueField = "mean";
  scale: ColourScale | null = null;
  onSelect: ((s: MapSelection | null) => void) | null = null;
  onViewChange: (() => void) | null = null;
  selectedCell: string | null = null;
  readonly stats: CbStats;

  private readonly ctx: CanvasRenderingContext2D;
  private readonly base: LayerCache;
  private readonly hex: LayerCache;
  private readonly top: LayerCache;
  private dpr = 1;
  private frameRequested = false;
  private drawnVersion = -1;
  private interacting = false;
  private settleTimer: ReturnType<typeof setTimeout> | null = null;
  private homeBbox: Bbox | null = null;
  private image: ImageData | null = null;
  private pixels: Uint32Array | null = null;
  private readonly raster = new HexRasterCache();

  constructor(
    canvas: HTMLCanvasElement,
    private readonly cells: CellStore,
    stats: CbStats = newStats(),
  ) {
    this.canvas = canvas;
    const ctx = canvas.getContext("2d", { alpha: false });
    if (!ctx) throw new Error("2D canvas is not available");
    this.ctx = ctx;
    this.stats = stats;
    this.base = this.newLayer();
    this.hex = this.newLayer();
    this.top = this.newLayer();
    this.view = new Viewport(0, 0, 2, canvas.clientWidth || 800, canvas.clientHeight || 600);
    this.resize();
    this.attachInput();
    if (typeof ResizeObserver !== "undefined") new ResizeObserver(() => this.resize()).observe(canvas);
  }

  private newLayer(): LayerCache {
    const canvas = document.createElement("canvas");
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("2D canvas is not available");
    return { canvas, ctx, zoom: NaN, originX: 0, originY: 0, dataDirty: true };
  }

  resize(): void {
    const w = Math.max(1, this.canvas.clientWidth);
    const h = Math.max(1, this.canvas.clientHeight);
    this.dpr = Math.min(2, window.devicePixelRatio || 1);
    const pw = Math.round(w * this.dpr);
    const ph = Math.round(h * this.dpr);
    for (const c of [this.canvas, this.base.canvas, this.hex.canvas, this.top.canvas]) {
      if (c.width !== pw || c.height !== ph) {
        c.width = pw;
        c.height = ph;
      }
    }
    this.view.width = w;
    this.view.height = h;
    for (const l of [this.base, this.hex, this.top]) l.zoom = NaN;
    this.requestFrame();
  }

  /** Sets the city's bbox as the "home" view and fits it. */
  setHome(bbox: Bbox): void {
    this.homeBbox = bbox;
    this.view.fitBbox(bbox, 24);
    this.viewChanged();
  }

  home(): void {
    if (this.homeBbox) this.view.fitBbox(this.homeBbox, 24);
    this.viewChanged();
  }

  zoomBy(delta: number): void {
    this.view.zoomAt(delta);
    this.viewChanged();
  }

  /** Marks layers as needing data re-render. */
  invalidate(layer: "base" | "hex" | "top" | "all"): void {
    if (layer === "base" || layer === "all") this.base.dataDirty = true;
    if (layer === "hex" || layer === "all") this.hex.dataDirty = true;
    if (layer === "top" || layer === "all") this.top.dataDirty = true;
    this.requestFrame();
  }

  private viewChanged(): void {
    this.requestFrame();
    this.onViewChange?.();
  }

  requestFrame(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.frame();
    });
  }

  /** Cells changed in the store: redraw on the next frame. */
  cellsChanged(): void {
    this.requestFrame();
  }

  private stale(l: LayerCache): boolean {
    const v = this.view;
    return l.dataDirty || l.zoom !== v.zoom || l.originX !== v.originX || l.originY !== v.originY;
  }

  private prepare(l: LayerCache): CanvasRenderingContext2D {
    const ctx = l.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, l.canvas.width, l.canvas.height);
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    l.zoom = this.view.zoom;
    l.originX = this.view.originX;
    l.originY = this.view.originY;
    l.dataDirty = false;
    return ctx;
  }

  private frame(): void {
    const t0 = performance.now();
    const v = this.view;
    // While interacting, layers whose only change is the view are shifted/scaled from cache.
    const viewOnly = (l: LayerCache): boolean => this.interacting && !l.dataDirty && Number.isFinite(l.zoom);
    let hexRendered = false;
    let hexScanned = false;

    if (this.stale(this.base) && !viewOnly(this.base)) {
      const ctx = this.prepare(this.base);
      if (this.visible.buildings) this.buildings.draw(ctx, v);
    }
    if (this.cells.version !== this.drawnVersion) this.hex.dataDirty = true;
    if (this.stale(this.hex) && !viewOnly(this.hex)) {
      const ctx = this.prepare(this.hex);
      this.drawnVersion = this.cells.version;
      if (this.visible.hexes && this.scale) {
        const opts = { alpha: this.hexAlpha, field: this.hexField };
        if (this.stats.renderer === "raster") {
          const { width, height } = this.hex.canvas;
          if (!this.image || this.image.width !== width || this.image.height !== height) {
            this.image = ctx.createImageData(width, height);
            this.pixels = new Uint32Array(this.image.data.buffer);
          }
          const s = this.raster.render({ pixels: this.pixels as Uint32Array, width, height }, this.cells, this.scale, v, { ...opts, dpr: this.dpr });
          ctx.putImageData(this.image, 0, 0);
          strokeHexOutlines(ctx, this.cells, v);
          this.stats.hexesDrawn = s.drawn;
          hexScanned = s.mode === "full";
          this.stats.hexScans = this.raster.scans;
          this.stats.hexRecolours = this.raster.recolours;
        } else {
          const draw = this.stats.renderer === "naive" ? drawHexLayerNaive : drawHexLayer;
          const s = draw(ctx, this.cells, this.scale, v, opts);
          this.stats.hexesDrawn = s.drawn;
        }
      } else {
        this.stats.hexesDrawn = 0;
      }
      this.drawSelection(ctx);
      hexRendered = true;
    }
    if (this.stale(this.top) && !viewOnly(this.top)) {
      const ctx = this.prepare(this.top);
      if (this.visible.roads) this.roads.draw(ctx, v);
      this.roads.drawHighlight(ctx, v, this.pickedRoads);
      this.stats.deltaDrawn = this.visible.scenario ? this.deltas.draw(ctx, v) : 0;
      this.stats.feedersDrawn = this.visible.feeders ? this.feeders.draw(ctx, v) : 0;
      if (this.visible.sensors) this.sensors.draw(ctx, v);
    }

    // Composite.
    const ctx = this.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#f4f1ea";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    for (const l of [this.base, this.hex, this.top]) {
      if (!Number.isFinite(l.zoom)) continue;
      const f = Math.pow(2, v.zoom - l.zoom);
      const dx = l.originX * f - v.originX;
      const dy = l.originY * f - v.originY;
      ctx.drawImage(l.canvas, dx, dy, v.width * f, v.height * f);
    }

    const ms = performance.now() - t0;
    const s = this.stats;
    s.frames++;
    s.lastFrameMs = ms;
    if (hexRendered) s.lastHexFrameMs = ms;
    s.hexes = this.cells.presentCount;
    s.frameTimes.push(ms);
    if (s.frameTimes.length > 600) s.frameTimes.splice(0, s.frameTimes.length - 600);
    if (hexScanned) {
      s.scanFrameTimes.push(ms);
      if (s.scanFrameTimes.length > 600) s.scanFrameTimes.splice(0, s.scanFrameTimes.length - 600);
    }
  }

  private drawSelection(ctx: CanvasRenderingContext2D): void {
    if (!this.selectedCell) return;
    const s = this.cells.slot(this.selectedCell);
    if (s === undefined) return;
    this.cells.ensureProjected(this.view.zoom);
    const a = this.cells.start[s] as number;
    const e = this.cells.start[s + 1] as number;
    const p = this.cells.proj;
    ctx.beginPath();
    ctx.moveTo((p[a] as number) - this.view.originX, (p[a + 1] as number) - this.view.originY);
    for (let i = a + 2; i < e; i += 2) ctx.lineTo((p[i] as number) - this.view.originX, (p[i + 1] as number) - this.view.originY);
    ctx.closePath();
    ctx.strokeStyle = "#111827";
    ctx.lineWidth = 2.5;
    ctx.stroke();
  }

  private beginInteraction(): void {
    this.interacting = true;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = null;
  }

  private endInteraction(delayMs = 120): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      this.interacting = false;
      this.settleTimer = null;
      this.requestFrame();
      this.onViewChange?.();
    }, delayMs);
  }

  /** Selection at a screen point: a sensor within 8 px, else the cell under the point. */
  pick(x: number, y: number): MapSelection | null {
    if (this.visible.feeders) {
      const f = this.feeders.pick(x, y, this.view);
      if (f) return { kind: "feeder", feeder: f };
    }
    if (this.visible.sensors) {
      const s = this.sensors.pick(x, y, this.view);
      if (s) return { kind: "sensor", sensor: s };
    }
    if (this.visible.hexes && this.cells.res !== null) {
      const [lon, lat] = this.view.unproject(x, y);
      const cell = latLngToCell(lat, lon, this.cells.res);
      if (this.cells.get(cell)) return { kind: "cell", cell, lon, lat };
    }
    return null;
  }

  private attachInput(): void {
    const c = this.canvas;
    c.tabIndex = 0;
    let down: { x: number; y: number; lastX: number; lastY: number; moved: boolean } | null = null;
    const local = (ev: MouseEvent): [number, number] => {
      const r = c.getBoundingClientRect();
      return [ev.clientX - r.left, ev.clientY - r.top];
    };
    c.addEventListener("mousedown", (ev) => {
      if (ev.button !== 0) return;
      const [x, y] = local(ev);
      down = { x, y, lastX: x, lastY: y, moved: false };
      this.beginInteraction();
    });
    window.addEventListener("mousemove", (ev) => {
      if (!down) return;
      const [x, y] = local(ev);
      if (!down.moved && Math.hypot(x - down.x, y - down.y) < 4) return;
      down.moved = true;
      this.view.panBy(x - down.lastX, y - down.lastY);
      down.lastX = x;
      down.lastY = y;
      c.style.cursor = "grabbing";
      this.requestFrame();
    });
    window.addEventListener("mouseup", (ev) => {
      if (!down) return;
      const wasClick = !down.moved;
      const [x, y] = local(ev);
      down = null;
      c.style.cursor = "";
      this.endInteraction(0);
      if (wasClick && this.pickMode === "road") {
        const road = this.roads.pick(x, y, this.view);
        if (road) this.onPickRoad?.(road);
      } else if (wasClick) {
        const sel = this.pick(x, y);
        this.selectedCell = sel?.kind === "cell" ? sel.cell : null;
        this.invalidate("hex");
        this.onSelect?.(sel);
      }
    });
    c.addEventListener(
      "wheel",
      (ev) => {
        ev.preventDefault();
        const [x, y] = local(ev);
        const unit = ev.deltaMode === 1 ? 40 : ev.deltaMode === 2 ? 800 : 1;
        const delta = Math.max(-1, Math.min(1, (-ev.deltaY * unit) / 300));
        this.beginInteraction();
        this.view.zoomAt(delta, x, y);
        this.requestFrame();
        this.endInteraction(150);
      },
      { passive: false },
    );
    c.addEventListener("dblclick", (ev) => {
      const [x, y] = local(ev);
      this.view.zoomAt(ev.shiftKey ? -1 : 1, x, y);
      this.viewChanged();
    });
    c.addEventListener("keydown", (ev) => {
      const step = 80;
      const moves: Record<string, [number, number]> = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] };
      const m = moves[ev.key];
      if (m) {
        this.view.panBy(m[0], m[1]);
        this.viewChanged();
        ev.preventDefault();
      } else if (ev.key === "+" || ev.key === "=") {
        this.zoomBy(1);
      } else if (ev.key === "-") {
        this.zoomBy(-1);
      }
    });
  }
}
