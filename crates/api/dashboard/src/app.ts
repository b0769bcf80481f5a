// The dashboard application: layout, data loading, the live stream and periodic refreshes.

import { ApiClient, bboxParam } from "./api/client";
import { loadToken, saveToken, tokenLabel } from "./api/token";
import type { Bbox, BuildingCollection, CityInfo, RoadCollection, SensorCollection } from "./api/types";
import { h, setChildren } from "./dom";
import type { CellFrame } from "./live/cellframe";
import { CellFeed, type FeedMode } from "./live/feed-client";
import type { StreamStatus } from "./live/stream";
import { CellStore } from "./map/cells";
import { fmt, ROAD_SPEED_SCALE, ROAD_TTI_SCALE, scaleFor, SENSOR_STATUS_COLOURS, type ColourScale } from "./map/colour";
import type { CellValueField } from "./map/hexlayer";
import { MapView, newStats } from "./map/map-view";
import { ProblemBanner, type PanelContext } from "./panels/context";
import { DetailsPanel } from "./panels/details";
import { AlarmsPanel, IncidentsPanel } from "./panels/incidents";
import { IndicatorsPanel, KpiPanel, TrafficPanel } from "./panels/overview";
import { EnergyPanel } from "./panels/energy";
import { LOADING_COLOURS } from "./panels/scenario-logic";
import { ScenarioPanel } from "./panels/scenarios";

const RESOLUTIONS = [6, 7, 8, 9, 10];

export interface AppOptions {
  metric?: string;
  res?: number;
  /** "batched" or "naive" select the benchmark's peer hex renderers (default "raster"). */
  renderer?: string;
  /** Initial zoom instead of fitting the city. */
  zoom?: number;
  /** Side panels shown first: "ops" (all, default), "scenarios" or "energy". */
  view?: string;
  /** "inline" parses the stream on the main thread (the frame benchmark's peer); default "worker". */
  feed?: string;
  /** "json" turns the compact-form scanner off (always JSON.parse; the benchmark's peer). */
  parse?: string;
}

export class App {
  readonly api = new ApiClient();
  readonly banner = new ProblemBanner();
  readonly ctx: PanelContext = {
    api: this.api,
    problem: (e, doing) => this.banner.show(e, doing),
    notice: (m) => this.banner.notice(m),
  };
  readonly cells = new CellStore();
  readonly stats = newStats();
  map!: MapView;
  city: CityInfo | null = null;
  metric = "pm25";
  res = 9;
  unit = "";
  scale: ColourScale | null = null;
  private readonly feed: CellFeed;
  private readonly scan: boolean;
  private streamStatus: StreamStatus = "closed";
  private resyncTimer: ReturnType<typeof setTimeout> | null = null;
  private lastResync = 0;
  private readonly initialZoom: number | undefined;
  private view: SideView = "ops";

  readonly kpis = new KpiPanel(this.ctx);
  readonly alarms = new AlarmsPanel(this.ctx);
  readonly incidents = new IncidentsPanel(this.ctx);
  readonly indicators = new IndicatorsPanel(this.ctx);
  readonly traffic = new TrafficPanel(this.ctx);
  readonly scenarios = new ScenarioPanel(this.ctx);
  readonly energy = new EnergyPanel(this.ctx);
  readonly details = new DetailsPanel(this.ctx);

  private readonly els = {
    cityName: h("span", { class: "city-name", "data-testid": "city-name" }, "…"),
    health: h("span", { class: "health unknown", "data-testid": "health", title: "API health" }, "API"),
    streamState: h("span", { class: "stream-state", "data-testid": "stream-status" }, "stream: –"),
    tokenLabel: h("span", { class: "token-label", "data-testid": "token-label" }),
    metricSelect: h("select", { "data-testid": "metric-select", "aria-label": "metric" }),
    resSelect: h("select", { "data-testid": "res-select", "aria-label": "H3 resolution" }),
    legend: h("div", { class: "legend", "data-testid": "legend" }),
    attribution: h("div", { class: "attribution", "data-testid": "attribution" }, "© OpenStreetMap contributors"),
    scaleBar: h("div", { class: "scalebar", "data-testid": "scalebar" }),
  };

