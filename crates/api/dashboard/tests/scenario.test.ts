import { describe, expect, it } from "vitest";
import {
  buildScenarioRequest,
  deltaScale,
  DIVERGING_COLOURS,
  emptyForm,
  fmtDeltaPct,
  fmtDuration,
  kpiBarChartSvg,
  kpiRows,
  loadingClass,
  LOADING_COLOURS,
  niceCeil,
  parseNum,
  problemField,
  progressLabel,
  progressOf,
  readFeeders,
  type ScenarioForm,
} from "../src/panels/scenario-logic";
import { RoadLayer, segDist2 } from "../src/map/features";
import { DeltaLayer, FeederLayer } from "../src/map/overlays";
import { Viewport } from "../src/map/projection";

function form(patch: (f: ScenarioForm) => void, engine: ScenarioForm["engine"] = "traffic"): ScenarioForm {
  const f = emptyForm(engine);
  f.name = "Close r3";
  patch(f);
  return f;
}

describe("scenario form → request body", () => {
  it("builds a traffic closure with the default window and omits empty fields", () => {
    const r = buildScenarioRequest(form((f) => (f.traffic.roads = ["r3", "r7", "r3"])));
    expect(r).toEqual({
      ok: true,
      body: {
        name: "Close r3",
        engine: "traffic",
        seed: 1,
        variant: {
          closures: [
            { road: "r3", from_s: 0, to_s: 3600 },
            { road: "r7", from_s: 0, to_s: 3600 },
          ],
        },
      },
    });
  });

  it("builds capacity reductions, demand scale and signal cycle within an explicit horizon and window", () => {
    const r = buildScenarioRequest(
      form((f) => {
        f.horizon_s = "7200";
        f.seed = "42";
        f.traffic = { roads: ["r1"], action: "capacity", factor: "0.5", from_s: "600", to_s: "1800", demand_scale: "1.2", signal_cycle_s: "120" };
      }),
    );
    expect(r.ok && r.body).toEqual({
      name: "Close r3",
      engine: "traffic",
      seed: 42,
      horizon_s: 7200,
      variant: { capacity: [{ road: "r1", factor: 0.5, from_s: 600, to_s: 1800 }], demand_scale: 1.2, signal_cycle_s: 120 },
    });
  });

  it("sends an empty variant (baseline only) when no what-if is set", () => {
    const r = buildScenarioRequest(form((f) => (f.seed = "")));
    expect(r).toEqual({ ok: true, body: { name: "Close r3", engine: "traffic", variant: {} } });
  });

  it("sends only the chosen engine's fields", () => {
    const r = buildScenarioRequest(
      form((f) => {
        f.traffic.demand_scale = "2";
        f.energy = { pv_kwp_per_building: "5", ev_chargers: "40", battery_kwh: "200", demand_growth: "1.1" };
      }, "energy"),
    );
    expect(r.ok && r.body.variant).toEqual({ pv_kwp_per_building: 5, ev_chargers: 40, battery_kwh: 200, demand_growth: 1.1 });
  });

  it("builds a community surge over a window of the 7-day default horizon, and a staff delta", () => {
    const r = buildScenarioRequest(
      form((f) => {
        f.community = { surge_type: "", surge_factor: "2", from_s: "0", to_s: "86400", staff_delta: "-1" };
      }, "community"),
    );
    expect(r.ok && r.body.variant).toEqual({ surge: [{ type: "*", factor: 2, from_s: 0, to_s: 86400 }], staff_delta: -1 });
  });

  it("names every invalid field", () => {
    const r = buildScenarioRequest(
      form((f) => {
        f.name = "  ";
        f.seed = "-3";
        f.horizon_s = "1.5";
        f.traffic = { roads: ["r1"], action: "capacity", factor: "1.5", from_s: "", to_s: "", demand_scale: "0", signal_cycle_s: "abc" };
      }),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(Object.keys(r.errors).sort()).toEqual(["horizon_s", "name", "seed", "variant.capacity.factor", "variant.demand_scale", "variant.signal_cycle_s"]);
    expect(r.errors["variant.signal_cycle_s"]).toContain("not a number");
    expect(r.errors["variant.demand_scale"]).toBe("must be greater than 0");
  });

  it("rejects a window that ends before it starts or after the horizon", () => {
    const back = buildScenarioRequest(form((f) => Object.assign(f.traffic, { roads: ["r1"], from_s: "1800", to_s: "600" })));
    expect(!back.ok && back.errors["variant.window.to_s"]).toMatch(/end after it starts/);
    const late = buildScenarioRequest(form((f) => Object.assign(f.traffic, { roads: ["r1"], to_s: "4000" })));
    expect(!late.ok && late.errors["variant.window.to_s"]).toMatch(/after the horizon \(3600 s\)/);
    const long = buildScenarioRequest(form((f) => (f.name = "x".repeat(201))));
    expect(!long.ok && long.errors.name).toBe("at most 200 characters");
  });

  it("requires a capacity factor when reducing capacity", () => {
    const r = buildScenarioRequest(form((f) => Object.assign(f.traffic, { roads: ["r1"], action: "capacity", factor: "" })));
    expect(!r.ok && r.errors["variant.capacity.factor"]).toBe("a capacity factor is required");
  });

  it("parses optional numbers", () => {
    expect(parseNum("")).toEqual({});
    expect(parseNum(" 3 ", { integer: true })).toEqual({ value: 3 });
    expect(parseNum("3.5", { integer: true }).error).toBe("must be a whole number");
    expect(parseNum("11", { max: 10 }).error).toBe("must be at most 10");
  });
});

describe("KPI comparison rows", () => {
  it("keeps the server's delta, delta % and verdict", () => {
    const rows = kpiRows([{ id: "avg_travel_time_s", name: "Average travel time", unit: "s", baseline: 312.4, variant: 355, delta: 42.6, delta_pct: 13.6, better: "lower", verdict: "worse" }]);
    expect(rows).toEqual([{ id: "avg_travel_time_s", name: "Average travel time", unit: "s", baseline: 312.4, variant: 355, delta: 42.6, deltaPct: 13.6, verdict: "worse" }]);
  });

  it("computes delta, delta % and the verdict from `better` when the server leaves them out", () => {
    const rows = kpiRows([
      { id: "trips", baseline: 200, variant: 220, better: "higher" },
      { id: "delay", baseline: 100, variant: 90, better: "lower" },
      { id: "co2", baseline: 100, variant: 110, better: "lower" },
      { id: "speed", baseline: 30, variant: 27, better: "higher" },
      { id: "flat", baseline: 1000, variant: 1000.0001, better: "higher" },
      { id: "zero", baseline: 0, variant: 5 },
      { id: "missing", baseline: null, variant: 3, better: "lower" },
    ]);
    expect(rows.map((r) => [r.id, r.verdict])).toEqual([
      ["trips", "better"],
      ["delay", "better"],
      ["co2", "worse"],
      ["speed", "worse"],
      ["flat", "same"],
      ["zero", "unknown"],
      ["missing", "unknown"],
    ]);
    expect(rows[0]).toMatchObject({ name: "trips", delta: 20, deltaPct: 10 });
    expect(rows[5]).toMatchObject({ delta: 5, deltaPct: null });
    expect(rows[6]).toMatchObject({ delta: null, deltaPct: null });
  });

  it("reads nothing from a missing result", () => {
    expect(kpiRows(undefined)).toEqual([]);
  });

  it("draws one bar per KPI coloured by verdict, on each side of zero", () => {
    const rows = kpiRows([
      { id: "a", baseline: 100, variant: 120, better: "lower" },
      { id: "b", baseline: 100, variant: 90, better: "lower" },
      { id: "<c>", baseline: 0, variant: 1 },
    ]);
    const svg = kpiBarChartSvg(rows, 400);
    expect(svg.match(/<rect /g)?.length).toBe(2);
    expect(svg).toContain('data-kpi="a" data-verdict="worse"');
    expect(svg).toContain('fill="#d7191c"');
    expect(svg).toContain('data-verdict="better"');
    expect(svg).not.toContain("<c>");
    // Zero is at labelW + plotW/2 = 150 + 97 = 247: the worse bar starts there, the better one ends there.
    expect(svg).toMatch(/data-kpi="a" data-verdict="worse" x="247\.0"/);
    expect(svg).toMatch(/data-kpi="b" data-verdict="better" x="198\.5" y="\d+" width="48\.5"/);
    expect(fmtDeltaPct(13.61)).toBe("+13.6%");
    expect(fmtDeltaPct(-2)).toBe("-2.0%");
  });
});

describe("delta colour scale", () => {
  it("is symmetric about zero over a nice maximum", () => {
    const s = deltaScale([-3.2, 1, 7.4], "mean_speed_kmh", "km/h");
    expect(s.breaks).toEqual([-6, -3, -1, 1, 3, 6].map((v) => expect.closeTo(v, 9)) as unknown as number[]);
    expect(s.colourOf(0)).toBe(DIVERGING_COLOURS[3]);
    expect(s.colourOf(-10)).toBe(DIVERGING_COLOURS[0]);
    expect(s.colourOf(10)).toBe(DIVERGING_COLOURS[6]);
  });

  it("puts red on the worse side for metrics where lower is better", () => {
    const s = deltaScale([50], "max_loading_pct");
    expect(s.colourOf(40)).toBe(DIVERGING_COLOURS[0]);
    expect(s.colourOf(-40)).toBe(DIVERGING_COLOURS[6]);
    const legend = s.legend();
    expect(legend).toHaveLength(7);
    expect(legend[0]?.label).toMatch(/better$/);
    expect(legend[6]?.label).toMatch(/worse$/);
  });

  it("stays valid with no or all-zero deltas", () => {
    expect(deltaScale([]).breaks.length).toBe(6);
    expect(deltaScale([0, 0, NaN]).colourOf(0)).toBe(DIVERGING_COLOURS[3]);
  });

  it("rounds maxima up to 1, 2, 2.5 or 5 × 10^k", () => {
    expect([0.7, 1, 1.1, 2.2, 4, 7.4, 12, 0].map(niceCeil)).toEqual([1, 1, 2, 2.5, 5, 10, 20, 1]);
  });
});

describe("progress and ETA", () => {
  it("formats durations", () => {
    expect(fmtDuration(null)).toBe("");
    expect(fmtDuration(0.4)).toBe("<1 s");
    expect(fmtDuration(3.1)).toBe("3 s");
    expect(fmtDuration(185)).toBe("3 min 05 s");
    expect(fmtDuration(7800)).toBe("2 h 10 min");
    expect(fmtDuration(7199)).toBe("2 h 0 min");
  });

  it("labels a running run with phase, percent and ETA", () => {
    expect(progressLabel({ status: "running", progress: { fraction: 0.42, phase: "variant", eta_s: 3.1 } })).toBe("running · variant · 42% · ETA 3 s");
    expect(progressLabel({ status: "queued", progress: { fraction: 0, phase: "baseline" } })).toBe("queued · 0%");
    expect(progressLabel({ status: "done", progress: { fraction: 0.9 }, wall_s: 4.2 })).toBe("done · 100% · 4 s");
    expect(progressLabel({ status: "cancelled", progress: { fraction: 0.3 } })).toBe("cancelled");
  });

  it("clamps progress and shows done as complete", () => {
    expect(progressOf({ status: "running", progress: { fraction: 1.7 } })).toBe(1);
    expect(progressOf({ status: "running", progress: { fraction: -1 } })).toBe(0);
    expect(progressOf({ status: "running", progress: null })).toBe(0);
    expect(progressOf({ status: "done", progress: { fraction: 0.2 } })).toBe(1);
  });
});

describe("feeders", () => {
  it("classes loading: green below 80, amber 80 to 100, red above 100", () => {
    expect([79.9, 80, 100, 100.1, null, NaN].map(loadingClass)).toEqual(["ok", "high", "high", "over", "unknown", "unknown"]);
  });

  it("reads the list (or a bare array), drops rows without an id, worst first", () => {
    const f = readFeeders({ feeders: [{ id: "f1", loading_pct: 50 }, { name: "no id" }, { id: 7 }, { id: "f2", loading_pct: 104 }] });
    expect(f.map((x) => x.id)).toEqual(["f2", "f1", "7"]);
    expect(readFeeders([{ id: "a" }]).map((x) => x.id)).toEqual(["a"]);
    expect(readFeeders(null)).toEqual([]);
  });
});

describe("problem field paths", () => {
  it("reads the field a 400/422 detail starts with, without indices", () => {
    expect(problemField("variant.demand_scale: must be greater than 0, got 0")).toBe("variant.demand_scale");
    expect(problemField("variant.surge[0].factor: expected a number")).toBe("variant.surge.factor");
    expect(problemField("variant.capacity[1].factor: must be at most 1")).toBe("variant.capacity.factor");
    expect(problemField("variant.closures[0].to_s: must be greater than from_s")).toBe("variant.window.to_s");
    expect(problemField("horizon_s: must be at most 86400, got 999999")).toBe("horizon_s");
    expect(problemField("the name is taken")).toBeNull();
    expect(problemField(undefined)).toBeNull();
  });
});

describe("picking roads on the map", () => {
  const fc = {
    type: "FeatureCollection" as const,
    features: [
      { type: "Feature" as const, geometry: { type: "LineString" as const, coordinates: [[24.93, 60.17], [24.95, 60.17]] as [number, number][] }, properties: { id: "east-west", class: "primary" } },
      { type: "Feature" as const, geometry: { type: "LineString" as const, coordinates: [[24.94, 60.165], [24.94, 60.175]] as [number, number][] }, properties: { id: "north-south", class: "residential" } },
    ],
  };
  const layer = new RoadLayer();
  layer.load(fc);
  const v = new Viewport(24.94, 60.17, 15, 800, 600);

  it("returns the road whose line passes within a few pixels of the click", () => {
    const [x, y] = v.project(24.935, 60.17);
    expect(layer.pick(x, y + 3, v)?.id).toBe("east-west");
    const [x2, y2] = v.project(24.94, 60.168);
    expect(layer.pick(x2 - 4, y2, v)?.id).toBe("north-south");
  });

  it("returns nothing away from every road", () => {
    const [x, y] = v.project(24.935, 60.173);
    expect(layer.pick(x, y, v)).toBeNull();
  });

  it("measures the distance to a segment, clamped to its ends", () => {
    expect(segDist2(5, 3, 0, 0, 10, 0)).toBe(9);
    expect(segDist2(-3, 4, 0, 0, 10, 0)).toBe(25);
    expect(segDist2(1, 1, 2, 2, 2, 2)).toBe(2);
  });
});

describe("map overlays", () => {
  /** A canvas context that records the fill and stroke colours used. */
  function recorder() {
    const fills: string[] = [];
    const strokes: string[] = [];
    const ctx = {
      fillStyle: "" as string,
      strokeStyle: "" as string,
      lineWidth: 1,
      globalAlpha: 1,
      lineCap: "butt" as CanvasLineCap,
      lineJoin: "miter" as CanvasLineJoin,
      beginPath() {},
      moveTo() {},
      lineTo() {},
      closePath() {},
      rect() {},
      arc() {},
      fill() {
        fills.push(ctx.fillStyle);
      },
      stroke() {
        strokes.push(ctx.strokeStyle);
      },
    };
    return { ctx, fills, strokes };
  }
  const v = new Viewport(24.94, 60.17, 14, 800, 600);

  it("draws lines, areas and points of a scenario map in their delta colours", () => {
    const layer = new DeltaLayer();
    const scale = deltaScale([-10, 10], "mean_speed_kmh");
    layer.load(
      {
        type: "FeatureCollection",
        features: [
          { type: "Feature", geometry: { type: "LineString", coordinates: [[24.93, 60.17], [24.95, 60.17]] }, properties: { id: "r1", metric: "mean_speed_kmh", delta: -10 } },
          { type: "Feature", geometry: { type: "Polygon", coordinates: [[[24.93, 60.16], [24.94, 60.16], [24.94, 60.165], [24.93, 60.16]]] }, properties: { id: "c1", delta: 10 } },
          { type: "Feature", geometry: { type: "Point", coordinates: [24.94, 60.172] }, properties: { id: "f1", delta: 0 } },
          { type: "Feature", geometry: null, properties: { id: "broken" } },
        ],
      } as never,
      scale,
    );
    expect([layer.size, layer.lines.length, layer.areas.length, layer.points.length, layer.metric]).toEqual([3, 1, 1, 1, "mean_speed_kmh"]);
    const { ctx, fills, strokes } = recorder();
    expect(layer.draw(ctx, v)).toBe(3);
    expect(strokes).toContain(DIVERGING_COLOURS[0]);
    expect(fills).toEqual([DIVERGING_COLOURS[6], DIVERGING_COLOURS[3]]);
    layer.clear();
    expect(layer.draw(recorder().ctx, v)).toBe(0);
  });

  it("draws only feeders with a location, coloured by loading", () => {
    const layer = new FeederLayer();
    layer.load([
      { id: "a", loading_pct: 105, lat: 60.17, lon: 24.94 },
      { id: "b", loading_pct: 50, lat: 60.171, lon: 24.941 },
      { id: "c", loading_pct: 90 },
    ]);
    const { ctx, fills } = recorder();
    expect(layer.draw(ctx, v)).toBe(2);
    expect(fills).toEqual([LOADING_COLOURS.over, LOADING_COLOURS.ok]);
    const [x, y] = v.project(24.94, 60.17);
    expect(layer.pick(x + 3, y - 3, v)?.id).toBe("a");
  });
});
