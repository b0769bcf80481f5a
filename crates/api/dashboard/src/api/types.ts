// Wire types of the CityBrain HTTP API (`/api/v1`), as the dashboard reads them.
// They mirror the DTOs of crates/api; fields the dashboard does not use are left out or optional.

/** Longitude/latitude bounding box: [minLon, minLat, maxLon, maxLat]. */
export type Bbox = [number, number, number, number];

/** RFC 7807 problem details, as every API error body. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
}

export interface MetricInfo {
  name: string;
  unit: string;
  description: string;
}

export interface CityInfo {
  name: string;
  bbox: Bbox;
  center: [number, number];
  attribution: string;
  counts: Record<string, number>;
  metrics: MetricInfo[];
}

export interface GeoJsonFeature<G, P> {
  type: "Feature";
  id?: string | number;
  geometry: G;
  properties: P;
}

export interface FeatureCollection<G, P> {
  type: "FeatureCollection";
  features: GeoJsonFeature<G, P>[];
}

export interface LineString {
  type: "LineString";
  coordinates: [number, number][];
}
export interface MultiLineString {
  type: "MultiLineString";
  coordinates: [number, number][][];
}
export interface Polygon {
  type: "Polygon";
  coordinates: [number, number][][];
}
export interface MultiPolygon {
  type: "MultiPolygon";
  coordinates: [number, number][][][];
}
export interface Point {
  type: "Point";
  coordinates: [number, number];
}

export interface RoadProps {
  id: string;
  name?: string | null;
  class: string;
  lanes?: number | null;
  speed_limit_kmh?: number | null;
  /** Live speed; null when no detector covers the segment. */
  speed_kmh?: number | null;
  flow_veh_h?: number | null;
  /** Travel time index (actual / free-flow travel time), >= 1 when congested. */
  tti?: number | null;
}

export interface BuildingProps {
  id: string;
  use?: string | null;
  levels?: number | null;
}

export type SensorStatus = "online" | "stale" | "offline" | "unseen";

export interface SensorProps {
  id: string;
  kind: string;
  status: SensorStatus;
  flags: string[];
  last_seen: string | null;
  latest: Record<string, number>;
}

export type RoadCollection = FeatureCollection<LineString | MultiLineString, RoadProps>;
export type BuildingCollection = FeatureCollection<Polygon | MultiPolygon, BuildingProps>;
export type SensorCollection = FeatureCollection<Point, SensorProps>;

/** One cell of the compact form: [cell_hex, mean, count, min, max, last]. */
export type CompactCell = [string, number, number, number, number, number];

export interface CompactCells {
  res: number;
  metric: string;
  unit: string;
  cells: CompactCell[];
}

export interface CellProps {
  cell: string;
  count: number;
  mean: number;
  min: number;
  max: number;
  last: number;
  last_ts?: string | null;
}
export type CellCollection = FeatureCollection<Polygon, CellProps>;

/** `GET /api/v1/cells/{cell}/history`: the store's roll-ups over the sensors in the cell. */
export interface CellHistory {
  cell: string;
  metric: string;
  unit: string;
  rollup?: string;
  /** [bucket_ms, count, mean, min, max], oldest first. */
  points: number[][];
}

export interface ObservationSeries {
  sensor: string;
  metric: string;
  unit: string;
  /** raw: [ts_ms, value]; minute/hour roll-ups: [ts_ms, count, mean, min, max]. */
  points: number[][];
}

export type AlarmState = "open" | "acknowledged" | "cleared";

export interface Alarm {
  id: string;
  rule_id: string;
  rule_name: string;
  severity: string;
  state: AlarmState;
  entity?: string | null;
  entity_type?: string | null;
  sensor?: string | null;
  sensor_kind?: string | null;
  cell?: string | null;
  res?: number | null;
  community?: string | null;
  location?: { lat: number; lon: number } | null;
  metric: string;
  /** The value that raised it (stale alarms: seconds silent). */
  value: number;
  peak?: number;
  /** Null for stale rules. */
  threshold: number | null;
  since?: string;
  opened_at: string;
  cleared_at?: string | null;
  acknowledged_by?: string | null;
  incident_id?: string | null;
}

export type IncidentState =
  | "REPORTED"
  | "DISPATCHED"
  | "IN_PROGRESS"
  | "RESOLVED"
  | "CLOSED"
  | "ESCALATED"
  | "REOPENED";

export type IncidentAction = "dispatch" | "start" | "resolve" | "close" | "escalate" | "reopen";

export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  from?: string | null;
  to?: string | null;
  note?: string | null;
}