  constructor(
    private readonly root: HTMLElement,
    opts: AppOptions = {},
  ) {
    if (opts.metric) this.metric = opts.metric;
    if (opts.res && RESOLUTIONS.includes(opts.res)) this.res = opts.res;
    if (opts.renderer === "naive" || opts.renderer === "batched") this.stats.renderer = opts.renderer;
    this.initialZoom = opts.zoom;
    if (opts.view === "scenarios" || opts.view === "energy") this.view = opts.view;
    window.__cbStats = this.stats;
    this.feed = new CellFeed(
      {
        cells: (frame, parseMs, scanned) => this.onCells(frame, parseMs, scanned),
        snapshot: (frame, info) => this.onSnapshot(frame, info.unit, info.fetchMs + info.parseMs),
        snapshotError: (e) => this.ctx.problem(e, `Loading ${this.metric} cells`),
        alarm: (a) => this.alarms.upsert(a),
        incident: (i) => {
          this.incidents.upsert(i);
          this.indicators.refreshSoon();
        },
        lagged: (missed) => this.scheduleResync(missed),
        status: (st, detail) => this.onStreamStatus(st, detail),
      },
      opts.feed === "inline" ? "inline" : ("worker" satisfies FeedMode),
    );
    this.stats.feed = this.feed.mode;
    this.scan = opts.parse !== "json";
    this.stats.parse = this.scan ? "scan" : "json";
  }

  async start(): Promise<void> {
    this.layout();
    void this.pollHealth();
    await this.loadCity();
    void this.loadMapData();
    await this.switchCells(this.metric, this.res);
    void this.alarms.refresh();
    void this.incidents.refresh();
    void this.indicators.refresh();
    void this.traffic.refresh();
    void this.scenarios.refresh();
    void this.energy.refresh();
    setInterval(() => void this.energy.refresh(), 30000);
    void this.kpis.pollMetrics();
    setInterval(() => void this.kpis.pollMetrics(), 5000);
    setInterval(() => void this.traffic.refresh(), 15000);
    setInterval(() => void this.indicators.refresh(), 30000);
    setInterval(() => void this.pollHealth(), 10000);
    setInterval(() => void this.loadSensors(), 30000);
    // Safety net behind the stream (missed messages while disconnected).
    setInterval(() => {
      void this.alarms.refresh();
      void this.incidents.refresh();
    }, 60000);
    setInterval(() => this.updateFigures(), 1000);
  }

  // --- layout --------------------------------------------------------------------------------

