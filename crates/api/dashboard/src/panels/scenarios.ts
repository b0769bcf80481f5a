// The Scenarios view: a what-if form per engine, POST /api/v1/scenarios, progress polled every
// second, the baseline | variant | delta table and bar chart, the per-entity deltas on the map,
// and the list of past runs with cancel/delete.

import { ApiError } from "../api/client";
import type { Problem, RoadProps, ScenarioEngine, ScenarioList, ScenarioMapCollection, ScenarioRun } from "../api/types";
import { fmtTime, h, setChildren, svgHost } from "../dom";
import type { ColourScale } from "../map/colour";
import type { PanelContext } from "./context";
import {
  buildScenarioRequest,
  deltaScale,
  emptyForm,
  ENGINES,
  fmtDeltaPct,
  fmtKpi,
  isActive,
  kpiBarChartSvg,
  kpiRows,
  progressLabel,
  problemField,
  progressOf,
  type FormErrors,
  type ScenarioForm,
} from "./scenario-logic";

const POLL_MS = 1000;

/** What the panel asks the map to show: a run's deltas with their scale, or nothing. */
export interface ScenarioOverlay {
  runId: string;
  fc: ScenarioMapCollection;
  scale: ColourScale;
  metric: string;
}

export class ScenarioPanel {
  readonly el = h("section", { class: "panel scenarios", "data-testid": "scenario-panel" });
  private readonly formEl = h("form", { class: "scenario-form", "data-testid": "scenario-form", novalidate: true });
  private readonly runEl = h("div", { class: "scenario-current", "data-testid": "scenario-current" });
  private readonly listEl = h("div", { class: "scenario-list" });

  private form: ScenarioForm = emptyForm();
  private errors: FormErrors = {};
  /** The last problem of a submit (shown inline, title + detail). */
  private submitProblem: Problem | null = null;
  private submitting = false;
  private run: ScenarioRun | null = null;
  private runs: ScenarioRun[] = [];
  private listNote: string | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private showOnMap = false;
  private overlayRun: string | null = null;
  private mapLegend: ColourScale | null = null;
  private roads: RoadProps[] = [];
  private picking = false;
  /** Set after a 403 on submit: this token's role cannot run scenarios. */
  private forbidden: string | null = null;
  private listTimer: ReturnType<typeof setTimeout> | null = null;

  /** Called when the roads picked for the traffic what-if change (to outline them on the map). */
  onRoadsChanged: ((ids: ReadonlySet<string>) => void) | null = null;
  /** Called when "pick on map" is toggled. */
  onPickMode: ((on: boolean) => void) | null = null;
  /** Called with the overlay to draw, or null to clear it. */
  onOverlay: ((o: ScenarioOverlay | null) => void) | null = null;

  constructor(private readonly ctx: PanelContext) {
    this.el.append(h("h2", {}, "Scenarios 推演"), this.formEl, this.runEl, h("h3", { class: "sub" }, "Past runs"), this.listEl);
    this.renderForm();
    this.renderRun();
    this.renderList();
  }

  /** The road network, for the closure list and names of picked roads. */
  setRoads(roads: readonly RoadProps[]): void {
    this.roads = [...roads].sort((a, b) => (a.name ?? a.id).localeCompare(b.name ?? b.id));
    this.renderForm();
  }

  /** A road clicked on the map while picking: toggles it in the what-if. */
  toggleRoad(id: string): void {
    const roads = this.form.traffic.roads;
    const i = roads.indexOf(id);
    if (i >= 0) roads.splice(i, 1);
    else roads.push(id);
    this.roadsChanged();
  }

  private roadsChanged(): void {
    this.onRoadsChanged?.(new Set(this.form.engine === "traffic" ? this.form.traffic.roads : []));
    this.renderForm();
  }

  private setPicking(on: boolean): void {
    this.picking = on;
    this.onPickMode?.(on);
    this.renderForm();
  }

  // --- data ----------------------------------------------------------------------------------

