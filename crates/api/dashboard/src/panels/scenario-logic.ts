// Scenario results as the runner shows them: baseline vs variant rows, progress and presets.

import type { ScenarioDelta, ScenarioEngine, ScenarioRun } from "../api/types";

export interface ScenarioPreset {
  engine: ScenarioEngine;
  id: string;
  name: string;
  description?: string;
}

/**
 * Presets offered when the API has no `/api/v1/scenarios/presets`: the what-ifs named by the
 * engine issues (closure, incident lane block, signal retiming, demand growth; demand surge and
 * staffing; PV, EV chargers, batteries).
 */
export const FALLBACK_PRESETS: readonly ScenarioPreset[] = [
  { engine: "traffic", id: "demand_x1.2", name: "Traffic demand +20%" },
  { engine: "traffic", id: "road_closure", name: "Close a main road for works" },
  { engine: "traffic", id: "incident_lane_block", name: "Accident blocks one lane for 30 min" },
  { engine: "traffic", id: "signal_retime", name: "Lengthen through phases 30 s → 45 s" },
  { engine: "community", id: "typhoon_surge_x2", name: "Typhoon doubles citizen reports" },
  { engine: "community", id: "staff_plus_1", name: "One more grid worker per community" },
  { engine: "energy", id: "pv_rooftops", name: "Rooftop PV on every building" },
  { engine: "energy", id: "ev_chargers", name: "Home EV chargers in every household" },
  { engine: "energy", id: "community_battery", name: "Community battery, peak shaving" },
];

/** Rows of the baseline-vs-variant table: the server's deltas, or computed from the two KPI maps. */
export function scenarioRows(run: Pick<ScenarioRun, "deltas" | "baseline" | "variant">): ScenarioDelta[] {
  if (run.deltas && run.deltas.length) return run.deltas;
  const b = run.baseline ?? {};
  const v = run.variant ?? {};
  const keys = [...new Set([...Object.keys(b), ...Object.keys(v)])].sort();
  return keys
    .filter((k) => Number.isFinite(b[k]) && Number.isFinite(v[k]))
    .map((kpi) => {
      const baseline = b[kpi] as number;
      const variant = v[kpi] as number;
      const delta = variant - baseline;
      return { kpi, baseline, variant, delta, relative: baseline !== 0 ? delta / Math.abs(baseline) : null };
    });
}

export function isFinished(status: string): boolean {
  return status === "done" || status === "failed";
}

/** Progress clamped to [0, 1]; a finished run shows 1. */
export function progressOf(run: Pick<ScenarioRun, "status" | "progress">): number {
  if (run.status === "done") return 1;
  const p = Number(run.progress);
  return Number.isFinite(p) ? Math.max(0, Math.min(1, p)) : 0;
}
