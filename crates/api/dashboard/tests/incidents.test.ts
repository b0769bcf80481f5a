import { describe, expect, it } from "vitest";
import type { Incident, IncidentState } from "../src/api/types";
import { ACTION_TARGET, ALL_ACTIONS, availableActions, compareIncidents, formatDuration, isActionAllowed, slaStatus, upsertIncident } from "../src/panels/incident-logic";

const STATES: IncidentState[] = ["REPORTED", "DISPATCHED", "IN_PROGRESS", "RESOLVED", "CLOSED", "ESCALATED", "REOPENED"];

function inc(over: Partial<Incident> = {}): Incident {
  return {
    id: "INC-1",
    type: "waste",
    priority: "P3",
    state: "REPORTED",
    community: "Kallio",
    location: { lat: 60.18, lon: 24.95 },
    team: null,
    sla_due: "2026-01-01T12:00:00Z",
    created_at: "2026-01-01T10:00:00Z",
    source: "citizen",
    title: "Overflowing bin",
    audit: [],
    ...over,
  };
}

describe("incident actions per state", () => {
  it("offers exactly the lifecycle's next steps", () => {
    expect(availableActions("REPORTED")).toEqual(["dispatch", "escalate"]);
    expect(availableActions("DISPATCHED")).toEqual(["start", "escalate"]);
    expect(availableActions("IN_PROGRESS")).toEqual(["resolve", "escalate"]);
    expect(availableActions("RESOLVED")).toEqual(["close", "reopen"]);
    expect(availableActions("CLOSED")).toEqual(["reopen"]);
    expect(availableActions("ESCALATED")).toEqual(["dispatch", "start"]);
    expect(availableActions("REOPENED")).toEqual(["dispatch", "start", "escalate"]);
  });

  it("never offers close before resolve, nor resolve before work started", () => {
    for (const s of ["REPORTED", "DISPATCHED", "ESCALATED", "REOPENED"]) {
      expect(isActionAllowed(s, "close")).toBe(false);
      expect(isActionAllowed(s, "resolve")).toBe(false);
    }
  });

  it("offers no action for an unknown state", () => {
    expect(availableActions("ARCHIVED")).toEqual([]);
  });

  it("walking the happy path with the offered actions reaches CLOSED", () => {
    let state: IncidentState = "REPORTED";
    const path: IncidentState[] = [state];
    for (const action of ["dispatch", "start", "resolve", "close"] as const) {
      expect(isActionAllowed(state, action)).toBe(true);
      state = ACTION_TARGET[action];
      path.push(state);
    }
    expect(path).toEqual(["REPORTED", "DISPATCHED", "IN_PROGRESS", "RESOLVED", "CLOSED"]);
  });

  it("no offered action leads back to the same state", () => {
    for (const s of STATES) for (const a of availableActions(s)) expect(ACTION_TARGET[a]).not.toBe(s);
    expect(ALL_ACTIONS.length).toBe(6);
  });
});

describe("SLA status", () => {
  const due = Date.parse("2026-01-01T12:00:00Z");
  it("is overdue after the due time, due soon within 30 min, else ok", () => {
    expect(slaStatus(inc(), due + 1)).toBe("overdue");
    expect(slaStatus(inc(), due - 10 * 60e3)).toBe("due-soon");
    expect(slaStatus(inc(), due - 3 * 3600e3)).toBe("ok");
  });
  it("is met once resolved or closed and none without a due time", () => {
    expect(slaStatus(inc({ state: "RESOLVED" }), due + 1e9)).toBe("met");
    expect(slaStatus(inc({ state: "CLOSED" }), due + 1e9)).toBe("met");
    expect(slaStatus(inc({ sla_due: null }), due)).toBe("none");
  });
});

describe("board ordering and live merging", () => {
  it("orders open before done, then priority, then SLA", () => {
    const list = [
      inc({ id: "a", state: "CLOSED", priority: "P1" }),
      inc({ id: "b", priority: "P3", sla_due: "2026-01-01T09:00:00Z" }),
      inc({ id: "c", priority: "P1", sla_due: "2026-01-02T00:00:00Z" }),
      inc({ id: "d", priority: "P3", sla_due: "2026-01-01T08:00:00Z" }),
    ];
    expect(list.sort(compareIncidents).map((i) => i.id)).toEqual(["c", "d", "b", "a"]);
  });

  it("replaces by id, keeping the known category when the update has none", () => {
    const list = [inc({ id: "x", type: "noise" }), inc({ id: "y" })];
    const next = upsertIncident(list, inc({ id: "x", type: "", state: "DISPATCHED", team: "t1" }));
    expect(next).toHaveLength(2);
    expect(next[0]).toMatchObject({ id: "x", type: "noise", state: "DISPATCHED", team: "t1" });
    expect(list[0]?.state).toBe("REPORTED"); // not mutated
    expect(upsertIncident(list, inc({ id: "z" }))).toHaveLength(3);
  });
});

it("formats durations for SLA countdowns", () => {
  expect(formatDuration(12 * 60e3)).toBe("12 min");
  expect(formatDuration(-40 * 60e3)).toBe("-40 min");
  expect(formatDuration((3 * 60 + 5) * 60e3)).toBe("3 h 5 min");
  expect(formatDuration(50 * 3600e3)).toBe("2 d 2 h");
});
