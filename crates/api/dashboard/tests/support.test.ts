import { describe, expect, it } from "vitest";
import { ApiClient, ApiError, explainStatus, toProblem } from "../src/api/client";
import { loadToken, saveToken, tokenLabel, type TokenStorage } from "../src/api/token";
import { counterRate, parsePrometheus, pickMetric } from "../src/live/metrics";
import { lineChartSvg, niceTicks, toSeries } from "../src/panels/chart";
import { cellHistoryPoints } from "../src/panels/details";

describe("problem details", () => {
  it("keeps an RFC 7807 body as is", () => {
    const p = toProblem(403, "Forbidden", JSON.stringify({ type: "/problems/forbidden", title: "Forbidden", status: 403, detail: "operator of Kallio" }));
    expect(p).toEqual({ type: "/problems/forbidden", title: "Forbidden", status: 403, detail: "operator of Kallio" });
  });
  it("synthesises a problem from a plain-text body", () => {
    expect(toProblem(502, "Bad Gateway", "upstream down")).toEqual({ type: "about:blank", title: "Bad Gateway", status: 502, detail: "upstream down" });
  });
  it("explains 401 and 403 differently", () => {
    expect(explainStatus(401)).toMatch(/token/);
    expect(explainStatus(403)).toMatch(/role or district/);
  });
});

describe("api client", () => {
  function fakeFetch(status: number, body: string, seen: { url?: string; init?: RequestInit }) {
    return async (url: string, init?: RequestInit): Promise<Response> => {
      seen.url = url;
      seen.init = init;
      return new Response(body, { status, statusText: status === 403 ? "Forbidden" : "OK" });
    };
  }

  it("sends the bearer token and JSON body, and builds the query", async () => {
    const seen: { url?: string; init?: RequestInit } = {};
    const api = new ApiClient({ fetch: fakeFetch(200, '{"id":"INC-1","state":"DISPATCHED"}', seen), token: () => "tok123" });
    const r = await api.post<{ state: string }>("/api/v1/incidents/INC-1/transition", { action: "dispatch" });
    expect(r.state).toBe("DISPATCHED");
    const headers = seen.init?.headers as Record<string, string>;
    expect(headers.Authorization).toBe("Bearer tok123");
    expect(headers["Content-Type"]).toBe("application/json");
    expect(seen.init?.body).toBe('{"action":"dispatch"}');
    expect(api.url("/api/v1/cells", { res: 9, metric: "pm 2.5", skip: undefined, empty: "" })).toBe("/api/v1/cells?res=9&metric=pm%202.5");
  });

  it("omits Authorization without a token", async () => {
    const seen: { url?: string; init?: RequestInit } = {};
    await new ApiClient({ fetch: fakeFetch(200, "[]", seen), token: () => null }).get("/api/v1/alarms");
    expect((seen.init?.headers as Record<string, string>).Authorization).toBeUndefined();
  });

  it("throws ApiError carrying the server's problem", async () => {
    const seen = {};
    const api = new ApiClient({ fetch: fakeFetch(403, '{"type":"/problems/forbidden","title":"Forbidden","status":403,"detail":"viewer"}', seen), token: () => "v" });
    const err = await api.post("/x", {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(403);
    expect((err as ApiError).problem.detail).toBe("viewer");
  });

  it("turns a network failure into status 0", async () => {
    const api = new ApiClient({ fetch: async () => Promise.reject(new TypeError("connection refused")), token: () => null });
    const err = await api.get("/x").catch((e: unknown) => e);
    expect((err as ApiError).status).toBe(0);
  });
});

describe("token storage", () => {
  const mem = (): TokenStorage & { m: Map<string, string> } => {
    const m = new Map<string, string>();
    return { m, getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k) };
  };
  it("saves trimmed, clears on empty, and labels without revealing the token", () => {
    const s = mem();
    expect(saveToken("  secret-abcd  ", s)).toBe("secret-abcd");
    expect(loadToken(s)).toBe("secret-abcd");
    expect(tokenLabel(loadToken(s))).toBe("token …abcd");
    saveToken("", s);
    expect(loadToken(s)).toBeNull();
    expect(s.m.size).toBe(0);
  });
});

describe("prometheus parsing", () => {
  const text = [
    "# HELP ingest_observations_total Observations accepted.",
    "# TYPE ingest_observations_total counter",
    'ingest_observations_total{source="mqtt"} 1200',
    'ingest_observations_total{source="http"} 34',
    "ingest_dead_letters_total 7 1700000000000",
    "process_start_time_seconds 1.7e9",
    "garbage line",
  ].join("\n");
  it("sums samples per metric name across labels", () => {
    const m = parsePrometheus(text);
    expect(m.get("ingest_observations_total")).toBe(1234);
    expect(m.get("ingest_dead_letters_total")).toBe(7);
    expect(m.get("process_start_time_seconds")).toBe(1.7e9);
    expect(m.has("garbage")).toBe(false);
  });
  it("picks by exact name first, then by pattern", () => {
    const m = parsePrometheus("store_observations_written_total 5\nzz_dead_letter_total 2\n");
    expect(pickMetric(m, ["nope", "store_observations_written_total"])).toEqual({ name: "store_observations_written_total", value: 5 });
    expect(pickMetric(m, ["nope"], /dead_letters?.*_total$/)).toEqual({ name: "zz_dead_letter_total", value: 2 });
    expect(pickMetric(m, ["nope"])).toBeNull();
  });
  it("computes counter rates and refuses resets", () => {
    expect(counterRate(100, 0, 600, 5000)).toBe(100);
    expect(counterRate(600, 0, 100, 5000)).toBeNull();
    expect(counterRate(1, 5, 2, 5)).toBeNull();
  });
});

describe("charts", () => {
  it("reads raw and roll-up observation rows", () => {
    expect(toSeries([[2000, 5], [1000, 4], [3000, NaN]])).toEqual([{ t: 1000, v: 4 }, { t: 2000, v: 5 }]);
    expect(toSeries([[1000, 60, 10, 2, 30]])).toEqual([{ t: 1000, v: 10, lo: 2, hi: 30 }]);
  });
  it("draws a path with one segment per point, and a band for roll-ups", () => {
    const svg = lineChartSvg(toSeries([[0, 1, 5, 1, 9], [60000, 1, 6, 2, 8], [120000, 1, 7, 3, 9]]), { unit: "µg/m³", threshold: 75 });
    const d = /<path d="([^"]+)"/.exec(svg)?.[1] ?? "";
    expect(d.match(/[ML]/g)).toHaveLength(3);
    expect(svg).toContain("<polygon");
    expect(svg).toContain("stroke-dasharray"); // threshold line
  });
  it("says so when there is no data", () => {
    expect(lineChartSvg([])).toContain("no data");
  });
  it("makes nice ticks", () => {
    expect(niceTicks(0, 100, 4)).toEqual([0, 50, 100]);
    expect(niceTicks(0.3, 1.7, 4)).toEqual([0.5, 1, 1.5]);
  });
});

describe("cell history", () => {
  it("charts the mean of each minute roll-up, oldest first, skipping rows without a mean", () => {
    const pts = cellHistoryPoints({
      cell: "891126d1497ffff",
      metric: "pm25",
      unit: "ug/m3",
      points: [
        [120000, 3, 11.5, 10, 13],
        [60000, 2, 9, 8, 10],
        [180000, 0, Number.NaN, 0, 0],
        [240000],
      ],
    });
    expect(pts).toEqual([
      { t: 60000, v: 9 },
      { t: 120000, v: 11.5 },
    ]);
    expect(cellHistoryPoints(null)).toEqual([]);
  });
});
