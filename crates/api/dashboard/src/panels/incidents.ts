// Alarm and incident board: open alarms, incidents with lifecycle actions, and the
// operations KPIs (response/resolution time, on-time closure).

import type { Alarm, Incident, IncidentAction, IncidentMetrics } from "../api/types";
import { fmtNum, fmtPct, fmtTime, h, setChildren } from "../dom";
import type { PanelContext } from "./context";
import { actionsFor, compareIncidents, formatDuration, isOpen, slaStatus, upsertIncident } from "./incident-logic";

const ACTION_LABEL: Record<IncidentAction, string> = {
  dispatch: "Dispatch",
  start: "Start",
  resolve: "Resolve",
  close: "Close",
  escalate: "Escalate",
  reopen: "Reopen",
};

export class AlarmsPanel {
  readonly el = h("section", { class: "panel", "data-testid": "alarms-panel" });
  private alarms: Alarm[] = [];
  /** Called when the user wants to see an alarm's place on the map. */
  onLocate: ((a: Alarm) => void) | null = null;

  constructor(private readonly ctx: PanelContext) {
    this.render();
  }

  async refresh(): Promise<void> {
    try {
      this.alarms = await this.ctx.api.get<Alarm[]>("/api/v1/alarms", { state: "open" });
      this.render();
    } catch (e) {
      this.ctx.problem(e, "Loading alarms");
    }
  }

  /** A live alarm update: keep open/acknowledged ones, drop cleared ones. */
  upsert(a: Alarm): void {
    const rest = this.alarms.filter((x) => x.id !== a.id);
    this.alarms = a.state === "cleared" ? rest : [a, ...rest];
    this.render();
  }

  private async acknowledge(a: Alarm): Promise<void> {
    try {
      const updated = await this.ctx.api.post<Alarm | undefined>(`/api/v1/alarms/${encodeURIComponent(a.id)}/ack`, {});
      this.upsert(updated && typeof updated === "object" ? updated : { ...a, state: "acknowledged" });
      this.ctx.notice(`Alarm ${a.id} acknowledged`);
    } catch (e) {
      this.ctx.problem(e, `Acknowledging alarm ${a.id}`);
    }
  }

  render(): void {
    const sev = (s: string): number => ({ critical: 0, major: 1, high: 1, warning: 2, minor: 3, info: 4 })[s.toLowerCase()] ?? 5;
    const rows = this.alarms
      .slice()
      .sort((a, b) => sev(a.severity) - sev(b.severity) || (a.opened_at < b.opened_at ? 1 : -1))
      .slice(0, 100)
      .map((a) =>
        h(
          "li",
          { class: `alarm sev-${a.severity.toLowerCase()} state-${a.state}`, "data-testid": "alarm-row", "data-alarm-id": a.id },
          h("div", { class: "row-main" }, h("span", { class: "badge" }, a.severity), " ", h("strong", {}, a.rule_name || a.rule_id)),
          h(
            "div",
            { class: "row-sub" },
            `${a.metric} ${fmtNum(a.value, 2)} (threshold ${fmtNum(a.threshold, 2)}) · ${a.sensor ?? a.entity ?? a.cell ?? "–"} · ${fmtTime(a.opened_at)}`,
            a.incident_id ? ` · incident ${a.incident_id}` : "",
          ),
          h(
            "div",
            { class: "row-actions" },
            a.state === "open" ? h("button", { "data-testid": "alarm-ack", onclick: () => void this.acknowledge(a) }, "Acknowledge") : h("span", { class: "muted" }, a.state),
            this.onLocate && (a.cell || a.sensor) ? h("button", { class: "link", onclick: () => this.onLocate?.(a) }, "show") : null,
          ),
        ),
      );
    setChildren(
      this.el,
      h("h2", {}, "Alarms ", h("span", { class: "count", "data-testid": "alarm-count" }, String(this.alarms.filter((a) => a.state === "open").length))),
      rows.length ? h("ul", { class: "list" }, rows) : h("p", { class: "muted" }, "No open alarms."),
    );
  }
}

export class IncidentsPanel {
  readonly el = h("section", { class: "panel", "data-testid": "incidents-panel" });
  private incidents: Incident[] = [];
  private metrics: IncidentMetrics | null = null;
  private filter: "open" | "all" = "open";
  private expanded = new Set<string>();
  private busy = new Set<string>();
  private teamDraft = new Map<string, string>();
  onLocate: ((i: Incident) => void) | null = null;
  /** Called after this board changed an incident (the indicators depend on incident times). */
  onChanged: (() => void) | null = null;

  constructor(private readonly ctx: PanelContext) {
    this.render();
  }

  async refresh(): Promise<void> {
    try {
      const [list, metrics] = await Promise.all([
        this.ctx.api.get<Incident[]>("/api/v1/incidents"),
        this.ctx.api.get<IncidentMetrics>("/api/v1/incidents/metrics").catch(() => null),
      ]);
      this.incidents = list;
      this.metrics = metrics;
      this.render();
    } catch (e) {
      this.ctx.problem(e, "Loading incidents");
    }
  }

  upsert(i: Incident): void {
    this.incidents = upsertIncident(this.incidents, i);
    this.render();
  }