  /** The token changed: forget what the last one was refused, re-read the runs. */
  tokenChanged(): void {
    this.forbidden = null;
    this.submitProblem = null;
    this.renderForm();
    void this.refresh();
  }

  /**
   * Re-reads the list of runs (after a token change, a submit, a cancel or a finished run; every
   * 3 s while a listed run is queued or running, so runs started elsewhere move too).
   */
  async refresh(): Promise<void> {
    if (this.listTimer) clearTimeout(this.listTimer);
    this.listTimer = null;
    try {
      const list = await this.ctx.api.get<ScenarioList>("/api/v1/scenarios");
      this.runs = Array.isArray(list?.runs) ? list.runs : [];
      this.listNote = null;
    } catch (e) {
      this.runs = [];
      const st = e instanceof ApiError ? e.status : 0;
      this.listNote =
        st === 401
          ? "Set an API token to see scenario runs."
          : st === 404 || st === 405
            ? "This server does not run scenarios over the API."
            : `Could not read the runs: ${e instanceof ApiError ? e.problem.title : String(e)}`;
    }
    this.renderList();
    if (this.runs.some((r) => isActive(r.status))) this.listTimer = setTimeout(() => void this.refresh(), 3000);
  }

  private async submit(): Promise<void> {
    const built = buildScenarioRequest(this.form);
    if (!built.ok) {
      this.errors = built.errors;
      this.submitProblem = null;
      this.renderForm();
      return;
    }
    this.errors = {};
    this.submitProblem = null;
    this.submitting = true;
    this.renderForm();
    try {
      const run = await this.ctx.api.post<ScenarioRun>("/api/v1/scenarios", built.body);
      if (this.picking) this.setPicking(false);
      // The contract answers the Run; an empty body would leave only the list to follow it.
      if (run && typeof run.id === "string") this.select(run);
      else this.ctx.notice("Scenario accepted");
      void this.refresh();
    } catch (e) {
      this.submitProblem = e instanceof ApiError ? e.problem : { type: "about:blank", title: String(e), status: 0 };
      // A problem whose detail starts with a field path (`variant.demand_scale: ...`) marks that input too.
      const field = problemField(this.submitProblem.detail);
      if (field) this.errors = { [field]: this.submitProblem.detail ?? "" };
      // The server refused this token's role: say so at the button until the token changes.
      if (this.submitProblem.status === 403) this.forbidden = this.submitProblem.detail ?? this.submitProblem.title;
      this.ctx.problem(e, "Starting the scenario");
    } finally {
      this.submitting = false;
      this.renderForm();
    }
  }

  /** Shows a run (from a submit or the list) and polls it while it is queued or running. */
  private select(run: ScenarioRun): void {
    if (this.run?.id !== run.id) this.clearOverlay();
    this.run = run;
    this.renderRun();
    // Queued/running: poll; done without a result (a list row): read it once; else nothing.
    this.poll(isActive(run.status) ? POLL_MS : run.status === "done" && !run.result ? 0 : -1);
  }

  /** Schedules a GET of the current run after `ms` (negative: not at all). */
  private poll(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const run = this.run;
    if (!run || ms < 0) return;
    this.timer = setTimeout(async () => {
      this.timer = null;
      try {
        const next = await this.ctx.api.get<ScenarioRun>(`/api/v1/scenarios/${encodeURIComponent(run.id)}`);
        if (this.run?.id !== run.id) return;
        const finished = isActive(run.status) && !isActive(next.status);
        this.run = next;
        this.renderRun();
        if (isActive(next.status)) this.poll(POLL_MS);
        if (finished) {
          void this.refresh();
          if (this.showOnMap && next.status === "done") void this.loadOverlay();
        }
      } catch (e) {
        if (this.run?.id !== run.id) return;
        this.ctx.problem(e, `Reading scenario ${run.id}`);
        // A transient failure: keep polling, more slowly; a vanished run stops.
        if (!(e instanceof ApiError && e.status === 404)) this.poll(POLL_MS * 3);
      }
    }, ms);
  }

