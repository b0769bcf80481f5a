// Colour scales for the map. Every scale is *quantised*: a value maps to one of a few buckets,
// so the hex layer can fill all cells of one bucket with a single path (one fill per colour).

export interface LegendEntry {
  /** Lower bound (inclusive); -Infinity for the first bucket. */
  from: number;
  /** Upper bound (exclusive); +Infinity for the last bucket. */
  to: number;
  colour: string;
  label: string;
}

export interface ColourScale {
  /** Number of buckets; bucket indices are 0..size-1. */
  readonly size: number;
  readonly colours: readonly string[];
  readonly unit: string;
  /** Bucket index of a value, or -1 (no data) for NaN and infinities. */
  bucketOf(v: number): number;
  colourOf(v: number): string;
  legend(): LegendEntry[];
}

export const NODATA_COLOUR = "#9aa3ad";

/**
 * A threshold scale: `breaks` are the ascending upper bounds of all buckets but the last,
 * so `breaks.length + 1 === colours.length`. A value equal to a break goes to the upper bucket.
 */
export class ThresholdScale implements ColourScale {
  readonly colours: readonly string[];
  readonly breaks: readonly number[];
  readonly unit: string;
  readonly names: readonly string[] | null;

  constructor(breaks: readonly number[], colours: readonly string[], unit = "", names: readonly string[] | null = null) {
    if (colours.length !== breaks.length + 1) {
      throw new RangeError(`threshold scale needs ${breaks.length + 1} colours, got ${colours.length}`);
    }
    for (let i = 1; i < breaks.length; i++) {
      if (!((breaks[i] as number) > (breaks[i - 1] as number))) {
        throw new RangeError(`threshold breaks must increase strictly, got ${breaks.join(",")}`);
      }
    }
    this.breaks = breaks;
    this.colours = colours;
    this.unit = unit;
    this.names = names;
  }

  get size(): number {
    return this.colours.length;
  }

  bucketOf(v: number): number {
    if (!Number.isFinite(v)) return -1;
    // Binary search: first break strictly greater than v.
    let lo = 0;
    let hi = this.breaks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.breaks[mid] as number) <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  colourOf(v: number): string {
    const b = this.bucketOf(v);
    return b < 0 ? NODATA_COLOUR : (this.colours[b] as string);
  }

  legend(): LegendEntry[] {
    return this.colours.map((colour, i) => {
      const from = i === 0 ? -Infinity : (this.breaks[i - 1] as number);
      const to = i === this.breaks.length ? Infinity : (this.breaks[i] as number);
      const range = i === 0 ? `< ${fmt(to)}` : i === this.breaks.length ? `≥ ${fmt(from)}` : `${fmt(from)}–${fmt(to)}`;
      const name = this.names?.[i];
      return { from, to, colour, label: name ? `${range} ${name}` : range };
    });
  }
}

/** Formats a legend number compactly (no trailing zeros, at most 3 significant decimals). */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "-∞";
  const a = Math.abs(v);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return String(Number(v.toFixed(digits)));
}

// A perceptually ordered sequential ramp (dark blue → green → yellow), anchors after viridis.
const RAMP_ANCHORS: [number, number, number][] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

function hex2(n: number): string {
  return Math.round(Math.min(255, Math.max(0, n)))
    .toString(16)
    .padStart(2, "0");
}

/** Colour at t in [0, 1] along the sequential ramp, as #rrggbb. */
export function rampColour(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (RAMP_ANCHORS.length - 1);
  const i = Math.min(RAMP_ANCHORS.length - 2, Math.floor(x));
  const f = x - i;
  const a = RAMP_ANCHORS[i] as [number, number, number];
  const b = RAMP_ANCHORS[i + 1] as [number, number, number];
  return `#${hex2(a[0] + (b[0] - a[0]) * f)}${hex2(a[1] + (b[1] - a[1]) * f)}${hex2(a[2] + (b[2] - a[2]) * f)}`;
}

/** A sequential scale on [min, max] quantised into `n` equal-width buckets. */
export function sequentialScale(min: number, max: number, n = 12, unit = ""): ThresholdScale {
  if (!(Number.isFinite(min) && Number.isFinite(max))) throw new RangeError(`scale domain must be finite, got ${min}..${max}`);
  if (n < 2) throw new RangeError(`a sequential scale needs at least 2 buckets, got ${n}`);
  const hi = max > min ? max : min + 1;
  const step = (hi - min) / n;
  const breaks: number[] = [];
  for (let i = 1; i < n; i++) breaks.push(min + step * i);
  const colours: string[] = [];
  for (let i = 0; i < n; i++) colours.push(rampColour(n === 1 ? 0 : i / (n - 1)));
  return new ThresholdScale(breaks, colours, unit);
}

