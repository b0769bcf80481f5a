// The live stream: message parsing and dispatch (pure, unit-tested) and the transport
// (WebSocket first, Server-Sent Events as fallback, reconnect with capped, jittered backoff).

import type { Alarm, Bbox, Incident } from "../api/types";


export interface StreamSink {
  /**
   * Changed cells of the subscribed metric and resolution, as undecoded compact rows
   * `[cell_hex, mean, count, min, max, last]` (the store validates them as it applies them,
   * which avoids an object per cell at 50,000 cells per second).
   */
  cells(rows: readonly unknown[]): void;
  alarm(alarm: Alarm): void;
  incident(incident: Incident): void;
  /**
   * The server dropped `missed` updates for this client. Cell messages carry only changed
   * cells, so the client's cell state may now be stale and must be re-read in full.
   */
  lagged(missed: number): void;
}

export type DispatchResult = "cells" | "alarm" | "incident" | "lagged" | "ignored" | "invalid";

export interface Subscription {
  metric: string;
  res: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Parses one stream message and hands it to the sink. Cell messages for another metric or
 * resolution than `sub` (left over from before a subscription change) are ignored; malformed
 * messages are reported as "invalid" and never throw.
 */
export function dispatchStreamMessage(raw: string | unknown, sub: Subscription, sink: StreamSink): DispatchResult {
  let msg: unknown = raw;
  if (typeof raw === "string") {
    try {
      msg = JSON.parse(raw);
    } catch {
      return "invalid";
    }
  }
  if (!isObject(msg) || typeof msg.type !== "string") return "invalid";
  switch (msg.type) {
    case "cells": {
      if (!Array.isArray(msg.cells)) return "invalid";
      if (msg.metric !== sub.metric || msg.res !== sub.res) return "ignored";
      sink.cells(msg.cells);
      return "cells";
    }
    case "alarm": {
      // Flat (`{"type":"alarm", ...alarm}`) or nested (`{"type":"alarm","alarm":{...}}`).
      const body = isObject(msg.alarm) ? msg.alarm : msg;
      if (typeof body.id !== "string" && typeof body.id !== "number") return "invalid";
      const { type: _t, ...alarm } = body;
      sink.alarm({ ...(alarm as unknown as Alarm), id: String(body.id) });
      return "alarm";
    }
    case "incident": {
      if (isObject(msg.incident)) {
        const inc = msg.incident;
        if (typeof inc.id !== "string" && typeof inc.id !== "number") return "invalid";
        sink.incident({ ...(inc as unknown as Incident), id: String(inc.id) });
        return "incident";
      }
      if (typeof msg.id !== "string" && typeof msg.id !== "number") return "invalid";
      const { type: _t, ...incident } = msg;
      // In the flat form the envelope's `type` shadows the incident's category; the server may
      // send it as `incident_type`. An empty type means "keep the category already known".
      const category = typeof msg.incident_type === "string" ? msg.incident_type : "";
      sink.incident({ ...(incident as unknown as Incident), id: String(msg.id), type: category });
      return "incident";
    }
    case "lagged": {
      const missed = typeof msg.missed === "number" && msg.missed >= 0 ? msg.missed : 0;
      sink.lagged(missed);
      return "lagged";
    }
    default:
      return "ignored";
  }
}

/** Query string of the stream endpoints. */
export function streamQuery(sub: Subscription, bbox: Bbox | null, types: string[], token: string | null): string {
  const q: string[] = [`metric=${encodeURIComponent(sub.metric)}`, `res=${sub.res}`];
  if (bbox) q.push(`bbox=${bbox.map((v) => v.toFixed(6)).join(",")}`);
  if (types.length) q.push(`types=${types.join(",")}`);
  // Browsers cannot set an Authorization header on WebSocket or EventSource.
  if (token) q.push(`access_token=${encodeURIComponent(token)}`);
  return q.join("&");
}

/** Reconnect delay: 1 s doubling to 15 s, with ±20% jitter drawn from `random`. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(15000, 1000 * Math.pow(2, Math.max(0, attempt)));
  return Math.round(base * (0.8 + 0.4 * random()));
}

export type StreamStatus = "connecting" | "open-ws" | "open-sse" | "closed" | "reconnecting";

export interface StreamOptions {
  sub: Subscription;
  bbox: Bbox | null;
  types: string[];
  token: () => string | null;
  /** Parsed, dispatched messages (when `raw` is not given). */
  sink?: StreamSink;
  /** Every message as received (text), instead of parsing and dispatching to `sink`. */
  raw?: (data: unknown) => void;
  onStatus?: (s: StreamStatus, detail?: string) => void;
  /** After each message: what it was and how long parsing and handling took (ms). */
  onMessage?: (result: DispatchResult, ms: number) => void;
  /** Absolute base, e.g. `http://host:8080`; defaults to the page's origin. */
  origin?: string;
}

