// The cell feed: everything that turns the server's cell JSON (the live stream and the
// `/api/v1/cells` snapshot) into columnar frames, off the main thread.
//
// `FeedCore` owns the stream connection, the snapshot fetches, JSON parsing and the cell key
// table. It runs inside a dedicated Web Worker (`feed-worker.ts`), so a 2 MB update is parsed
// without blocking the page; the main thread receives transferred typed arrays and applies them
// with `CellStore.applyFrame`. Where workers are unavailable (unit tests, old browsers) the same
// core runs inline on the main thread (`?feed=inline` forces it, for the frame benchmark).
//
// Generations: every `start` (a new subscription, token or reconnect policy) begins a new
// generation with a new key table. Events carry their generation and the main side drops events
// of older ones, so frames in flight from a previous metric never reach the new store.

import { toProblem } from "../api/client";
import type { Alarm, Bbox, Incident, Problem } from "../api/types";
import { CellKeyTable, frameTransfer, type CellFrame } from "./cellframe";
import { StreamClient, type StreamStatus, type Subscription } from "./stream";

/** Main thread → feed. */
export type FeedRequest =
  | { op: "start"; gen: number; origin: string; sub: Subscription; bbox: Bbox | null; types: string[]; token: string | null; scan?: boolean }
  | { op: "snapshot"; gen: number; url: string; token: string | null }
  | { op: "stop" };

/** Feed → main thread. */
export type FeedEvent =
  | { kind: "status"; gen: number; status: StreamStatus; detail?: string }
  | { kind: "cells"; gen: number; frame: CellFrame; parseMs: number; scanned: boolean }
  | { kind: "snapshot"; gen: number; frame: CellFrame; unit: string | null; fetchMs: number; parseMs: number; bytes: number }
  | { kind: "snapshot-error"; gen: number; problem: Problem }
  | { kind: "alarm"; gen: number; alarm: Alarm }
  | { kind: "incident"; gen: number; incident: Incident }
  | { kind: "lagged"; gen: number; missed: number };

export type FeedPost = (e: FeedEvent, transfer: ArrayBuffer[]) => void;

/** What the core needs from its environment (injected by tests). */
export interface FeedDeps {
  fetch?: (url: string, init?: RequestInit) => Promise<Response>;
  /** Opens the live stream; the default is a `StreamClient` (WebSocket, then SSE). */
  openStream?: (req: Extract<FeedRequest, { op: "start" }>, onData: (data: unknown) => void, onStatus: (s: StreamStatus, detail?: string) => void) => { stop(): void };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The feed's work, wherever it runs. */
export class FeedCore {
  private gen = -1;
  private table = new CellKeyTable();
  private stream: { stop(): void } | null = null;
  private sub: Subscription | null = null;
  /** Whether cells messages are scanned from their text (else always JSON.parse). */
  private scan = true;

  constructor(
    private readonly post: FeedPost,
    private readonly deps: FeedDeps = {},
  ) {}

  handle(req: FeedRequest): void {
    switch (req.op) {
      case "start":
        this.stopStream();
        this.gen = req.gen;
        this.sub = req.sub;
        this.scan = req.scan !== false;
        this.table = new CellKeyTable();
        this.stream = (this.deps.openStream ?? openStreamClient)(
          req,
          (data) => this.onStreamData(data, req.gen),
          (status, detail) => this.post({ kind: "status", gen: req.gen, status, ...(detail ? { detail } : {}) }, []),
        );
        return;
      case "snapshot":
        if (req.gen === this.gen) void this.snapshot(req.gen, req.url, req.token);
        return;
      case "stop":
        this.stopStream();
        this.gen = -1;
        this.sub = null;
        return;
    }
  }

  private stopStream(): void {
    this.stream?.stop();
    this.stream = null;
  }

