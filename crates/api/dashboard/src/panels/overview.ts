// Live KPIs (sensor health, observation rate, dead letters), traffic index and governance
// indicators (six pillars, composite, trend).

import type { CityInfo, IndicatorHistory, IndicatorNode, Indicators, TrafficLive } from "../api/types";
import { fmtNum, fmtPct, fmtTime, h, setChildren, svgHost } from "../dom";
import { counterRate, DEAD_LETTERS_COUNTER, OBSERVATIONS_COUNTER, parsePrometheus, pickMetric } from "../live/metrics";
import { radarSvg, sparklineSvg } from "./chart";
import type { PanelContext } from "./context";
import { kpi } from "./incidents";

export interface LiveFigures {
  sensors: Record<string, number>;
  cells: number;
  streamMessages: number;
  missed: number;
}

export class KpiPanel {
  readonly el = h("section", { class: "panel", "data-testid": "kpi-panel" });
  private prev: { obs: number; at: number } | null = null;
  private obsRate: number | null = null;
  private deadLetters: number | null = null;
  private metricsError: string | null = null;
  private city: CityInfo | null = null;
  private figures: LiveFigures = { sensors: {}, cells: 0, streamMessages: 0, missed: 0 };

  constructor(private readonly ctx: PanelContext) {
    this.render();
  }

  setCity(c: CityInfo): void {
    this.city = c;
    this.render();
  }

  setFigures(f: LiveFigures): void {
    this.figures = f;
    this.render();
  }

  /** Polls `/metrics` (Prometheus text) for the observation counter and dead letters. */
  async pollMetrics(): Promise<void> {
    try {
      const m = parsePrometheus(await this.ctx.api.text("/metrics"));
      const now = performance.now();
      const obs = pickMetric(m, OBSERVATIONS_COUNTER.names, OBSERVATIONS_COUNTER.pattern);
      if (obs) {
        if (this.prev) this.obsRate = counterRate(this.prev.obs, this.prev.at, obs.value, now) ?? this.obsRate;
        this.prev = { obs: obs.value, at: now };
      }
      const dl = pickMetric(m, DEAD_LETTERS_COUNTER.names, DEAD_LETTERS_COUNTER.pattern);
      this.deadLetters = dl ? dl.value : (this.city?.counts.dead_letters ?? null);
      this.metricsError = null;
    } catch (e) {
      this.metricsError = e instanceof Error ? e.message : String(e);
      this.deadLetters = this.city?.counts.dead_letters ?? this.deadLetters;
    }
    this.render();
  }

  render(): void {
    const s = this.figures.sensors;
    const total = (s.online ?? 0) + (s.stale ?? 0) + (s.offline ?? 0) + (s.unseen ?? 0);
    const cityTotal = this.city?.counts.sensors;
    setChildren(
      this.el,
      h("h2", {}, "Live"),
      h(
        "div",
        { class: "kpi-grid" },
        kpi("Sensors online", total ? `${s.online ?? 0} / ${total}` : cityTotal !== undefined ? `– / ${cityTotal}` : "–", "kpi-sensors-online"),
        kpi(s.unseen ? "Stale / offline / unseen" : "Stale / offline", total ? `${s.stale ?? 0} / ${s.offline ?? 0}${s.unseen ? ` / ${s.unseen}` : ""}` : "–", "kpi-sensors-stale"),
        kpi("Observations/s", this.obsRate === null ? "–" : fmtNum(this.obsRate, 0), "kpi-obs-rate"),
        kpi("Dead letters", this.deadLetters === null ? "–" : fmtNum(this.deadLetters, 0), "kpi-dead-letters"),
        kpi("Cells on map", fmtNum(this.figures.cells, 0), "kpi-cells"),
        kpi("Stream msgs / missed", `${fmtNum(this.figures.streamMessages, 0)} / ${fmtNum(this.figures.missed, 0)}`, "kpi-stream"),
      ),
      this.metricsError ? h("p", { class: "muted small" }, `/metrics unavailable: ${this.metricsError}`) : null,
    );
  }
}

export class TrafficPanel {
  readonly el = h("section", { class: "panel", "data-testid": "traffic-panel" });
  private data: TrafficLive | null = null;
  private error: string | null = null;

  constructor(private readonly ctx: PanelContext) {
    this.render();
  }