  async act(inc: Incident, action: IncidentAction): Promise<void> {
    const team = action === "dispatch" ? (this.teamDraft.get(inc.id) ?? inc.team ?? "").trim() : "";
    this.busy.add(inc.id);
    this.render();
    try {
      const body: { action: IncidentAction; team?: string } = { action };
      if (team) body.team = team;
      const updated = await this.ctx.api.post<Incident>(`/api/v1/incidents/${encodeURIComponent(inc.id)}/transition`, body);
      this.incidents = upsertIncident(this.incidents, updated);
      this.ctx.notice(`Incident ${inc.id}: ${action} → ${updated.state}`);
      this.onChanged?.();
      void this.ctx.api
        .get<IncidentMetrics>("/api/v1/incidents/metrics")
        .then((m) => {
          this.metrics = m;
          this.render();
        })
        .catch(() => undefined);
    } catch (e) {
      this.ctx.problem(e, `${ACTION_LABEL[action]} incident ${inc.id}`);
    } finally {
      this.busy.delete(inc.id);
      this.render();
    }
  }

  private renderMetrics(): HTMLElement {
    const m = this.metrics;
    const d = (s: number | null | undefined): string => (s === null || s === undefined ? "–" : formatDuration(s * 1000));
    return h(
      "div",
      { class: "kpi-grid small", "data-testid": "incident-metrics" },
      kpi("Response p50 / p90", m ? `${d(m.response_time_s.p50)} / ${d(m.response_time_s.p90)}` : "–"),
      kpi("Resolution p50 / p90", m ? `${d(m.resolution_time_s.p50)} / ${d(m.resolution_time_s.p90)}` : "–"),
      kpi("On-time closure 按期办结率", m ? fmtPct(m.on_time_closure_rate) : "–"),
      kpi("Closure rate 办结率", m ? fmtPct(m.closure_rate) : "–"),
      kpi("Backlog", m ? String(m.backlog) : "–"),
      kpi("Overdue", m ? String(m.overdue) : "–"),
    );
  }

  render(): void {
    // Live updates must not steal focus from a team name being typed: re-render on blur instead.
    const active = typeof document !== "undefined" ? document.activeElement : null;
    if (active instanceof HTMLInputElement && this.el.contains(active)) {
      active.addEventListener("blur", () => this.render(), { once: true });
      return;
    }
    const now = Date.now();
    const shown = this.incidents.filter((i) => this.filter === "all" || isOpen(i.state)).sort(compareIncidents);
    const rows = shown.slice(0, 200).map((inc) => {
      const sla = slaStatus(inc, now);
      const due = inc.sla_due ? Date.parse(inc.sla_due) : NaN;
      const busy = this.busy.has(inc.id);
      const actions = actionsFor(inc);
      const open = this.expanded.has(inc.id);
      return h(
        "li",
        { class: `incident prio-${inc.priority} sla-${sla}`, "data-testid": "incident-row", "data-incident-id": inc.id, "data-state": inc.state },
        h(
          "div",
          { class: "row-main" },
          h("span", { class: `badge prio` }, inc.priority),
          " ",
          h("span", { class: "state", "data-testid": "incident-state" }, inc.state),
          " ",
          h("button", { class: "link title", onclick: () => (open ? this.expanded.delete(inc.id) : this.expanded.add(inc.id), this.render()) }, inc.title || inc.type || inc.id),
        ),
        h(
          "div",
          { class: "row-sub" },
          `${inc.type || "–"} · ${inc.community || "–"} · ${inc.source} · team ${inc.team ?? "–"} · `,
          h("span", { class: `sla sla-${sla}`, title: inc.sla_due ?? "" }, Number.isFinite(due) && isOpen(inc.state) ? `SLA ${formatDuration(due - now)}` : sla === "met" ? "done" : "no SLA"),
        ),
        h(
          "div",
          { class: "row-actions" },
          actions.includes("dispatch")
            ? h("input", {
                class: "team",
                placeholder: "team",
                "data-testid": "incident-team",
                value: this.teamDraft.get(inc.id) ?? inc.team ?? "",
                oninput: (ev: Event) => this.teamDraft.set(inc.id, (ev.target as HTMLInputElement).value),
              })
            : null,
          actions.map((a) =>
            h("button", { "data-testid": `incident-action-${a}`, "data-action": a, disabled: busy, onclick: () => void this.act(inc, a) }, ACTION_LABEL[a]),
          ),
          this.onLocate ? h("button", { class: "link", onclick: () => this.onLocate?.(inc) }, "show") : null,
        ),
        open
          ? h(
              "ol",
              { class: "audit", "data-testid": "incident-audit" },
              (inc.audit ?? []).map((a) => h("li", {}, `${fmtTime(a.at)} ${a.actor}: ${a.action}${a.from ? ` ${a.from} → ${a.to}` : ""}${a.note ? ` (${a.note})` : ""}`)),
            )
          : null,
      );
    });
    const openCount = this.incidents.filter((i) => isOpen(i.state)).length;
    setChildren(
      this.el,
      h(
        "h2",
        {},
        "Incidents ",
        h("span", { class: "count", "data-testid": "incident-count" }, String(openCount)),
        h(
          "select",
          {
            class: "right",
            "data-testid": "incident-filter",
            onchange: (ev: Event) => {
              this.filter = (ev.target as HTMLSelectElement).value as "open" | "all";
              this.render();
            },
          },
          h("option", { value: "open", selected: this.filter === "open" }, "open"),
          h("option", { value: "all", selected: this.filter === "all" }, "all"),
        ),
      ),
      this.renderMetrics(),
      rows.length ? h("ul", { class: "list" }, rows) : h("p", { class: "muted" }, "No incidents."),
    );
  }
}

export function kpi(label: string, value: string, testid?: string): HTMLElement {
  return h("div", { class: "kpi" }, h("div", { class: "kpi-value", "data-testid": testid }, value), h("div", { class: "kpi-label" }, label));
}