  /**
   * One raw stream message (text or an already parsed value). Cells become a frame with the
   * parse + encode time (scanned straight from the text in the server's compact form, else
   * JSON.parse + encode); alarms, incidents and lagged notices pass through; anything else
   * (stats, other subscriptions, malformed text, earlier generations) is dropped here.
   */
  onStreamData(data: unknown, gen: number = this.gen): void {
    // A message from a connection of an earlier generation (already closing): not parsed at all.
    if (gen !== this.gen) return;
    const t0 = performance.now();
    // Cells messages in the server's compact form are read without JSON.parse.
    if (this.scan && typeof data === "string" && this.sub && data.startsWith('{"type":"cells"')) {
      const r = this.table.scanMessage(data, this.sub);
      if (r?.kind === "other") return;
      if (r) {
        this.post({ kind: "cells", gen, frame: r.frame, parseMs: performance.now() - t0, scanned: true }, frameTransfer(r.frame));
        return;
      }
    }
    let msg: unknown = data;
    if (typeof data === "string") {
      try {
        msg = JSON.parse(data);
      } catch {
        return;
      }
    }
    if (!isObject(msg) || typeof msg.type !== "string") return;
    switch (msg.type) {
      case "cells": {
        if (!Array.isArray(msg.cells)) return;
        // Left over from before a subscription change.
        if (!this.sub || msg.metric !== this.sub.metric || msg.res !== this.sub.res) return;
        const frame = this.table.encode(msg.cells);
        this.post({ kind: "cells", gen, frame, parseMs: performance.now() - t0, scanned: false }, frameTransfer(frame));
        return;
      }
      case "alarm": {
        const body = isObject(msg.alarm) ? msg.alarm : msg;
        if (typeof body.id !== "string" && typeof body.id !== "number") return;
        const { type: _t, ...alarm } = body;
        this.post({ kind: "alarm", gen, alarm: { ...(alarm as unknown as Alarm), id: String(body.id) } }, []);
        return;
      }
      case "incident": {
        if (isObject(msg.incident)) {
          const inc = msg.incident;
          if (typeof inc.id !== "string" && typeof inc.id !== "number") return;
          this.post({ kind: "incident", gen, incident: { ...(inc as unknown as Incident), id: String(inc.id) } }, []);
          return;
        }
        if (typeof msg.id !== "string" && typeof msg.id !== "number") return;
        const { type: _t, ...incident } = msg;
        const category = typeof msg.incident_type === "string" ? msg.incident_type : "";
        this.post({ kind: "incident", gen, incident: { ...(incident as unknown as Incident), id: String(msg.id), type: category } }, []);
        return;
      }
      case "lagged": {
        const missed = typeof msg.missed === "number" && msg.missed >= 0 ? msg.missed : 0;
        this.post({ kind: "lagged", gen, missed }, []);
        return;
      }
      default:
        return;
    }
  }

  private async snapshot(gen: number, url: string, token: string | null): Promise<void> {
    const f = this.deps.fetch ?? ((u: string, init?: RequestInit) => fetch(u, init));
    const t0 = performance.now();
    let text: string;
    let res: Response;
    try {
      const headers: Record<string, string> = { Accept: "application/json, application/problem+json" };
      if (token) headers.Authorization = `Bearer ${token}`;
      res = await f(url, { headers });
      text = await res.text();
    } catch (e) {
      this.post({ kind: "snapshot-error", gen, problem: { type: "about:blank", title: "Network error", status: 0, detail: String(e) } }, []);
      return;
    }
    if (!res.ok) {
      this.post({ kind: "snapshot-error", gen, problem: toProblem(res.status, res.statusText, text) }, []);
      return;
    }
    const t1 = performance.now();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      this.post({ kind: "snapshot-error", gen, problem: { type: "about:blank", title: "Malformed cells", status: res.status, detail: "the cells response is not JSON" } }, []);
      return;
    }
    if (gen !== this.gen) return; // superseded while fetching
    const cells = isObject(body) && Array.isArray(body.cells) ? body.cells : [];
    const unit = isObject(body) && typeof body.unit === "string" ? body.unit : null;
    const frame = this.table.encode(cells);
    this.post({ kind: "snapshot", gen, frame, unit, fetchMs: t1 - t0, parseMs: performance.now() - t1, bytes: text.length }, frameTransfer(frame));
  }
}

function openStreamClient(req: Extract<FeedRequest, { op: "start" }>, onData: (data: unknown) => void, onStatus: (s: StreamStatus, detail?: string) => void): { stop(): void } {
  const client = new StreamClient({
    sub: req.sub,
    bbox: req.bbox,
    types: req.types,
    token: () => req.token,
    origin: req.origin,
    raw: onData,
    onStatus,
  });
  client.start();
  return client;
}
