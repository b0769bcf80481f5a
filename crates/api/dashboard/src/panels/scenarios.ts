// Scenario runner: choose a preset, run baseline and variant on the server, watch progress,
// read the baseline-vs-variant KPI table.

import { ApiError } from "../api/client";
import type { ScenarioEngine, ScenarioRun } from "../api/types";
import { fmtNum, h, setChildren } from "../dom";
import type { PanelContext } from "./context";
import { FALLBACK_PRESETS, isFinished, progressOf, scenarioRows, type ScenarioPreset } from "./scenario-logic";

export class ScenarioPanel {
  readonly el = h("section", { class: "panel", "data-testid": "scenario-panel" });
  private presets: readonly ScenarioPreset[] = FALLBACK_PRESETS;
  private engine: ScenarioEngine = "traffic";
  private preset = "";
  private run: ScenarioRun | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private starting = false;
  /** Set when the server has no scenario endpoint (404/405 on POST /api/v1/scenarios). */
  private unavailable: string | null = null;

  constructor(private readonly ctx: PanelContext) {
    this.render();
  }

  async loadPresets(): Promise<void> {
    try {
      const p = await this.ctx.api.get<ScenarioPreset[]>("/api/v1/scenarios/presets");
      if (Array.isArray(p) && p.length) this.presets = p;
    } catch {
      // Endpoint not available: keep the built-in list (see API-NEEDS.md).
    }
    this.render();
  }

  private async start(): Promise<void> {
    const preset = this.preset || this.presets.find((p) => p.engine === this.engine)?.id;
    if (!preset) return;
    this.starting = true;
    this.render();
    try {
      const r = await this.ctx.api.post<{ id: string; status: ScenarioRun["status"] }>("/api/v1/scenarios", { engine: this.engine, preset });
      this.run = { id: r.id, engine: this.engine, status: r.status, progress: 0 };
      this.poll();
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 405)) {
        this.unavailable = `This server does not run scenarios over the API (${e.status} on POST /api/v1/scenarios). Run them with the citybrain traffic, community or energy commands.`;
      }
      this.ctx.problem(e, "Starting scenario");
    } finally {
      this.starting = false;
      this.render();
    }
  }

  private poll(): void {
    if (this.timer) clearTimeout(this.timer);
    const run = this.run;
    if (!run || isFinished(run.status)) return;
    this.timer = setTimeout(async () => {
      try {
        this.run = await this.ctx.api.get<ScenarioRun>(`/api/v1/scenarios/${encodeURIComponent(run.id)}`);
        this.render();
        this.poll();
      } catch (e) {
        this.ctx.problem(e, `Reading scenario ${run.id}`);
      }
    }, 700);
  }

  render(): void {
    const engines: ScenarioEngine[] = ["traffic", "community", "energy"];
    const presets = this.presets.filter((p) => p.engine === this.engine);
    if (!presets.some((p) => p.id === this.preset)) this.preset = presets[0]?.id ?? "";
    const run = this.run;
    const running = !!run && !isFinished(run.status);
    const rows = run?.status === "done" ? scenarioRows(run) : [];
    setChildren(
      this.el,
      h("h2", {}, "Scenarios 推演"),
      h(
        "div",
        { class: "form-row" },
        h(
          "select",
          {
            "data-testid": "scenario-engine",
            onchange: (ev: Event) => {
              this.engine = (ev.target as HTMLSelectElement).value as ScenarioEngine;
              this.render();
            },
          },
          engines.map((e) => h("option", { value: e, selected: e === this.engine }, e)),
        ),
        h(
          "select",
          { "data-testid": "scenario-preset", onchange: (ev: Event) => (this.preset = (ev.target as HTMLSelectElement).value) },
          presets.map((p) => h("option", { value: p.id, selected: p.id === this.preset, title: p.description ?? "" }, p.name)),
        ),
        h("button", { "data-testid": "scenario-run", disabled: running || this.starting || !presets.length || !!this.unavailable, onclick: () => void this.start() }, running ? "Running…" : "Run"),
      ),
      this.unavailable ? h("p", { class: "muted small", "data-testid": "scenario-unavailable" }, this.unavailable) : null,
      run
        ? h(
            "div",
            { class: "scenario-status" },
            h("progress", { "data-testid": "scenario-progress", max: 1, value: progressOf(run) }),
            h("span", { "data-testid": "scenario-status" }, ` ${run.status} ${(progressOf(run) * 100).toFixed(0)}%`),
            run.status === "failed" ? h("p", { class: "error" }, run.error ?? "The run failed.") : null,
          )
        : null,
      rows.length
        ? h(
            "table",
            { class: "table", "data-testid": "scenario-table" },
            h("thead", {}, h("tr", {}, h("th", {}, "KPI"), h("th", {}, "Baseline"), h("th", {}, "Variant"), h("th", {}, "Δ"), h("th", {}, "Δ%"))),
            h(
              "tbody",
              {},
              rows.map((r) =>
                h(
                  "tr",
                  { "data-kpi": r.kpi },
                  h("td", {}, r.kpi),
                  h("td", { class: "num" }, fmtNum(r.baseline, 2)),
                  h("td", { class: "num" }, fmtNum(r.variant, 2)),
                  h("td", { class: `num ${r.delta > 0 ? "up" : r.delta < 0 ? "down" : ""}` }, `${r.delta > 0 ? "+" : ""}${fmtNum(r.delta, 2)}`),
                  h("td", { class: "num" }, r.relative === null ? "–" : `${r.relative > 0 ? "+" : ""}${(r.relative * 100).toFixed(1)}%`),
                ),
              ),
            ),
          )
        : null,
    );
  }
}