/** Rounds a positive span to 1, 2, 2.5 or 5 times a power of ten (for readable legends). */
export function niceStep(span: number): number {
  if (!(span > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(span)));
  const f = span / p;
  const nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
  return nice * p;
}

/**
 * A data-driven domain: the 2nd..98th percentile of the finite values, widened to nice numbers,
 * so a few outliers do not wash out the map. Returns null when there are no finite values.
 */
export function robustDomain(values: Iterable<number>, buckets = 12): [number, number] | null {
  const v: number[] = [];
  for (const x of values) if (Number.isFinite(x)) v.push(x);
  if (v.length === 0) return null;
  v.sort((a, b) => a - b);
  const q = (p: number): number => v[Math.min(v.length - 1, Math.max(0, Math.round(p * (v.length - 1))))] as number;
  let lo = q(0.02);
  let hi = q(0.98);
  if (hi <= lo) hi = lo + 1;
  const step = niceStep((hi - lo) / buckets);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  if (hi <= lo) hi = lo + step;
  return [lo, hi];
}

// Air-quality colours of China's AQI (HJ 633-2012): 优 良 轻度 中度 重度 严重.
const AQI_COLOURS = ["#00e400", "#ffff00", "#ff7e00", "#ff0000", "#99004c", "#7e0023"];
const AQI_NAMES = ["good 优", "moderate 良", "light 轻度", "medium 中度", "heavy 重度", "severe 严重"];

/**
 * Fixed scales for well-known metrics, so the same value keeps the same colour everywhere.
 * PM2.5 and PM10 use the 24-hour concentration limits of HJ 633-2012's IAQI table.
 */
export function knownScale(metric: string, unit = ""): ThresholdScale | null {
  switch (metric) {
    case "pm25":
    case "pm2_5":
      return new ThresholdScale([35, 75, 115, 150, 250], AQI_COLOURS, unit || "µg/m³", AQI_NAMES);
    case "pm10":
      return new ThresholdScale([50, 150, 250, 350, 420], AQI_COLOURS, unit || "µg/m³", AQI_NAMES);
    default:
      return null;
  }
}

/** The scale for a metric: its fixed scale if known, else a sequential scale on the data's robust domain. */
export function scaleFor(metric: string, unit: string, values: Iterable<number>, buckets = 12): ThresholdScale {
  const known = knownScale(metric, unit);
  if (known) return known;
  const d = robustDomain(values, buckets) ?? [0, 1];
  return sequentialScale(d[0], d[1], buckets, unit);
}

// --- roads ---------------------------------------------------------------------------------

export type RoadColourMode = "speed" | "tti";

const ROAD_COLOURS = ["#d7191c", "#fd8d3c", "#fed22b", "#1a9641"];

/** Road speed as a share of the limit: < 0.4 red, < 0.6 orange, < 0.8 yellow, else green. */
export const ROAD_SPEED_SCALE = new ThresholdScale([0.4, 0.6, 0.8], ROAD_COLOURS, "× limit", [
  "jammed",
  "slow",
  "busy",
  "free",
]);

/** Travel time index: < 1.5 smooth, < 1.8 slow, < 2 congested, else severely congested. */
export const ROAD_TTI_SCALE = new ThresholdScale([1.5, 1.8, 2.0], [...ROAD_COLOURS].reverse(), "TTI", [
  "smooth 畅通",
  "slow 缓行",
  "congested 拥堵",
  "severe 严重拥堵",
]);

/** Colour of a road segment, or null when it has no live value (drawn in the neutral style). */
export function roadColour(
  mode: RoadColourMode,
  p: { speed_kmh?: number | null; speed_limit_kmh?: number | null; tti?: number | null },
): string | null {
  if (mode === "tti") {
    return p.tti == null || !Number.isFinite(p.tti) ? null : ROAD_TTI_SCALE.colourOf(p.tti);
  }
  if (p.speed_kmh == null || !p.speed_limit_kmh || !(p.speed_limit_kmh > 0)) return null;
  return ROAD_SPEED_SCALE.colourOf(p.speed_kmh / p.speed_limit_kmh);
}

// --- sensors -------------------------------------------------------------------------------

export const SENSOR_STATUS_COLOURS: Record<string, string> = {
  online: "#1a9641",
  stale: "#f0a202",
  offline: "#d7191c",
  /** Registered but never heard since the server started. */
  unseen: "#9aa5b1",
};

export function sensorColour(status: string): string {
  return SENSOR_STATUS_COLOURS[status] ?? NODATA_COLOUR;
}