/** Live-stream connection with WebSocket → SSE fallback and automatic reconnect. */
export class StreamClient {
  private ws: WebSocket | null = null;
  private es: EventSource | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private wsFailures = 0;
  private stopped = false;
  private opened = false;
  messages = 0;
  missedTotal = 0;

  constructor(private readonly opts: StreamOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.ws?.close();
    this.es?.close();
    this.ws = null;
    this.es = null;
    this.opts.onStatus?.("closed");
  }

  private origin(): string {
    return this.opts.origin ?? globalThis.location.origin;
  }

  private handle(data: unknown): void {
    this.messages++;
    if (this.opts.raw) {
      this.opts.raw(data);
      return;
    }
    const sink = this.opts.sink;
    if (!sink) return;
    const t0 = performance.now();
    const r = dispatchStreamMessage(data, this.opts.sub, {
      ...sink,
      lagged: (missed) => {
        this.missedTotal += missed;
        sink.lagged(missed);
      },
    });
    this.opts.onMessage?.(r, performance.now() - t0);
  }

  private connect(): void {
    if (this.stopped) return;
    this.opts.onStatus?.(this.attempt === 0 ? "connecting" : "reconnecting");
    const q = streamQuery(this.opts.sub, this.opts.bbox, this.opts.types, this.opts.token());
    this.opened = false;
    // After two WebSocket attempts that never opened (a proxy without upgrade support), use SSE.
    if (this.wsFailures < 2 && typeof WebSocket !== "undefined") {
      const url = `${this.origin().replace(/^http/, "ws")}/api/v1/stream?${q}`;
      const ws = new WebSocket(url);
      this.ws = ws;
      ws.onopen = () => {
        this.opened = true;
        this.attempt = 0;
        this.wsFailures = 0;
        this.opts.onStatus?.("open-ws");
      };
      ws.onmessage = (ev) => this.handle(ev.data);
      ws.onclose = () => {
        if (this.ws !== ws) return;
        this.ws = null;
        if (!this.opened) this.wsFailures++;
        this.scheduleReconnect();
      };
      ws.onerror = () => {
        // onclose follows; nothing else to do here.
      };
      return;
    }
    const es = new EventSource(`${this.origin()}/api/v1/stream/sse?${q}`);
    this.es = es;
    es.onopen = () => {
      this.opened = true;
      this.attempt = 0;
      this.opts.onStatus?.("open-sse");
    };
    // Messages may come as unnamed events or as events named after their type.
    es.onmessage = (ev) => this.handle(ev.data);
    for (const t of ["cells", "alarm", "incident", "lagged"]) es.addEventListener(t, (ev) => this.handle((ev as MessageEvent).data));
    es.onerror = () => {
      if (this.es !== es) return;
      es.close();
      this.es = null;
      // Try WebSocket again on the next round in case it was a transient failure.
      this.wsFailures = 0;
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = backoffMs(this.attempt++);
    this.opts.onStatus?.("reconnecting", `retry in ${(delay / 1000).toFixed(1)} s`);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
