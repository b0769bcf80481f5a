import { describe, expect, it } from "vitest";
import {
  fmt,
  knownScale,
  NODATA_COLOUR,
  rampColour,
  roadColour,
  robustDomain,
  scaleFor,
  sequentialScale,
  ThresholdScale,
} from "../src/map/colour";

describe("threshold scale", () => {
  const s = new ThresholdScale([10, 20, 30], ["#a", "#b", "#c", "#d"]);

  it("puts a value equal to a break into the upper bucket", () => {
    expect(s.bucketOf(-5)).toBe(0);
    expect(s.bucketOf(9.999)).toBe(0);
    expect(s.bucketOf(10)).toBe(1);
    expect(s.bucketOf(19.5)).toBe(1);
    expect(s.bucketOf(20)).toBe(2);
    expect(s.bucketOf(30)).toBe(3);
    expect(s.bucketOf(1e9)).toBe(3);
  });

  it("agrees with a linear scan for many values", () => {
    const breaks = [-3, 0.5, 2, 2.5, 7, 100];
    const scale = new ThresholdScale(breaks, ["0", "1", "2", "3", "4", "5", "6"]);
    for (let v = -10; v <= 120; v += 0.25) {
      const linear = breaks.filter((b) => b <= v).length;
      expect(scale.bucketOf(v)).toBe(linear);
    }
  });

  it("sends NaN and infinities to no-data", () => {
    expect(s.bucketOf(NaN)).toBe(-1);
    expect(s.bucketOf(Infinity)).toBe(-1);
    expect(s.colourOf(NaN)).toBe(NODATA_COLOUR);
  });

  it("rejects mismatched colours and unordered breaks", () => {
    expect(() => new ThresholdScale([1, 2], ["#a", "#b"])).toThrow(/needs 3 colours/);
    expect(() => new ThresholdScale([2, 2], ["#a", "#b", "#c"])).toThrow(/increase strictly/);
  });

  it("labels the legend with open first and last ranges", () => {
    const labels = s.legend().map((e) => e.label);
    expect(labels).toEqual(["< 10", "10–20", "20–30", "≥ 30"]);
    expect(s.legend()[0]?.from).toBe(-Infinity);
    expect(s.legend()[3]?.to).toBe(Infinity);
  });
});

describe("PM2.5 scale (HJ 633-2012 24-hour IAQI breakpoints)", () => {
  const pm = knownScale("pm25");

  it("uses the 35/75/115/150/250 µg/m³ limits and the six AQI colours", () => {
    expect(pm).not.toBeNull();
    const s = pm as ThresholdScale;
    expect(s.breaks).toEqual([35, 75, 115, 150, 250]);
    expect(s.colourOf(20)).toBe("#00e400");
    expect(s.colourOf(35)).toBe("#ffff00");
    expect(s.colourOf(76)).toBe("#ff7e00");
    expect(s.colourOf(120)).toBe("#ff0000");
    expect(s.colourOf(200)).toBe("#99004c");
    expect(s.colourOf(400)).toBe("#7e0023");
    expect(s.unit).toBe("µg/m³");
  });

  it("is used by scaleFor regardless of the data", () => {
    expect((scaleFor("pm25", "µg/m³", [1, 2, 3]) as ThresholdScale).breaks).toEqual([35, 75, 115, 150, 250]);
  });
});

describe("sequential scale", () => {
  it("splits the domain into equal buckets", () => {
    const s = sequentialScale(0, 100, 4);
    expect(s.breaks).toEqual([25, 50, 75]);
    expect(s.size).toBe(4);
    expect(s.colours[0]).toBe(rampColour(0));
    expect(s.colours[3]).toBe(rampColour(1));
  });

  it("widens a degenerate domain instead of dividing by zero", () => {
    const s = sequentialScale(5, 5, 2);
    expect(s.breaks).toEqual([5.5]);
  });

  it("ramp colours are valid hex and start dark and end bright", () => {
    for (let t = 0; t <= 1; t += 0.05) expect(rampColour(t)).toMatch(/^#[0-9a-f]{6}$/);
    const lum = (c: string): number => parseInt(c.slice(1, 3), 16) * 0.299 + parseInt(c.slice(3, 5), 16) * 0.587 + parseInt(c.slice(5, 7), 16) * 0.114;
    expect(lum(rampColour(1))).toBeGreaterThan(lum(rampColour(0)));
    expect(rampColour(-1)).toBe(rampColour(0));
    expect(rampColour(2)).toBe(rampColour(1));
  });
});

describe("robust domain", () => {
  it("ignores outliers beyond the 2nd and 98th percentiles and rounds outward", () => {
    const v = Array.from({ length: 1000 }, (_, i) => 10 + (i / 999) * 30); // 10..40
    v[0] = -5000;
    v[999] = 1e6;
    const d = robustDomain(v, 10);
    expect(d).not.toBeNull();
    const [lo, hi] = d as [number, number];
    expect(lo).toBeLessThanOrEqual(10.6);
    expect(lo).toBeGreaterThan(5);
    expect(hi).toBeGreaterThanOrEqual(39.4);
    expect(hi).toBeLessThan(45);
  });

  it("returns null without finite values", () => {
    expect(robustDomain([NaN, Infinity])).toBeNull();
    expect(robustDomain([])).toBeNull();
  });
});

describe("road colours", () => {
  it("colours speed as a share of the limit", () => {
    expect(roadColour("speed", { speed_kmh: 10, speed_limit_kmh: 50 })).toBe("#d7191c"); // 0.2
    expect(roadColour("speed", { speed_kmh: 25, speed_limit_kmh: 50 })).toBe("#fd8d3c"); // 0.5
    expect(roadColour("speed", { speed_kmh: 35, speed_limit_kmh: 50 })).toBe("#fed22b"); // 0.7
    expect(roadColour("speed", { speed_kmh: 40, speed_limit_kmh: 50 })).toBe("#1a9641"); // 0.8
  });

  it("colours TTI with green for smooth and red for severe", () => {
    expect(roadColour("tti", { tti: 1.1 })).toBe("#1a9641");
    expect(roadColour("tti", { tti: 1.6 })).toBe("#fed22b");
    expect(roadColour("tti", { tti: 1.9 })).toBe("#fd8d3c");
    expect(roadColour("tti", { tti: 2.4 })).toBe("#d7191c");
  });

  it("has no colour without a live value or a limit", () => {
    expect(roadColour("speed", { speed_kmh: null, speed_limit_kmh: 50 })).toBeNull();
    expect(roadColour("speed", { speed_kmh: 30, speed_limit_kmh: 0 })).toBeNull();
    expect(roadColour("tti", { tti: null })).toBeNull();
  });
});

it("formats legend numbers compactly", () => {
  expect(fmt(150)).toBe("150");
  expect(fmt(12.345)).toBe("12.3");
  expect(fmt(2.5)).toBe("2.5");
  expect(fmt(0.12345)).toBe("0.123");
  expect(fmt(Infinity)).toBe("∞");
});