  private layout(): void {
    const tokenInput = h("input", {
      type: "password",
      placeholder: "API token",
      autocomplete: "off",
      "data-testid": "token-input",
      "aria-label": "API token",
      value: loadToken() ?? "",
    });
    const applyToken = (value: string): void => {
      saveToken(value);
      this.els.tokenLabel.textContent = tokenLabel(loadToken());
      this.banner.clear();
      this.banner.notice(loadToken() ? "Token saved" : "Token cleared");
      void this.incidents.refresh();
      void this.alarms.refresh();
      this.scenarios.tokenChanged();
      void this.energy.refresh();
      this.restartStream();
    };
    this.els.tokenLabel.textContent = tokenLabel(loadToken());
    const tokenBox = h(
      "form",
      {
        class: "token-box",
        "data-testid": "token-box",
        onsubmit: (ev: Event) => {
          ev.preventDefault();
          applyToken(tokenInput.value);
        },
      },
      tokenInput,
      h("button", { type: "submit", "data-testid": "token-save" }, "Save"),
      h(
        "button",
        {
          type: "button",
          class: "link",
          "data-testid": "token-clear",
          onclick: () => {
            tokenInput.value = "";
            applyToken("");
          },
        },
        "Clear",
      ),
      this.els.tokenLabel,
    );

    const canvas = h("canvas", { class: "map-canvas", "data-testid": "map-canvas", "aria-label": "city map" });
    const toggle = (key: "hexes" | "roads" | "buildings" | "sensors" | "feeders" | "scenario", label: string): HTMLElement =>
      h(
        "label",
        { class: "toggle" },
        h("input", {
          type: "checkbox",
          checked: true,
          "data-testid": `layer-${key}`,
          onchange: (ev: Event) => {
            this.map.visible[key] = (ev.target as HTMLInputElement).checked;
            this.map.invalidate("all");
            this.renderLegend();
          },
        }),
        ` ${label}`,
      );
    const fieldSelect = h(
      "select",
      {
        "data-testid": "field-select",
        "aria-label": "cell statistic",
        onchange: (ev: Event) => {
          this.map.hexField = (ev.target as HTMLSelectElement).value as CellValueField;
          this.rescale();
        },
      },
      ["mean", "last", "max", "min", "count"].map((f) => h("option", { value: f }, f)),
    );
    const roadMode = h(
      "select",
      {
        "data-testid": "road-mode",
        "aria-label": "road colouring",
        onchange: (ev: Event) => {
          this.map.roads.mode = (ev.target as HTMLSelectElement).value as "speed" | "tti";
          this.map.invalidate("top");
          this.renderLegend();
        },
      },
      h("option", { value: "speed" }, "speed"),
      h("option", { value: "tti" }, "TTI"),
    );
    this.els.metricSelect.addEventListener("change", () => void this.switchCells(this.els.metricSelect.value, this.res));
    this.els.resSelect.addEventListener("change", () => void this.switchCells(this.metric, Number(this.els.resSelect.value)));
    setChildren(
      this.els.resSelect,
      RESOLUTIONS.map((r) => h("option", { value: r, selected: r === this.res }, `res ${r}`)),
    );
    const controls = h(
      "div",
      { class: "map-controls" },
      h("div", { class: "ctl-row" }, toggle("hexes", "hexes"), this.els.metricSelect, this.els.resSelect, fieldSelect),
      h("div", { class: "ctl-row" }, toggle("roads", "roads by"), roadMode, toggle("buildings", "buildings"), toggle("sensors", "sensors")),
      h("div", { class: "ctl-row" }, toggle("feeders", "feeders"), toggle("scenario", "scenario deltas")),
      h("button", { class: "link small", "data-testid": "rescale", title: "recompute the colour domain from the data on the map", onclick: () => this.rescale() }, "rescale colours"),
      this.els.legend,
    );
    const zoom = h(
      "div",
      { class: "zoom-buttons" },
      h("button", { "data-testid": "zoom-in", "aria-label": "zoom in", onclick: () => this.map.zoomBy(1) }, "+"),
      h("button", { "data-testid": "zoom-out", "aria-label": "zoom out", onclick: () => this.map.zoomBy(-1) }, "−"),
      h("button", { "data-testid": "zoom-home", "aria-label": "whole city", onclick: () => this.map.home() }, "⌂"),
    );
    const mapWrap = h("section", { class: "map-wrap" }, canvas, controls, zoom, this.details.el, this.els.scaleBar, this.els.attribution);
    const side = h(
      "aside",
      { class: "side" },
      this.banner.el,
      this.kpis.el,
      this.alarms.el,
      this.incidents.el,
      this.indicators.el,
      this.traffic.el,
      this.scenarios.el,
      this.energy.el,
    );
    // Views: which side panels show. "ops" shows them all (the operations centre); the planner's
    // views show the scenario runner (and energy) alone, with the problem banner.
    const viewPanels: Record<SideView, HTMLElement[]> = {
      ops: [this.kpis.el, this.alarms.el, this.incidents.el, this.indicators.el, this.traffic.el, this.scenarios.el, this.energy.el],
      scenarios: [this.scenarios.el, this.energy.el],
      energy: [this.energy.el],
    };
    const viewButtons = (Object.keys(viewPanels) as SideView[]).map((v) =>
      h("button", { type: "button", class: "seg", "data-testid": `view-${v}`, "data-view": v, onclick: () => setView(v) }, { ops: "Operations", scenarios: "Scenarios", energy: "Energy" }[v]),
    );
    const setView = (v: SideView): void => {
      this.view = v;
      const shown = new Set(viewPanels[v]);
      for (const el of viewPanels.ops) el.classList.toggle("hidden", !shown.has(el));
      for (const b of viewButtons) b.classList.toggle("active", b.dataset.view === v);
    };
    setView(this.view);
    setChildren(
      this.root,
      h(
        "header",
        { class: "top" },
        h("h1", {}, "CityBrain ", h("small", {}, "operations centre")),
        h("nav", { class: "views", "data-testid": "views", "aria-label": "views" }, viewButtons),
        this.els.cityName,
        this.els.health,
        this.els.streamState,
        tokenBox,
      ),
      h("main", { class: "layout" }, mapWrap, side),
      this.banner.noticeEl,
    );

    this.map = new MapView(canvas, this.cells, this.stats);
    this.map.onViewChange = () => this.renderScaleBar();
    this.map.onSelect = (sel) => {
      if (!sel) {
        this.details.close();
        return;
      }
      if (sel.kind === "feeder") {
        this.energy.select(sel.feeder.id);
        return;
      }
      if (sel.kind === "sensor") {
        this.map.selectedCell = null;
        this.details.showSensor(sel.sensor.props, this.metric);
      } else {
        this.details.showCell(sel.cell, this.cells.get(sel.cell), this.metric, this.unit, this.map.sensors.points, this.res);
      }
    };
    this.details.onClose = () => {
      this.map.selectedCell = null;
      this.map.invalidate("hex");
    };
    this.details.onPickSensor = (s) => this.details.showSensor(s.props, this.metric);
    const locate = (lon: number, lat: number): void => {
      this.map.view.cx = (lon + 180) / 360;
      const phi = (lat * Math.PI) / 180;
      this.map.view.cy = 0.5 - Math.log(Math.tan(Math.PI / 4 + phi / 2)) / (2 * Math.PI);
      if (this.map.view.zoom < 14) this.map.view.zoom = 14;
      this.map.invalidate("all");
      this.renderScaleBar();
    };
    this.incidents.onLocate = (i) => {
      if (i.location) locate(i.location.lon, i.location.lat);
    };
    this.incidents.onChanged = () => this.indicators.refreshSoon();
    this.scenarios.onRoadsChanged = (ids) => {
      this.map.pickedRoads.clear();
      for (const id of ids) this.map.pickedRoads.add(id);
      this.map.invalidate("top");
    };
    this.scenarios.onPickMode = (on) => {
      this.map.pickMode = on ? "road" : null;
      canvas.classList.toggle("picking", on);
    };
    this.map.onPickRoad = (road) => this.scenarios.toggleRoad(road.id);
    this.scenarios.onOverlay = (o) => {
      if (o) this.map.deltas.load(o.fc, o.scale);
      else this.map.deltas.clear();
      this.map.invalidate("top");
      this.renderLegend();
    };
    this.energy.onFeeders = (f) => {
      this.map.feeders.load(f);
      this.map.invalidate("top");
      this.renderLegend();
    };
    this.alarms.onLocate = (a) => {
      const s = this.map.sensors.points.find((p) => p.props.id === a.sensor);
      if (s) locate(s.mx * 360 - 180, (Math.atan(Math.sinh(Math.PI - 2 * Math.PI * s.my)) * 180) / Math.PI);
    };
  }

