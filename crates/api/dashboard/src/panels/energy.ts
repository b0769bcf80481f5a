// The Energy panel: the distribution feeders' loading, voltages and losses
// (`GET /api/v1/energy/feeders`), worst first; the same feeders are drawn on the map.

import { ApiError } from "../api/client";
import type { Feeder } from "../api/types";
import { fmtNum, fmtTime, h, setChildren } from "../dom";
import type { PanelContext } from "./context";
import { LOADING_COLOURS, loadingClass, readFeeders } from "./scenario-logic";

export class EnergyPanel {
  readonly el = h("section", { class: "panel", "data-testid": "energy-panel" });
  feeders: Feeder[] = [];
  private note: string | null = null;
  private selected: string | null = null;
  /** Called with the feeders after each read (empty when the endpoint is missing). */
  onFeeders: ((f: readonly Feeder[]) => void) | null = null;

  constructor(private readonly ctx: PanelContext) {
    this.render();
  }

  async refresh(): Promise<void> {
    try {
      this.feeders = readFeeders(await this.ctx.api.get<unknown>("/api/v1/energy/feeders"));
      this.note = this.feeders.length ? null : "No feeders reported.";
    } catch (e) {
      this.feeders = [];
      const st = e instanceof ApiError ? e.status : 0;
      // Degrade quietly: the endpoint is optional (older servers, cities without a grid model).
      this.note =
        st === 404 || st === 405 || st === 501
          ? "This server has no energy model (no /api/v1/energy/feeders)."
          : st === 401 || st === 403
            ? "Set an API token to read the feeders."
            : `Could not read the feeders: ${e instanceof ApiError ? e.problem.title : String(e)}`;
    }
    this.onFeeders?.(this.feeders);
    this.render();
  }

  /** Highlights a feeder's row (clicked on the map). */
  select(id: string): void {
    this.selected = id;
    this.render();
    this.el.querySelector(`[data-feeder-id="${CSS.escape(id)}"]`)?.scrollIntoView({ block: "nearest" });
  }

  render(): void {
    const f = this.feeders;
    const over = f.filter((x) => loadingClass(x.loading_pct) === "over").length;
    const asOf = f.map((x) => x.as_of).filter((x): x is string => !!x).sort().pop();
    setChildren(
      this.el,
      h("h2", {}, "Energy 能源", f.length ? h("span", { class: `count${over ? " bad" : ""}`, "data-testid": "feeder-overloaded" }, `${over} overloaded`) : null),
      this.note ? h("p", { class: "muted small", "data-testid": "energy-note" }, this.note) : null,
      f.length
        ? h(
            "table",
            { class: "table", "data-testid": "energy-table" },
            h(
              "thead",
              {},
              h("tr", {}, h("th", {}, "Feeder"), h("th", { class: "num" }, "Loading"), h("th", { class: "num" }, "V min–max pu"), h("th", { class: "num" }, "Losses kW"), h("th", { class: "num" }, "Viol.")),
            ),
            h(
              "tbody",
              {},
              f.map((x) => {
                const cls = loadingClass(x.loading_pct);
                return h(
                  "tr",
                  { "data-testid": "feeder-row", "data-feeder-id": x.id, "data-loading": cls, class: this.selected === x.id ? "selected" : "" },
                  h("td", { title: x.id }, h("span", { class: "swatch", style: `background:${LOADING_COLOURS[cls]}` }), ` ${x.name ?? x.id}`),
                  h("td", { class: `num loading-${cls}` }, x.loading_pct == null ? "–" : `${fmtNum(x.loading_pct, 0)}%`),
                  h("td", { class: "num" }, x.v_min_pu == null && x.v_max_pu == null ? "–" : `${fmtNum(x.v_min_pu, 3)}–${fmtNum(x.v_max_pu, 3)}`),
                  h("td", { class: "num" }, fmtNum(x.losses_kw, 1), x.losses_pct != null ? h("span", { class: "muted small" }, ` (${fmtNum(x.losses_pct, 1)}%)`) : null),
                  h("td", { class: `num${(x.violations ?? 0) > 0 ? " error" : ""}` }, x.violations == null ? "–" : String(x.violations)),
                );
              }),
            ),
          )
        : null,
      asOf ? h("p", { class: "muted small" }, `as of ${fmtTime(asOf)} · loading: green < 80%, amber 80–100%, red > 100%`) : null,
    );
  }
}