  private async open(id: string): Promise<void> {
    try {
      this.select(await this.ctx.api.get<ScenarioRun>(`/api/v1/scenarios/${encodeURIComponent(id)}`));
      if (this.showOnMap && this.run?.status === "done") void this.loadOverlay();
    } catch (e) {
      this.ctx.problem(e, `Reading scenario ${id}`);
    }
  }

  private async remove(run: ScenarioRun): Promise<void> {
    const cancel = isActive(run.status);
    try {
      await this.ctx.api.del(`/api/v1/scenarios/${encodeURIComponent(run.id)}`);
      this.ctx.notice(cancel ? `Cancelled ${run.id}` : `Deleted ${run.id}`);
      if (this.run?.id === run.id) {
        if (cancel) this.poll(0);
        else {
          this.run = null;
          this.clearOverlay();
          this.poll(-1);
          this.renderRun();
        }
      }
    } catch (e) {
      this.ctx.problem(e, `${cancel ? "Cancelling" : "Deleting"} scenario ${run.id}`);
    }
    void this.refresh();
  }

  private async loadOverlay(): Promise<void> {
    const run = this.run;
    if (!run || run.status !== "done") return;
    try {
      const fc = await this.ctx.api.get<ScenarioMapCollection>(`/api/v1/scenarios/${encodeURIComponent(run.id)}/map`);
      if (this.run?.id !== run.id || !this.showOnMap) return;
      const feats = Array.isArray(fc?.features) ? fc.features : [];
      const metric = feats.find((f) => f?.properties?.metric)?.properties.metric ?? "";
      const deltas = feats.map((f) => f?.properties?.delta).filter((d): d is number => typeof d === "number");
      const scale = deltaScale(deltas, metric, metric === "mean_speed_kmh" ? "km/h" : metric === "max_loading_pct" ? "%" : "");
      this.overlayRun = run.id;
      this.mapLegend = scale;
      this.onOverlay?.({ runId: run.id, fc: { type: "FeatureCollection", features: feats }, scale, metric });
    } catch (e) {
      this.ctx.problem(e, `Loading the map of ${run.id}`);
      this.showOnMap = false;
    }
    this.renderRun();
  }

  private clearOverlay(): void {
    if (this.overlayRun) this.onOverlay?.(null);
    this.overlayRun = null;
    this.mapLegend = null;
  }

  // --- rendering -----------------------------------------------------------------------------

  private input(path: string, label: string, get: () => string, set: (v: string) => void, attrs: Record<string, string | number> = {}): HTMLElement {
    const err = this.errors[path];
    return h(
      "label",
      { class: `field${err ? " invalid" : ""}` },
      h("span", { class: "field-label" }, label),
      h("input", {
        value: get(),
        "data-testid": `scenario-${path.replace(/^variant\./, "").replace(/[._]/g, "-")}`,
        "aria-invalid": err ? "true" : null,
        oninput: (ev: Event) => set((ev.target as HTMLInputElement).value),
        ...attrs,
      }),
      err ? h("span", { class: "field-error", "data-testid": "scenario-field-error", "data-field": path }, err) : null,
    );
  }