  // --- data ----------------------------------------------------------------------------------

  private async pollHealth(): Promise<void> {
    const el = this.els.health;
    try {
      await this.api.text("/health");
      let ready = true;
      try {
        await this.api.text("/ready");
      } catch {
        ready = false;
      }
      el.className = `health ${ready ? "ok" : "degraded"}`;
      el.title = ready ? "API healthy and ready" : "API alive but not ready";
    } catch (e) {
      el.className = "health down";
      el.title = `API unreachable: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  private cityBbox(): Bbox | null {
    return this.city?.bbox ?? null;
  }

  private async loadCity(): Promise<void> {
    try {
      this.city = await this.api.get<CityInfo>("/api/v1/city");
    } catch (e) {
      this.ctx.problem(e, "Loading the city");
      return;
    }
    const c = this.city;
    this.els.cityName.textContent = c.name;
    document.title = `CityBrain · ${c.name}`;
    if (c.attribution) this.els.attribution.textContent = c.attribution.includes("OpenStreetMap") ? c.attribution : `${c.attribution} · © OpenStreetMap contributors`;
    this.map.setHome(c.bbox);
    if (this.initialZoom !== undefined) this.map.view.zoomAt(this.initialZoom - this.map.view.zoom);
    this.renderScaleBar();
    const metrics = c.metrics?.length ? c.metrics : [{ name: this.metric, unit: "", description: "" }];
    if (!metrics.some((m) => m.name === this.metric)) this.metric = (metrics[0] as { name: string }).name;
    setChildren(
      this.els.metricSelect,
      metrics.map((m) => h("option", { value: m.name, selected: m.name === this.metric, title: m.description }, m.unit ? `${m.name} (${m.unit})` : m.name)),
    );
    this.kpis.setCity(c);
  }

  private async loadMapData(): Promise<void> {
    const bbox = this.cityBbox();
    if (!bbox) return;
    const q = { bbox: bboxParam(bbox) };
    const roads = this.api
      .get<RoadCollection>("/api/v1/map/roads", q)
      .then((fc) => {
        this.map.roads.load(fc);
        this.map.invalidate("top");
        this.scenarios.setRoads(this.map.roads.props);
      })
      .catch((e) => this.ctx.problem(e, "Loading roads"));
    const buildings = this.api
      .get<BuildingCollection>("/api/v1/map/buildings", q)
      .then((fc) => {
        this.map.buildings.load(fc);
        this.map.invalidate("base");
      })
      .catch((e) => this.ctx.problem(e, "Loading buildings"));
    await Promise.all([roads, buildings, this.loadSensors()]);
  }

  private async loadSensors(): Promise<void> {
    const bbox = this.cityBbox();
    if (!bbox) return;
    try {
      const fc = await this.api.get<SensorCollection>("/api/v1/sensors", { bbox: bboxParam(bbox) });
      this.map.sensors.load(fc);
      this.map.invalidate("top");
      this.updateFigures();
    } catch (e) {
      this.ctx.problem(e, "Loading sensors");
    }
  }

  /** Asks the feed for a full snapshot of the cells of (metric, res); `onSnapshot` applies it. */
  private requestSnapshot(): void {
    const bbox = this.cityBbox();
    if (!bbox) return;
    this.lastResync = performance.now();
    const url = this.api.url("/api/v1/cells", { bbox: bboxParam(bbox), res: this.res, metric: this.metric, format: "compact" });
    this.feed.snapshot(url, loadToken());
  }

  private onSnapshot(frame: CellFrame, unit: string | null, feedMs: number): void {
    const t0 = performance.now();
    if (unit) {
      this.unit = unit;
      this.cells.unit = unit;
    }
    const { rejected } = this.cells.replaceFrame(frame, Date.now());
    this.stats.lastUpdateMs = performance.now() - t0;
    this.stats.snapshots++;
    this.stats.lastSnapshotFeedMs = feedMs;
    if (rejected) this.ctx.notice(`${rejected} malformed cells ignored`);
    if (!this.scale) this.rescale();
    this.map.cellsChanged();
  }

  /** Changed cells from the stream: apply (main-thread cost recorded), refresh an open cell panel. */
  private onCells(frame: CellFrame, parseMs: number, scanned: boolean): void {
    const t0 = performance.now();
    const now = Date.now();
    const r = this.cells.applyFrame(frame, now);
    const open = this.details.openCell;
    if (open) {
      const hit = this.cells.updatedAtTime(open, now);
      if (hit) this.details.updateCell(hit);
    }
    this.map.cellsChanged();
    const ms = performance.now() - t0;
    const st = this.stats;
    // Main-thread time of the update: apply only with the worker; parse + encode + apply inline.
    const mainMs = this.feed.mode === "inline" ? ms + parseMs : ms;
    st.lastUpdateMs = mainMs;
    st.lastUpdateAt = performance.now();
    st.updates++;
    st.cellsChanged += r.changed;
    if (scanned) st.scannedUpdates++;
    if (r.lastChange) st.lastChange = r.lastChange;
    push(st.updateTimes, mainMs);
    push(st.parseTimes, parseMs);
  }

  private onStreamStatus(s: StreamStatus, detail?: string): void {
    this.streamStatus = s;
    const label: Record<StreamStatus, string> = {
      connecting: "connecting…",
      "open-ws": "live (WebSocket)",
      "open-sse": "live (SSE)",
      closed: "closed",
      reconnecting: "reconnecting",
    };
    this.els.streamState.textContent = `stream: ${label[s]}${detail ? ` (${detail})` : ""}`;
    this.els.streamState.className = `stream-state ${s}`;
    this.els.streamState.dataset.state = s;
    // After a reconnect, deltas sent while we were away are lost: re-read the snapshot.
    if (s === "open-ws" || s === "open-sse") this.scheduleResync(0);
  }

  async switchCells(metric: string, res: number): Promise<void> {
    this.metric = metric;
    this.res = res;
    this.unit = this.city?.metrics?.find((m) => m.name === metric)?.unit ?? "";
    this.cells.reset(metric, res, this.unit);
    this.scale = null;
    this.details.close();
    this.map.selectedCell = null;
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.resyncTimer = null;
    this.restartStream();
    this.requestSnapshot();
  }

  /** Recomputes the colour scale (fixed for known metrics, else from the data on the map). */
  rescale(): void {
    const field = this.map?.hexField ?? "mean";
    const values: number[] = [];
    const arr = this.cells[field].data;
    for (let s = 0; s < this.cells.size; s++) if (this.cells.present[s]) values.push(arr[s] as number);
    this.scale = field === "count" ? scaleFor("count", "", values) : scaleFor(this.metric, this.unit, values);
    if (this.map) {
      this.map.scale = this.scale;
      this.map.invalidate("hex");
    }
    this.renderLegend();
  }

  /** Starts a new feed generation (subscription or token changed): new stream and cell keys. */
  private restartStream(): void {
    this.cells.resetKeys();
    this.feed.start({ sub: { metric: this.metric, res: this.res }, bbox: this.cityBbox(), types: ["cells", "alarms", "incidents"], token: loadToken(), scan: this.scan });
  }

  /**
   * After `lagged` (or a reconnect) the cell state is stale: re-read the whole snapshot, at most
   * once every 2 s however many lagged notices arrive.
   */
  private scheduleResync(missed: number): void {
    if (missed > 0) this.banner.notice(`Live stream: ${missed} updates missed, re-reading cells`);
    if (this.resyncTimer) return;
    const wait = Math.max(0, 2000 - (performance.now() - this.lastResync));
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = null;
      this.lastResync = performance.now();
      this.requestSnapshot();
    }, wait);
  }

  private updateFigures(): void {
    this.kpis.setFigures({
      sensors: this.map.sensors.counts(),
      cells: this.cells.presentCount,
      streamMessages: this.feed.messages,
      missed: this.feed.missedTotal,
    });
    void this.streamStatus;
  }

  // --- legend and scale bar ------------------------------------------------------------------

  private renderLegend(): void {
    const items: HTMLElement[] = [];
    if (this.scale && this.map?.visible.hexes !== false) {
      const field = this.map?.hexField ?? "mean";
      items.push(h("div", { class: "legend-title" }, `${this.metric} ${field}${this.scale.unit ? ` (${this.scale.unit})` : ""}`));
      const entries = this.scale.legend();
      items.push(
        h(
          "div",
          { class: "legend-scale" },
          entries.map((e) => h("div", { class: "legend-item", "data-testid": "legend-item" }, h("span", { class: "swatch", style: `background:${e.colour}` }), e.label)),
        ),
      );
    }
    if (this.map?.visible.roads !== false) {
      const roadScale = this.map?.roads.mode === "tti" ? ROAD_TTI_SCALE : ROAD_SPEED_SCALE;
      items.push(h("div", { class: "legend-title" }, `roads: ${this.map?.roads.mode === "tti" ? "travel time index" : "speed / limit"}`));
      items.push(
        h(
          "div",
          { class: "legend-scale row" },
          roadScale.legend().map((e) => h("div", { class: "legend-item" }, h("span", { class: "swatch line", style: `background:${e.colour}` }), e.label)),
          h("div", { class: "legend-item" }, h("span", { class: "swatch line", style: "background:#7c8792" }), "no data"),
        ),
      );
    }
    if (this.map?.deltas.scale && this.map.visible.scenario) {
      const sc = this.map.deltas.scale;
      items.push(h("div", { class: "legend-title" }, `scenario Δ ${this.map.deltas.metric || "value"}${sc.unit ? ` (${sc.unit})` : ""}`));
      items.push(
        h(
          "div",
          { class: "legend-scale row", "data-testid": "legend-scenario" },
          sc.legend().map((e) => h("div", { class: "legend-item" }, h("span", { class: "swatch line", style: `background:${e.colour}` }), e.label)),
        ),
      );
    }
    if (this.map?.feeders.points.length && this.map.visible.feeders) {
      items.push(
        h(
          "div",
          { class: "legend-scale row", "data-testid": "legend-feeders" },
          ([["ok", "feeder < 80%"], ["high", "80–100%"], ["over", "> 100%"]] as const).map(([k, label]) =>
            h("div", { class: "legend-item" }, h("span", { class: "swatch", style: `background:${LOADING_COLOURS[k]}` }), label),
          ),
        ),
      );
    }
    if (this.map?.visible.sensors !== false) {
      items.push(
        h(
          "div",
          { class: "legend-scale row" },
          Object.entries(SENSOR_STATUS_COLOURS).map(([k, c]) => h("div", { class: "legend-item" }, h("span", { class: "swatch dot", style: `background:${c}` }), k)),
        ),
      );
    }
    setChildren(this.els.legend, items);
  }

  private renderScaleBar(): void {
    const mpp = this.map.view.metresPerPixel();
    const target = mpp * 100;
    const p = Math.pow(10, Math.floor(Math.log10(target)));
    const nice = [1, 2, 5, 10].map((f) => f * p).filter((v) => v <= target).pop() ?? p;
    const px = nice / mpp;
    this.els.scaleBar.style.width = `${px.toFixed(0)}px`;
    this.els.scaleBar.textContent = nice >= 1000 ? `${fmt(nice / 1000)} km` : `${fmt(nice)} m`;
  }
}

type SideView = "ops" | "scenarios" | "energy";

/** Appends to a bounded sample buffer (the last 600 values). */
function push(buf: number[], v: number): void {
  buf.push(v);
  if (buf.length > 600) buf.splice(0, buf.length - 600);
}