  async refresh(): Promise<void> {
    try {
      this.data = await this.ctx.api.get<TrafficLive>("/api/v1/traffic/live");
      this.error = null;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
    this.render();
  }

  render(): void {
    const d = this.data;
    const rows = (d?.by_community ?? [])
      .slice()
      .sort((a, b) => (b.tti ?? 0) - (a.tti ?? 0))
      .slice(0, 12)
      .map((c) => h("tr", {}, h("td", {}, c.community), h("td", { class: "num" }, fmtNum(c.tti, 2)), h("td", { class: "num" }, fmtNum(c.tpi, 1)), h("td", {}, c.level ?? "–")));
    setChildren(
      this.el,
      h("h2", {}, "Traffic 交通运行指数"),
      h(
        "div",
        { class: "kpi-grid" },
        kpi("Travel time index", fmtNum(d?.tti, 2), "traffic-tti"),
        kpi("Performance index TPI", fmtNum(d?.tpi, 1), "traffic-tpi"),
        kpi("Level", d?.level ?? "–", "traffic-level"),
      ),
      rows.length ? h("table", { class: "table" }, h("thead", {}, h("tr", {}, h("th", {}, "Community"), h("th", {}, "TTI"), h("th", {}, "TPI"), h("th", {}, "Level"))), h("tbody", {}, rows)) : null,
      this.error ? h("p", { class: "muted small" }, `traffic index unavailable: ${this.error}`) : null,
    );
  }
}

export class IndicatorsPanel {
  readonly el = h("section", { class: "panel", "data-testid": "indicators-panel" });
  private data: Indicators | null = null;
  private history: number[] = [];
  private drill: string | null = null;
  private error: string | null = null;
  private soonTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly ctx: PanelContext) {
    this.render();
  }

  /**
   * Re-reads the scores shortly (once per burst of calls): live inputs such as incident closure
   * and response times change the moment an incident moves, so the panel follows them without
   * waiting for the periodic refresh.
   */
  refreshSoon(delayMs = 1500): void {
    if (this.soonTimer) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = null;
      void this.refresh();
    }, delayMs);
  }

  async refresh(): Promise<void> {
    try {
      this.data = await this.ctx.api.get<Indicators>("/api/v1/indicators");
      this.error = null;
    } catch (e) {
      this.error = e instanceof Error ? e.message : String(e);
    }
    try {
      const hist = await this.ctx.api.get<IndicatorHistory>("/api/v1/indicators/history", { limit: 96 });
      this.history = (hist?.points ?? []).map((p) => p[1]);
    } catch {
      // A missing history endpoint leaves the sparkline empty.
    }
    this.render();
  }

  private bar(n: IndicatorNode, depth: number): HTMLElement {
    const v = n.score_rate;
    const pct = v === null || !Number.isFinite(v) ? 0 : Math.max(0, Math.min(1, v)) * 100;
    return h(
      "div",
      { class: `pillar depth-${depth}`, "data-testid": depth === 0 ? "pillar-score" : "indicator-score", "data-pillar": n.id, "data-score": v === null ? "" : String(v) },
      h(
        "button",
        { class: "pillar-name link", onclick: () => ((this.drill = this.drill === n.id ? null : n.id), this.render()), disabled: !n.children?.length },
        `${n.name_zh} ${n.name_en}`,
      ),
      h("div", { class: "bar" }, h("div", { class: "bar-fill", style: `width:${pct.toFixed(1)}%` })),
      h("span", { class: "pillar-value" }, v === null ? "n/a" : fmtPct(v, 1)),
    );
  }

  render(): void {
    const d = this.data;
    const pillars = d?.pillars ?? [];
    const drilled = pillars.find((p) => p.id === this.drill);
    setChildren(
      this.el,
      h("h2", {}, "Indicators 指标"),
      d
        ? h(
            "div",
            { class: "kpi-grid" },
            kpi("Composite", d.composite === null ? "n/a" : fmtPct(d.composite, 1), "composite-score"),
            kpi("Coverage", fmtPct(d.coverage, 0)),
            kpi("Confidence", fmtPct(d.confidence, 0)),
          )
        : null,
      d ? h("p", { class: "muted small" }, `profile ${d.profile} · as of ${fmtTime(d.as_of)}`) : null,
      this.history.length > 1 ? h("div", { class: "trend" }, "trend ", svgHost(sparklineSvg(this.history, 160, 28), "spark-host")) : null,
      pillars.length ? svgHost(radarSvg(pillars.map((p) => ({ label: p.name_zh || p.name_en, value: p.score_rate })), 230), "radar-host") : null,
      h("div", { class: "pillars" }, pillars.map((p) => this.bar(p, 0))),
      drilled?.children?.length ? h("div", { class: "drill", "data-testid": "indicator-drill" }, h("h3", {}, drilled.name_en), drilled.children.flatMap((c) => [this.bar(c, 1), ...(c.children ?? []).map((g) => this.bar(g, 2))])) : null,
      this.error ? h("p", { class: "muted small" }, `indicators unavailable: ${this.error}`) : null,
    );
  }
}