  private renderForm(): void {
    const f = this.form;
    const num = { inputmode: "decimal", size: 7 };
    const engineFields: HTMLElement[] = [];
    if (f.engine === "traffic") {
      const t = f.traffic;
      const byId = new Map(this.roads.map((r) => [r.id, r]));
      const roadSelect = h(
        "select",
        { "data-testid": "scenario-road-select", "aria-label": "road" },
        h("option", { value: "" }, this.roads.length ? "choose a road…" : "no roads loaded"),
        this.roads.filter((r) => !t.roads.includes(r.id)).map((r) => h("option", { value: r.id }, r.name ? `${r.name} (${r.id})` : `${r.id} · ${r.class}`)),
      );
      engineFields.push(
        h(
          "fieldset",
          { class: "roads" },
          h("legend", {}, "Roads"),
          h(
            "div",
            { class: "form-row" },
            roadSelect,
            h("button", { type: "button", "data-testid": "scenario-road-add", onclick: () => roadSelect.value && this.toggleRoad(roadSelect.value) }, "add"),
            h(
              "button",
              { type: "button", class: this.picking ? "seg active" : "", "data-testid": "scenario-pick-roads", "aria-pressed": this.picking ? "true" : "false", onclick: () => this.setPicking(!this.picking) },
              this.picking ? "picking on map… (done)" : "pick on map",
            ),
          ),
          h(
            "div",
            { class: "chips", "data-testid": "scenario-roads" },
            t.roads.length
              ? t.roads.map((id) =>
                  h(
                    "span",
                    { class: "chip", "data-testid": "scenario-road", "data-road": id },
                    byId.get(id)?.name ?? id,
                    h("button", { type: "button", class: "link", "aria-label": `remove ${id}`, onclick: () => this.toggleRoad(id) }, "×"),
                  ),
                )
              : h("span", { class: "muted small" }, "no roads: the what-if changes demand and signals only"),
          ),
          h(
            "div",
            { class: "form-row" },
            h(
              "select",
              {
                "data-testid": "scenario-road-action",
                "aria-label": "what happens to the roads",
                onchange: (ev: Event) => {
                  t.action = (ev.target as HTMLSelectElement).value === "capacity" ? "capacity" : "close";
                  this.renderForm();
                },
              },
              h("option", { value: "close", selected: t.action === "close" }, "close them"),
              h("option", { value: "capacity", selected: t.action === "capacity" }, "reduce capacity"),
            ),
            t.action === "capacity" ? this.input("variant.capacity.factor", "capacity ×", () => t.factor, (v) => (t.factor = v), num) : null,
            this.input("variant.window.from_s", "from s", () => t.from_s, (v) => (t.from_s = v), { ...num, placeholder: "0" }),
            this.input("variant.window.to_s", "to s", () => t.to_s, (v) => (t.to_s = v), { ...num, placeholder: "horizon" }),
          ),
        ),
        h(
          "div",
          { class: "form-row" },
          this.input("variant.demand_scale", "demand ×", () => t.demand_scale, (v) => (t.demand_scale = v), { ...num, placeholder: "1.0" }),
          this.input("variant.signal_cycle_s", "signal cycle s", () => t.signal_cycle_s, (v) => (t.signal_cycle_s = v), { ...num, placeholder: "as is" }),
        ),
      );
    } else if (f.engine === "community") {
      const c = f.community;
      engineFields.push(
        h(
          "div",
          { class: "form-row" },
          this.input("variant.surge.type", "surge type", () => c.surge_type, (v) => (c.surge_type = v), { size: 12, placeholder: "* = all" }),
          this.input("variant.surge.factor", "surge ×", () => c.surge_factor, (v) => (c.surge_factor = v), { ...num, placeholder: "1.0" }),
        ),
        h(
          "div",
          { class: "form-row" },
          this.input("variant.surge.from_s", "from s", () => c.from_s, (v) => (c.from_s = v), { ...num, placeholder: "0" }),
          this.input("variant.surge.to_s", "to s", () => c.to_s, (v) => (c.to_s = v), { ...num, placeholder: "horizon" }),
          this.input("variant.staff_delta", "staff ±", () => c.staff_delta, (v) => (c.staff_delta = v), { ...num, placeholder: "0" }),
        ),
      );
    } else {
      const e = f.energy;
      engineFields.push(
        h(
          "div",
          { class: "form-row" },
          this.input("variant.pv_kwp_per_building", "PV kWp/building", () => e.pv_kwp_per_building, (v) => (e.pv_kwp_per_building = v), { ...num, placeholder: "0" }),
          this.input("variant.ev_chargers", "EV chargers", () => e.ev_chargers, (v) => (e.ev_chargers = v), { ...num, placeholder: "0" }),
        ),
        h(
          "div",
          { class: "form-row" },
          this.input("variant.battery_kwh", "battery kWh", () => e.battery_kwh, (v) => (e.battery_kwh = v), { ...num, placeholder: "0" }),
          this.input("variant.demand_growth", "demand growth ×", () => e.demand_growth, (v) => (e.demand_growth = v), { ...num, placeholder: "1.0" }),
        ),
      );
    }
    const p = this.submitProblem;
    setChildren(
      this.formEl,
      h(
        "div",
        { class: "form-row" },
        this.input("name", "name", () => f.name, (v) => (f.name = v), { size: 26, maxlength: 200, placeholder: "e.g. Close Mannerheimintie 8–10" }),
        h(
          "label",
          { class: "field" },
          h("span", { class: "field-label" }, "engine"),
          h(
            "select",
            {
              "data-testid": "scenario-engine",
              onchange: (ev: Event) => {
                f.engine = (ev.target as HTMLSelectElement).value as ScenarioEngine;
                this.errors = {};
                if (this.picking && f.engine !== "traffic") this.setPicking(false);
                this.roadsChanged();
              },
            },
            ENGINES.map((e) => h("option", { value: e, selected: e === f.engine }, e)),
          ),
        ),
      ),
      h(
        "div",
        { class: "form-row" },
        this.input("seed", "seed", () => f.seed, (v) => (f.seed = v), num),
        this.input("horizon_s", "horizon s", () => f.horizon_s, (v) => (f.horizon_s = v), { ...num, placeholder: "default" }),
      ),
      engineFields,
      h(
        "div",
        { class: "form-row" },
        h(
          "button",
          { type: "submit", class: "primary", "data-testid": "scenario-run", disabled: this.submitting || !!this.forbidden, title: this.forbidden ?? "" },
          this.submitting ? "Starting…" : "Run baseline + variant",
        ),
        h(
          "button",
          {
            type: "button",
            class: "link",
            "data-testid": "scenario-reset",
            onclick: () => {
              this.form = emptyForm(f.engine);
              this.errors = {};
              this.submitProblem = null;
              this.roadsChanged();
            },
          },
          "reset",
        ),
      ),
      this.forbidden ? h("p", { class: "muted small", "data-testid": "scenario-forbidden" }, "This token cannot run scenarios: use a planner or admin token.") : null,
      p
        ? h(
            "div",
            { class: `problem status-${p.status}`, "data-testid": "scenario-problem", "data-status": String(p.status) },
            h("strong", {}, p.status ? `${p.status} ${p.title}` : p.title),
            p.detail ? h("div", { class: "problem-detail" }, p.detail) : null,
          )
        : null,
    );
    this.formEl.onsubmit = (ev: Event) => {
      ev.preventDefault();
      void this.submit();
    };
  }

