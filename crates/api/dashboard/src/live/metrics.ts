// Prometheus text exposition parsing for the live KPI panel (observations/s, dead letters).

/** Sum of every sample of each metric name (labels collapsed). Comments and bad lines are skipped. */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const l = line.trim();
    if (!l || l.startsWith("#")) continue;
    // name{labels} value [timestamp]   |   name value [timestamp]
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(l);
    if (!m) continue;
    const name = m[1] as string;
    const raw = m[3] as string;
    const v = raw === "+Inf" ? Infinity : raw === "-Inf" ? -Infinity : Number(raw);
    if (Number.isNaN(v)) continue;
    out.set(name, (out.get(name) ?? 0) + v);
  }
  return out;
}

/**
 * Picks the first metric whose name matches, trying exact `names` first and then `pattern`
 * (alphabetical among pattern matches, so the choice is stable).
 */
export function pickMetric(metrics: Map<string, number>, names: readonly string[], pattern?: RegExp): { name: string; value: number } | null {
  for (const n of names) {
    const v = metrics.get(n);
    if (v !== undefined) return { name: n, value: v };
  }
  if (!pattern) return null;
  const hits = [...metrics.keys()].filter((k) => pattern.test(k)).sort();
  const first = hits[0];
  return first === undefined ? null : { name: first, value: metrics.get(first) as number };
}

/** Counter rate per second between two samples; null across a counter reset or a zero interval. */
export function counterRate(prev: number, prevMs: number, cur: number, curMs: number): number | null {
  const dt = (curMs - prevMs) / 1000;
  if (!(dt > 0) || cur < prev) return null;
  return (cur - prev) / dt;
}

/** Metric names the KPI panel looks for (see API-NEEDS.md). */
export const OBSERVATIONS_COUNTER = {
  names: ["ingest_observations_total", "ingest_observations_accepted_total", "store_observations_written_total"],
  pattern: /^(ingest|store)_.*observations.*_total$/,
};
export const DEAD_LETTERS_COUNTER = {
  names: ["ingest_dead_letters_total"],
  pattern: /dead_letters?.*_total$/,
};
