// Incident lifecycle rules as the board applies them: which actions a state allows, the state
// an action leads to, SLA status, ordering, and merging of live updates.
// Lifecycle: REPORTED → DISPATCHED → IN_PROGRESS → RESOLVED → CLOSED, plus ESCALATED and REOPENED.

import type { Incident, IncidentAction, IncidentState } from "../api/types";

// The server's table (ops `Action::target`); the board prefers each incident's own
// `allowed_actions` when the server sends it.
const ACTIONS: Record<IncidentState, readonly IncidentAction[]> = {
  REPORTED: ["dispatch", "escalate"],
  DISPATCHED: ["start", "escalate"],
  IN_PROGRESS: ["resolve", "escalate"],
  RESOLVED: ["close", "reopen"],
  CLOSED: ["reopen"],
  ESCALATED: ["dispatch", "start"],
  REOPENED: ["dispatch", "start", "escalate"],
};

export const ACTION_TARGET: Record<IncidentAction, IncidentState> = {
  dispatch: "DISPATCHED",
  start: "IN_PROGRESS",
  resolve: "RESOLVED",
  close: "CLOSED",
  escalate: "ESCALATED",
  reopen: "REOPENED",
};

export const ALL_ACTIONS: readonly IncidentAction[] = ["dispatch", "start", "resolve", "close", "escalate", "reopen"];

/** Actions the lifecycle allows from `state` (unknown states allow none). */
export function availableActions(state: string): readonly IncidentAction[] {
  return ACTIONS[state as IncidentState] ?? [];
}

/**
 * Actions to offer for an incident: the server's `allowed_actions` (known action names only, in
 * lifecycle order) when present, else the lifecycle table for its state.
 */
export function actionsFor(inc: Pick<Incident, "state" | "allowed_actions">): readonly IncidentAction[] {
  if (Array.isArray(inc.allowed_actions)) return ALL_ACTIONS.filter((a) => (inc.allowed_actions as readonly string[]).includes(a));
  return availableActions(inc.state);
}

export function isActionAllowed(state: string, action: IncidentAction): boolean {
  return availableActions(state).includes(action);
}

/** Open = still needs work (not RESOLVED or CLOSED). */
export function isOpen(state: string): boolean {
  return state !== "RESOLVED" && state !== "CLOSED";
}

export type SlaStatus = "ok" | "due-soon" | "overdue" | "met" | "none";

/**
 * SLA status at `nowMs`: open incidents are overdue past `sla_due` and due soon within
 * `soonMs`; RESOLVED/CLOSED ones are "met" (the board does not know the resolution time).
 */
export function slaStatus(inc: Pick<Incident, "state" | "sla_due">, nowMs: number, soonMs = 30 * 60 * 1000): SlaStatus {
  if (!isOpen(inc.state)) return "met";
  if (!inc.sla_due) return "none";
  const due = Date.parse(inc.sla_due);
  if (!Number.isFinite(due)) return "none";
  if (nowMs > due) return "overdue";
  if (due - nowMs <= soonMs) return "due-soon";
  return "ok";
}

const PRIORITY_RANK: Record<string, number> = { P1: 1, P2: 2, P3: 3, P4: 4 };

/** Board order: open before done, then priority (P1 first), then earliest SLA, then id. */
export function compareIncidents(a: Incident, b: Incident): number {
  const ao = isOpen(a.state) ? 0 : 1;
  const bo = isOpen(b.state) ? 0 : 1;
  if (ao !== bo) return ao - bo;
  const ap = PRIORITY_RANK[a.priority] ?? 9;
  const bp = PRIORITY_RANK[b.priority] ?? 9;
  if (ap !== bp) return ap - bp;
  const ad = a.sla_due ? Date.parse(a.sla_due) : Infinity;
  const bd = b.sla_due ? Date.parse(b.sla_due) : Infinity;
  if (ad !== bd) return ad < bd ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Inserts or replaces an incident by id. An update with an empty `type` (the live stream's
 * flat form cannot carry it) keeps the known category; a missing audit keeps the known one.
 */
export function upsertIncident(list: readonly Incident[], next: Incident): Incident[] {
  const i = list.findIndex((x) => x.id === next.id);
  if (i < 0) return [...list, next];
  const prev = list[i] as Incident;
  const merged: Incident = {
    ...prev,
    ...next,
    type: next.type || prev.type,
    audit: Array.isArray(next.audit) ? next.audit : prev.audit,
  };
  const out = list.slice();
  out[i] = merged;
  return out;
}

/** "12 min", "3 h 5 min", "-40 min" (negative: past due). */
export function formatDuration(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  const m = Math.round(Math.abs(ms) / 60000);
  if (m < 60) return `${sign}${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${sign}${h} h ${m % 60} min`;
  return `${sign}${Math.floor(h / 24)} d ${h % 24} h`;
}
