// Details of the clicked sensor or hex, with a line chart of recent values.

import { latLngToCell } from "h3-js";
import type { CellHistory, ObservationSeries, SensorProps } from "../api/types";
import { fmtNum, fmtTime, h, setChildren, svgHost } from "../dom";
import type { CellAggregate } from "../map/cells";
import type { SensorPoint } from "../map/features";
import { myToLat, mxToLon } from "../map/projection";
import { lineChartSvg, toSeries, type SeriesPoint } from "./chart";
import type { PanelContext } from "./context";

export interface ChartWindow {
  label: string;
  ms: number;
  rollup: "raw" | "minute" | "hour";
}

/** Time windows offered for sensor charts and the roll-up each one requests. */
export const WINDOWS: readonly ChartWindow[] = [
  { label: "1 h", ms: 3600e3, rollup: "raw" },
  { label: "6 h", ms: 6 * 3600e3, rollup: "minute" },
  { label: "24 h", ms: 24 * 3600e3, rollup: "minute" },
  { label: "7 d", ms: 7 * 24 * 3600e3, rollup: "hour" },
];

export class DetailsPanel {
  readonly el = h("aside", { class: "details hidden", "data-testid": "details-panel" });
  private sensor: SensorProps | null = null;
  private cell: { id: string; agg: CellAggregate | null; unit: string; metric: string } | null = null;
  private cellHistory: SeriesPoint[] = [];
  /** Minute roll-ups read from the server for the open cell (null until loaded or when unavailable). */
  private cellPast: SeriesPoint[] | null = null;
  private cellSensors: SensorPoint[] = [];
  private metric = "";
  private window: ChartWindow = WINDOWS[1] as ChartWindow;
  private series: ObservationSeries | null = null;
  private loading = false;
  private abort: AbortController | null = null;
  onClose: (() => void) | null = null;
  onPickSensor: ((s: SensorPoint) => void) | null = null;

  constructor(private readonly ctx: PanelContext) {}

  close(): void {
    this.sensor = null;
    this.cell = null;
    this.abort?.abort();
    this.el.className = "details hidden";
    this.el.replaceChildren();
  }

  showSensor(p: SensorProps, preferredMetric: string): void {
    this.sensor = p;
    this.cell = null;
    const metrics = Object.keys(p.latest ?? {});
    this.metric = metrics.includes(preferredMetric) ? preferredMetric : (metrics[0] ?? preferredMetric);
    this.series = null;
    void this.load();
  }

  /** Opens a cell: its aggregates, the sensors inside it, and its live history on this page. */
  showCell(id: string, agg: CellAggregate | null, metric: string, unit: string, sensors: readonly SensorPoint[], res: number): void {
    this.sensor = null;
    this.abort?.abort();
    this.cell = { id, agg, metric, unit };
    this.cellHistory = agg && Number.isFinite(agg.mean) ? [{ t: Date.now(), v: agg.mean }] : [];
    this.cellPast = null;
    this.cellSensors = sensors.filter((s) => {
      try {
        return latLngToCell(myToLat(s.my), mxToLon(s.mx), res) === id;
      } catch {
        return false;
      }
    });
    this.render();
    void this.loadCellHistory(id, metric);
  }

  /**
   * Reads the cell's minute roll-ups of the last 6 hours (`/api/v1/cells/{cell}/history`) so
   * the chart starts with the past; live updates keep appending. A server without the endpoint
   * (404) or with no history leaves the live-only chart.
   */
  private async loadCellHistory(id: string, metric: string): Promise<void> {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    const to = new Date();
    const from = new Date(to.getTime() - 6 * 3600e3);
    try {
      const hist = await this.ctx.api.get<CellHistory>(`/api/v1/cells/${encodeURIComponent(id)}/history`, { metric, from: from.toISOString(), to: to.toISOString(), rollup: "minute" }, abort.signal);
      if (abort.signal.aborted || this.cell?.id !== id) return;
      this.cellPast = cellHistoryPoints(hist);
      this.render();
    } catch {
      // Optional: the live series stands alone.
    }
  }

  /** The chart's series: the server's past (before the first live value), then live values. */
  private cellSeries(): SeriesPoint[] {
    const firstLive = this.cellHistory[0]?.t ?? Infinity;
    return [...(this.cellPast ?? []).filter((p) => p.t < firstLive), ...this.cellHistory];
  }

  /** A live update of the open cell. */
  updateCell(agg: CellAggregate): void {
    if (!this.cell || this.cell.id !== agg.cell) return;
    this.cell.agg = agg;
    if (Number.isFinite(agg.mean)) {
      this.cellHistory.push({ t: Date.now(), v: agg.mean });
      if (this.cellHistory.length > 3600) this.cellHistory.shift();
    }
    this.render();
  }

