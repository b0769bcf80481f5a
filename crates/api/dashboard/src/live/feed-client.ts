// The page's side of the cell feed: starts the feed worker (or the inline fallback), sends it
// requests, and hands the events of the current generation to the app.

import { ApiError } from "../api/client";
import type { Alarm, Bbox, Incident } from "../api/types";
import type { CellFrame } from "./cellframe";
import { FeedCore, type FeedDeps, type FeedEvent, type FeedRequest } from "./feed";
import type { StreamStatus, Subscription } from "./stream";

export type FeedMode = "worker" | "inline";

export interface FeedHandlers {
  /**
   * Changed cells; `parseMs` is the feed's parse + encode time (off the main thread in a worker),
   * `scanned` whether the text was scanned directly rather than JSON.parse'd.
   */
  cells(frame: CellFrame, parseMs: number, scanned: boolean): void;
  /** A full snapshot of the subscription's cells. */
  snapshot(frame: CellFrame, info: { unit: string | null; fetchMs: number; parseMs: number; bytes: number }): void;
  snapshotError(err: ApiError): void;
  alarm(alarm: Alarm): void;
  incident(incident: Incident): void;
  lagged(missed: number): void;
  status(s: StreamStatus, detail?: string): void;
}

export interface FeedStart {
  sub: Subscription;
  bbox: Bbox | null;
  types: string[];
  token: string | null;
  /** Scan compact cells messages from their text (default); false: always JSON.parse. */
  scan?: boolean;
}

/** Creates the worker, or returns null where workers are unavailable or fail to start. */
function spawnWorker(): Worker | null {
  if (typeof Worker === "undefined") return null;
  try {
    return new Worker(new URL("./feed-worker.ts", import.meta.url), { type: "module", name: "citybrain-feed" });
  } catch {
    return null;
  }
}

export class CellFeed {
  readonly mode: FeedMode;
  private readonly worker: Worker | null;
  private readonly inline: FeedCore | null;
  private gen = 0;
  /** Stream messages received in the current and earlier generations. */
  messages = 0;
  /** Updates the server reported as missed (lagged), all generations. */
  missedTotal = 0;

  constructor(
    private readonly handlers: FeedHandlers,
    prefer: FeedMode = "worker",
    private readonly origin: string = globalThis.location?.origin ?? "",
    /** Transports for the inline core (tests). */
    deps: FeedDeps = {},
  ) {
    this.worker = prefer === "worker" ? spawnWorker() : null;
    if (this.worker) {
      this.mode = "worker";
      this.inline = null;
      this.worker.onmessage = (ev: MessageEvent<FeedEvent>) => this.receive(ev.data);
      this.worker.onerror = (ev) => {
        // A worker that fails to load (e.g. a proxy blocking the chunk) leaves the stream dead;
        // report it like a stream failure so the status shows it.
        this.handlers.status("closed", `feed worker failed: ${ev.message || "load error"}`);
      };
    } else {
      this.mode = "inline";
      this.inline = new FeedCore((e) => this.receive(e), deps);
    }
  }

  private send(req: FeedRequest): void {
    if (this.worker) this.worker.postMessage(req);
    else this.inline?.handle(req);
  }

  /** Starts a new generation: a new stream connection and key table. */
  start(s: FeedStart): void {
    this.gen++;
    this.send({ op: "start", gen: this.gen, origin: this.origin, sub: s.sub, bbox: s.bbox, types: s.types, token: s.token, scan: s.scan !== false });
  }

  /** Asks for a snapshot of the current generation's cells (`url` relative to the origin or absolute). */
  snapshot(url: string, token: string | null): void {
    const abs = /^https?:/.test(url) ? url : `${this.origin}${url}`;
    this.send({ op: "snapshot", gen: this.gen, url: abs, token });
  }

  stop(): void {
    this.gen++;
    this.send({ op: "stop" });
  }

  private receive(e: FeedEvent): void {
    if (e.gen !== this.gen) return;
    const h = this.handlers;
    switch (e.kind) {
      case "status":
        h.status(e.status, e.detail);
        return;
      case "cells":
        this.messages++;
        h.cells(e.frame, e.parseMs, e.scanned);
        return;
      case "snapshot":
        h.snapshot(e.frame, { unit: e.unit, fetchMs: e.fetchMs, parseMs: e.parseMs, bytes: e.bytes });
        return;
      case "snapshot-error":
        h.snapshotError(new ApiError(e.problem));
        return;
      case "alarm":
        this.messages++;
        h.alarm(e.alarm);
        return;
      case "incident":
        this.messages++;
        h.incident(e.incident);
        return;
      case "lagged":
        this.messages++;
        this.missedTotal += e.missed;
        h.lagged(e.missed);
        return;
    }
  }
}