export interface Incident {
  id: string;
  type: string;
  priority: "P1" | "P2" | "P3" | "P4";
  state: IncidentState;
  /** Community (district) entity id; null when the location is outside every community. */
  community: string | null;
  location: { lat: number; lon: number } | null;
  cell?: string | null;
  team?: string | null;
  sla_due?: string | null;
  overdue?: boolean;
  created_at: string;
  dispatched_at?: string | null;
  resolved_at?: string | null;
  closed_at?: string | null;
  source: "alarm" | "citizen" | "iot" | "patrol" | "api";
  alarm_id?: string | null;
  title: string;
  /** Actions the current state allows, as the server computes them. */
  allowed_actions?: string[];
  audit: AuditEntry[];
}

export interface DurationStats {
  mean: number | null;
  p50: number | null;
  p90: number | null;
}

export interface IncidentMetrics {
  response_time_s: DurationStats;
  resolution_time_s: DurationStats;
  on_time_closure_rate: number | null;
  closure_rate: number | null;
  backlog: number;
  overdue: number;
}

export interface IndicatorNode {
  id: string;
  name_zh: string;
  name_en: string;
  /** 得分率 in [0, 1]; null when no input is available. */
  score_rate: number | null;
  children?: IndicatorNode[];
}

export interface Indicators {
  profile: string;
  composite: number | null;
  pillars: IndicatorNode[];
  coverage: number;
  confidence: number;
  as_of: string;
}

export interface IndicatorHistory {
  /** [ts_ms, composite] pairs, oldest first. */
  points: [number, number][];
}

export interface TrafficLive {
  tti: number | null;
  tpi: number | null;
  level: string | null;
  by_community: { community: string; tti?: number | null; tpi?: number | null; level?: string | null }[];
}

export type ScenarioEngine = "traffic" | "community" | "energy";
export type ScenarioStatus = "queued" | "running" | "done" | "failed" | "cancelled";
export type ScenarioPhase = "baseline" | "variant" | "compare";

/** One KPI of a finished run: baseline vs variant, and whether the change is an improvement. */
export interface ScenarioKpi {
  id: string;
  name?: string;
  unit?: string;
  baseline: number | null;
  variant: number | null;
  delta?: number | null;
  delta_pct?: number | null;
  better?: "lower" | "higher";
  verdict?: "better" | "worse" | "same";
}

export interface ScenarioProgress {
  fraction: number;
  phase?: ScenarioPhase | string | null;
  eta_s?: number | null;
}

/** `POST /api/v1/scenarios` body. */
export interface ScenarioRequest {
  name: string;
  engine: ScenarioEngine;
  seed?: number;
  horizon_s?: number;
  variant: Record<string, unknown>;
}

/** A scenario run (`GET /api/v1/scenarios/{id}`; the list omits `result`). */
export interface ScenarioRun {
  id: string;
  name?: string;
  engine: ScenarioEngine;
  seed?: number;
  horizon_s?: number;
  variant?: Record<string, unknown>;
  status: ScenarioStatus;
  progress?: ScenarioProgress | null;
  created_at?: string;
  started_at?: string | null;
  finished_at?: string | null;
  wall_s?: number | null;
  twin_version?: number | null;
  error?: string | null;
  result?: { kpis: ScenarioKpi[]; baseline?: unknown; variant?: unknown } | null;
}

export interface ScenarioList {
  runs: ScenarioRun[];
}

/** Properties of a `GET /api/v1/scenarios/{id}/map` feature: the per-entity delta. */
export interface ScenarioMapProps {
  id: string;
  metric?: string;
  baseline?: number | null;
  variant?: number | null;
  delta?: number | null;
}

export type ScenarioMapCollection = FeatureCollection<LineString | MultiLineString | Polygon | MultiPolygon | Point, ScenarioMapProps>;

/** One feeder of `GET /api/v1/energy/feeders`; every field but `id` may be missing. */
export interface Feeder {
  id: string;
  name?: string | null;
  loading_pct?: number | null;
  v_min_pu?: number | null;
  v_max_pu?: number | null;
  losses_kw?: number | null;
  losses_pct?: number | null;
  violations?: number | null;
  as_of?: string | null;
  lat?: number | null;
  lon?: number | null;
}

/** Messages of the live stream (WebSocket or SSE). */
export type StreamMessage =
  | { type: "cells"; res: number; metric: string; cells: CompactCell[] }
  | ({ type: "alarm" } & Alarm)
  | ({ type: "incident" } & Incident)
  | { type: "lagged"; missed: number };