  get openCell(): string | null {
    return this.cell?.id ?? null;
  }

  private async load(): Promise<void> {
    const s = this.sensor;
    if (!s) return;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.loading = true;
    this.render();
    const to = new Date();
    const from = new Date(to.getTime() - this.window.ms);
    try {
      this.series = await this.ctx.api.get<ObservationSeries>(
        "/api/v1/observations",
        { sensor: s.id, metric: this.metric, from: from.toISOString(), to: to.toISOString(), rollup: this.window.rollup },
        abort.signal,
      );
    } catch (e) {
      if (abort.signal.aborted) return;
      this.series = null;
      this.ctx.problem(e, `Loading ${this.metric} of sensor ${s.id}`);
    }
    this.loading = false;
    this.render();
  }

  private header(title: string, sub: string): HTMLElement {
    return h(
      "div",
      { class: "details-head" },
      h("div", {}, h("h3", { "data-testid": "details-title" }, title), h("div", { class: "muted small" }, sub)),
      h("button", { class: "close", "aria-label": "close", "data-testid": "details-close", onclick: () => (this.close(), this.onClose?.()) }, "×"),
    );
  }

  render(): void {
    this.el.className = "details";
    if (this.sensor) {
      const s = this.sensor;
      const metrics = Object.keys(s.latest ?? {});
      setChildren(
        this.el,
        this.header(`Sensor ${s.id}`, `${s.kind} · last seen ${fmtTime(s.last_seen)}`),
        h(
          "div",
          { class: "details-facts" },
          h("span", { class: `status status-${s.status}`, "data-testid": "sensor-status" }, s.status),
          s.flags?.length ? h("span", { class: "flags" }, ` flags: ${s.flags.join(", ")}`) : null,
        ),
        h("table", { class: "table" }, h("tbody", {}, metrics.map((m) => h("tr", {}, h("td", {}, m), h("td", { class: "num" }, fmtNum(s.latest[m], 2)))))),
        h(
          "div",
          { class: "form-row" },
          h(
            "select",
            {
              "data-testid": "details-metric",
              onchange: (ev: Event) => {
                this.metric = (ev.target as HTMLSelectElement).value;
                void this.load();
              },
            },
            metrics.map((m) => h("option", { value: m, selected: m === this.metric }, m)),
          ),
          WINDOWS.map((w) =>
            h(
              "button",
              {
                class: w === this.window ? "seg active" : "seg",
                onclick: () => {
                  this.window = w;
                  void this.load();
                },
              },
              w.label,
            ),
          ),
        ),
        this.loading ? h("p", { class: "muted" }, "loading…") : svgHost(lineChartSvg(toSeries(this.series?.points ?? []), { unit: this.series?.unit ?? "", title: `${this.metric} of ${s.id}` })),
      );
      return;
    }
    if (this.cell) {
      const c = this.cell;
      const a = c.agg;
      setChildren(
        this.el,
        this.header(`Cell ${c.id}`, `${c.metric} · ${this.cellPast?.length ? "minute means of the last 6 h, then live values" : "live values since this panel opened"}`),
        h(
          "table",
          { class: "table", "data-testid": "cell-aggregates" },
          h(
            "tbody",
            {},
            [
              ["mean", a?.mean],
              ["last", a?.last],
              ["min", a?.min],
              ["max", a?.max],
              ["count", a?.count],
            ].map(([k, v]) => h("tr", {}, h("td", {}, String(k)), h("td", { class: "num", "data-field": String(k) }, `${fmtNum(v as number | undefined, 2)}${k === "count" ? "" : ` ${c.unit}`}`))),
          ),
        ),
        svgHost(lineChartSvg(this.cellSeries(), { unit: c.unit, title: `${c.metric} mean of ${c.id}` })),
        this.cellSensors.length
          ? h(
              "div",
              {},
              h("h4", {}, "Sensors in this cell"),
              h(
                "ul",
                { class: "list compact" },
                this.cellSensors.map((s) => h("li", {}, h("button", { class: "link", onclick: () => this.onPickSensor?.(s) }, `${s.props.id} (${s.props.kind}, ${s.props.status})`))),
              ),
            )
          : h("p", { class: "muted small" }, "No sensor of the sensor layer lies in this cell."),
      );
    }
  }
}

/** Minute roll-ups `[bucket_ms, count, mean, min, max]` → chart points of the mean (oldest first). */
export function cellHistoryPoints(h: CellHistory | null | undefined): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (const p of h?.points ?? []) {
    if (!Array.isArray(p)) continue;
    const t = p[0];
    const mean = p[2];
    if (typeof t === "number" && typeof mean === "number" && Number.isFinite(t) && Number.isFinite(mean)) out.push({ t, v: mean });
  }
  return out.sort((a, b) => a.t - b.t);
}