  private renderRun(): void {
    const run = this.run;
    if (!run) {
      setChildren(this.runEl);
      return;
    }
    const rows = run.status === "done" ? kpiRows(run.result?.kpis) : [];
    const frac = progressOf(run);
    setChildren(
      this.runEl,
      h(
        "div",
        { class: "run-head" },
        h("strong", {}, run.name ?? run.id),
        h("span", { class: "muted small" }, ` ${run.id} · ${run.engine}${run.seed !== undefined ? ` · seed ${run.seed}` : ""}${run.twin_version != null ? ` · twin v${run.twin_version}` : ""}`),
      ),
      h(
        "div",
        { class: "scenario-status", "data-testid": "scenario-status", "data-status": run.status },
        h("progress", { "data-testid": "scenario-progress", max: 1, value: frac, "aria-label": "scenario progress" }),
        h("span", { class: "small", "data-testid": "scenario-progress-label" }, progressLabel(run)),
        isActive(run.status) ? h("button", { type: "button", class: "link", "data-testid": "scenario-cancel-current", onclick: () => void this.remove(run) }, "cancel") : null,
      ),
      run.status === "failed" ? h("p", { class: "error", "data-testid": "scenario-error" }, run.error ?? "The run failed.") : null,
      run.status === "cancelled" ? h("p", { class: "muted" }, "The run was cancelled.") : null,
      rows.length
        ? h(
            "table",
            { class: "table kpi-table", "data-testid": "scenario-table" },
            h("thead", {}, h("tr", {}, h("th", {}, "KPI"), h("th", { class: "num" }, "Baseline"), h("th", { class: "num" }, "Variant"), h("th", { class: "num" }, "Δ"), h("th", { class: "num" }, "Δ %"))),
            h(
              "tbody",
              {},
              rows.map((r) =>
                h(
                  "tr",
                  { "data-kpi": r.id, "data-verdict": r.verdict, class: `verdict-${r.verdict}` },
                  h("td", { title: r.id }, r.name, r.unit ? h("span", { class: "muted small" }, ` ${r.unit}`) : null),
                  h("td", { class: "num" }, fmtKpi(r.baseline)),
                  h("td", { class: "num" }, fmtKpi(r.variant)),
                  h("td", { class: "num delta" }, fmtKpi(r.delta, true)),
                  h("td", { class: "num delta", title: r.verdict }, fmtDeltaPct(r.deltaPct)),
                ),
              ),
            ),
          )
        : null,
      rows.length ? h("div", { "data-testid": "scenario-chart" }, svgHost(kpiBarChartSvg(rows))) : null,
      run.status === "done"
        ? h(
            "label",
            { class: "toggle" },
            h("input", {
              type: "checkbox",
              checked: this.showOnMap,
              "data-testid": "scenario-map-toggle",
              onchange: (ev: Event) => {
                this.showOnMap = (ev.target as HTMLInputElement).checked;
                if (this.showOnMap) void this.loadOverlay();
                else {
                  this.clearOverlay();
                  this.renderRun();
                }
              },
            }),
            " show on map",
          )
        : null,
      this.mapLegend && this.overlayRun === run.id ? this.legend(this.mapLegend) : null,
    );
  }

  private legend(scale: ColourScale): HTMLElement {
    return h(
      "div",
      { class: "legend-scale row", "data-testid": "scenario-map-legend" },
      scale.legend().map((e) => h("div", { class: "legend-item" }, h("span", { class: "swatch", style: `background:${e.colour}` }), e.label)),
    );
  }

  private renderList(): void {
    setChildren(
      this.listEl,
      this.listNote ? h("p", { class: "muted small", "data-testid": "scenario-list-note" }, this.listNote) : null,
      !this.listNote && !this.runs.length ? h("p", { class: "muted small" }, "No runs yet.") : null,
      this.runs.length
        ? h(
            "ul",
            { class: "list compact", "data-testid": "scenario-runs" },
            this.runs.map((r) =>
              h(
                "li",
                { "data-testid": "scenario-run-row", "data-run-id": r.id, "data-status": r.status, class: this.run?.id === r.id ? "selected" : "" },
                h(
                  "div",
                  { class: "row-actions" },
                  h("span", { class: `badge run-${r.status}` }, r.status),
                  h("button", { type: "button", class: "link", "data-testid": "scenario-open", onclick: () => void this.open(r.id) }, r.name ?? r.id),
                  h("span", { class: "muted small" }, `${r.engine} · ${fmtTime(r.created_at)}`),
                  isActive(r.status) ? h("span", { class: "small" }, `${Math.floor(progressOf(r) * 100)}%`) : null,
                  h(
                    "button",
                    { type: "button", class: "link right", "data-testid": isActive(r.status) ? "scenario-cancel" : "scenario-delete", onclick: () => void this.remove(r) },
                    isActive(r.status) ? "cancel" : "delete",
                  ),
                ),
              ),
            ),
          )
        : null,
    );
  }
}

