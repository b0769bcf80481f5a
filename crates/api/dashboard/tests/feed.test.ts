import { cellToParent, gridDisk, latLngToCell } from "h3-js";
import { describe, expect, it } from "vitest";
import { CellKeyTable, FRAME_STRIDE, frameRows, type CellFrame, type ScanResult } from "../src/live/cellframe";
import { FeedCore, type FeedEvent, type FeedRequest } from "../src/live/feed";
import { CellFeed } from "../src/live/feed-client";
import { CellStore } from "../src/map/cells";

const CENTRE = latLngToCell(60.1699, 24.9384, 9);
const DISK = gridDisk(CENTRE, 6); // 127 res-9 cells

/** Deterministic pseudo-random numbers (mulberry32) so a failure replays. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A batch of rows over DISK with some malformed ones mixed in. */
function randomRows(r: () => number, n: number): unknown[] {
  const rows: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const u = r();
    const cell = DISK[Math.floor(r() * DISK.length)] as string;
    const v = Math.round(r() * 1000) / 10;
    if (u < 0.04) rows.push(["zzz", v, 1, v, v, v]);
    else if (u < 0.07) rows.push([cell, v, -1, v, v, v]);
    else if (u < 0.09) rows.push([cell, v]);
    else if (u < 0.11) rows.push([cellToParent(cell, 8), v, 1, v, v, v]); // wrong resolution
    else if (u < 0.13) rows.push([cell.toUpperCase(), v, 2, v, v, v]);
    else if (u < 0.15) rows.push([cell, null, 0, null, null, null]);
    else rows.push([cell, v, Math.floor(r() * 50), v - 1, v + 1, v]);
  }
  return rows;
}

function state(s: CellStore): unknown {
  const out: Record<string, number[]> = {};
  for (let i = 0; i < s.size; i++) {
    if (!s.present[i]) continue;
    out[s.ids[i] as string] = [s.mean.data[i], s.count.data[i], s.min.data[i], s.max.data[i], s.last.data[i]] as number[];
  }
  return out;
}

describe("cell key table", () => {
  it("sends an id once, then only its key", () => {
    const t = new CellKeyTable();
    const a = DISK[0] as string;
    const b = DISK[1] as string;
    const f1 = t.encode([[a, 1, 2, 0.5, 1.5, 1.2], [b, 3, 4, 2, 4, 3]]);
    expect(f1.firstKey).toBe(0);
    expect(f1.newIds).toEqual([a, b]);
    expect(Array.from(f1.keys)).toEqual([0, 1]);
    expect(Array.from(f1.values)).toEqual([1, 2, 0.5, 1.5, 1.2, 3, 4, 2, 4, 3]);
    const f2 = t.encode([[b, 5, 6, 5, 5, 5], [DISK[2], 7, 8, 7, 7, 7]]);
    expect(f2.firstKey).toBe(2);
    expect(f2.newIds).toEqual([DISK[2]]);
    expect(Array.from(f2.keys)).toEqual([1, 2]);
  });

  it("maps upper-case and 0x forms to the key of the canonical id", () => {
    const t = new CellKeyTable();
    const a = DISK[0] as string;
    const f = t.encode([[a, 1, 1, 1, 1, 1], [a.toUpperCase(), 2, 1, 2, 2, 2], [`0x${a}`, 3, 1, 3, 3, 3]]);
    expect(Array.from(f.keys)).toEqual([0, 0, 0]);
    expect(f.newIds).toEqual([a]);
  });

  it("rejects malformed rows without assigning keys, and reads null as NaN", () => {
    const t = new CellKeyTable();
    const a = DISK[0] as string;
    const f = t.encode([["bogus", 1, 1, 1, 1, 1], [a, 1, "3", 1, 1, 1], [a, 1, -2, 1, 1, 1], [a, 1], null, { cell: a }, [a, null, 0, null, null, null]]);
    expect(f.rejected).toBe(6);
    expect(frameRows(f)).toBe(1);
    expect(t.size).toBe(1);
    expect(f.values[1]).toBe(0);
    expect(Number.isNaN(f.values[0])).toBe(true);
    expect(f.values.length).toBe(FRAME_STRIDE);
  });
});

describe("applying frames", () => {
  it("gives the same cells and counts as applying the rows directly", () => {
    for (const seed of [1, 2, 3, 42]) {
      const r = rng(seed);
      const direct = new CellStore();
      const framed = new CellStore();
      direct.reset("pm25", 9);
      framed.reset("pm25", 9);
      const table = new CellKeyTable();
      for (let batch = 0; batch < 6; batch++) {
        const rows = randomRows(r, 80);
        const snapshot = batch === 3;
        const a = snapshot ? direct.replaceRows(rows, batch) : direct.applyRows(rows, batch);
        const frame = table.encode(rows);
        const b = snapshot ? framed.replaceFrame(frame, batch) : framed.applyFrame(frame, batch);
        expect({ updated: b.updated, added: b.added, rejected: b.rejected }).toEqual(a);
        expect(state(framed)).toEqual(state(direct));
        expect(framed.presentCount).toBe(direct.presentCount);
      }
    }
  });

  it("counts rows that change a present cell and reports the last change", () => {
    const s = new CellStore();
    s.reset("pm25", 9);
    const t = new CellKeyTable();
    const [a, b] = DISK as [string, string];
    expect(s.applyFrame(t.encode([[a, 10, 1, 10, 10, 10], [b, 20, 1, 20, 20, 20]]), 0).changed).toBe(0); // new cells are not changes
    const same = s.applyFrame(t.encode([[a, 10, 1, 10, 10, 10]]), 1);
    expect(same.changed).toBe(0);
    const r = s.applyFrame(t.encode([[a, 10, 1, 10, 10, 10], [b, 22, 2, 20, 24, 24]]), 2);
    expect(r.changed).toBe(1);
    expect(r.lastChange).toEqual({ cell: b, before: { mean: 20, count: 1, last: 20 }, after: { mean: 22, count: 2, last: 24 } });
  });

  it("treats a no-data cell that stays without data as unchanged", () => {
    const s = new CellStore();
    s.reset("pm25", 9);
    const t = new CellKeyTable();
    const a = DISK[0] as string;
    s.applyFrame(t.encode([[a, null, 0, null, null, null]]), 0);
    expect(s.applyFrame(t.encode([[a, null, 0, null, null, null]]), 1).changed).toBe(0);
  });

  it("keeps slots when the sender starts a new key table", () => {
    const s = new CellStore();
    s.reset("pm25", 9);
    s.applyFrame(new CellKeyTable().encode(DISK.slice(0, 5).map((c, i) => [c, i, 1, i, i, i])), 0);
    s.resetKeys();
    const r = s.applyFrame(new CellKeyTable().encode([[DISK[4], 9, 1, 9, 9, 9], [DISK[5], 5, 1, 5, 5, 5]]), 1);
    expect(r.added).toBe(1);
    expect(r.updated).toBe(1);
    expect(s.size).toBe(6);
    expect(s.get(DISK[4] as string)?.mean).toBe(9);
  });

  it("rejects every row of a key whose id is not a cell of the store's resolution", () => {
    const s = new CellStore();
    s.reset("pm25", 9);
    const t = new CellKeyTable();
    const coarse = cellToParent(CENTRE, 7);
    expect(s.applyFrame(t.encode([[coarse, 1, 1, 1, 1, 1]]), 0).rejected).toBe(1);
    expect(s.applyFrame(t.encode([[coarse, 2, 1, 2, 2, 2], [CENTRE, 1, 1, 1, 1, 1]]), 1)).toMatchObject({ rejected: 1, added: 1 });
    expect(s.size).toBe(1);
  });

  it("leaves keys it never received unknown instead of guessing", () => {
    const s = new CellStore();
    s.reset("pm25", 9);
    const t = new CellKeyTable();
    t.encode([[DISK[0], 1, 1, 1, 1, 1]]); // this frame is lost
    const f = t.encode([[DISK[0], 2, 1, 2, 2, 2], [DISK[1], 3, 1, 3, 3, 3]]);
    const r = s.applyFrame(f, 0);
    expect(r).toMatchObject({ added: 1, rejected: 1 });
    expect(s.get(DISK[0] as string)).toBeNull();
  });
});

function fakeCore() {
  const events: FeedEvent[] = [];
  const streams: { req: Extract<FeedRequest, { op: "start" }>; stopped: boolean; push: (d: unknown) => void }[] = [];
  const requests: { url: string; auth: string | undefined }[] = [];
  let reply: { status: number; body: string } = { status: 200, body: "{}" };
  const core = new FeedCore((e) => events.push(e), {
    openStream: (req, onData) => {
      const s = { req, stopped: false, push: onData };
      streams.push(s);
      return { stop: () => (s.stopped = true) };
    },
    fetch: async (url, init) => {
      requests.push({ url, auth: (init?.headers as Record<string, string> | undefined)?.Authorization });
      return new Response(reply.body, { status: reply.status, statusText: reply.status === 200 ? "OK" : "Forbidden" });
    },
  });
  return { core, events, streams, requests, setReply: (status: number, body: string) => (reply = { status, body }) };
}

const start = (gen: number, token: string | null = null): FeedRequest => ({ op: "start", gen, origin: "http://h", sub: { metric: "pm25", res: 9 }, bbox: null, types: ["cells"], token });

describe("feed core", () => {
  it("turns cells messages of its subscription into frames and drops the rest", () => {
    const { core, events } = fakeCore();
    core.handle(start(1));
    core.onStreamData(JSON.stringify({ type: "cells", res: 9, metric: "pm25", cells: [[CENTRE, 1, 2, 0, 3, 1]] }));
    core.onStreamData(JSON.stringify({ type: "cells", res: 8, metric: "pm25", cells: [[CENTRE, 1, 2, 0, 3, 1]] }));
    core.onStreamData(JSON.stringify({ type: "stats", observations: 5 }));
    core.onStreamData("{not json");
    expect(events.map((e) => e.kind)).toEqual(["cells"]);
    const e = events[0] as Extract<FeedEvent, { kind: "cells" }>;
    expect(e.gen).toBe(1);
    expect(e.frame.newIds).toEqual([CENTRE]);
    expect(e.parseMs).toBeGreaterThanOrEqual(0);
  });

  it("passes alarms, incidents (nested and flat) and lagged notices through", () => {
    const { core, events } = fakeCore();
    core.handle(start(3));
    core.onStreamData(JSON.stringify({ type: "alarm", alarm: { id: "ALM-000001", state: "open" } }));
    core.onStreamData(JSON.stringify({ type: "incident", incident: { id: "INC-000002", type: "air_quality", state: "REPORTED" }, incident_type: "air_quality" }));
    core.onStreamData(JSON.stringify({ type: "incident", id: 7, state: "DISPATCHED", incident_type: "flooding" }));
    core.onStreamData(JSON.stringify({ type: "lagged", missed: 4 }));
    expect(events.map((e) => e.kind)).toEqual(["alarm", "incident", "incident", "lagged"]);
    expect((events[1] as Extract<FeedEvent, { kind: "incident" }>).incident.type).toBe("air_quality");
    expect((events[2] as Extract<FeedEvent, { kind: "incident" }>).incident).toMatchObject({ id: "7", type: "flooding" });
    expect((events[3] as Extract<FeedEvent, { kind: "lagged" }>).missed).toBe(4);
  });

  it("starts a new key table and stops the old stream on each start", () => {
    const { core, events, streams } = fakeCore();
    core.handle(start(1));
    const msg = JSON.stringify({ type: "cells", res: 9, metric: "pm25", cells: [[CENTRE, 1, 2, 0, 3, 1]] });
    core.onStreamData(msg);
    core.onStreamData(msg);
    core.handle(start(2));
    core.onStreamData(msg);
    expect(streams.map((s) => s.stopped)).toEqual([true, false]);
    const frames = events.map((e) => e as Extract<FeedEvent, { kind: "cells" }>);
    expect(frames.map((f) => [f.gen, f.frame.newIds.length])).toEqual([
      [1, 1],
      [1, 0],
      [2, 1],
    ]);
  });

  it("fetches snapshots with the token and encodes them with the stream's keys", async () => {
    const { core, events, requests, setReply } = fakeCore();
    core.handle(start(5, "tok"));
    setReply(200, JSON.stringify({ res: 9, metric: "pm25", unit: "µg/m³", cells: [[CENTRE, 4, 1, 4, 4, 4]] }));
    core.handle({ op: "snapshot", gen: 5, url: "http://h/api/v1/cells?res=9", token: "tok" });
    await new Promise((r) => setTimeout(r, 10));
    core.onStreamData(JSON.stringify({ type: "cells", res: 9, metric: "pm25", cells: [[CENTRE, 5, 2, 4, 5, 5]] }));
    expect(requests).toEqual([{ url: "http://h/api/v1/cells?res=9", auth: "Bearer tok" }]);
    const snap = events[0] as Extract<FeedEvent, { kind: "snapshot" }>;
    expect(snap).toMatchObject({ kind: "snapshot", gen: 5, unit: "µg/m³" });
    expect(snap.frame.newIds).toEqual([CENTRE]);
    expect((events[1] as Extract<FeedEvent, { kind: "cells" }>).frame.newIds).toEqual([]);
  });

  it("reports a refused snapshot as the server's problem", async () => {
    const { core, events, setReply } = fakeCore();
    core.handle(start(1));
    setReply(403, JSON.stringify({ type: "urn:citybrain:problem:forbidden", title: "Forbidden", status: 403, detail: "no" }));
    core.handle({ op: "snapshot", gen: 1, url: "http://h/x", token: null });
    await new Promise((r) => setTimeout(r, 10));
    expect(events).toEqual([{ kind: "snapshot-error", gen: 1, problem: { type: "urn:citybrain:problem:forbidden", title: "Forbidden", status: 403, detail: "no" } }]);
  });

  it("ignores snapshot requests of an older generation", async () => {
    const { core, requests } = fakeCore();
    core.handle(start(2));
    core.handle({ op: "snapshot", gen: 1, url: "http://h/x", token: null });
    await new Promise((r) => setTimeout(r, 10));
    expect(requests).toHaveLength(0);
  });
});

describe("cell feed (inline)", () => {
  it("hands over only the current generation's events", () => {
    const pushes: ((d: unknown) => void)[] = [];
    const got: CellFrame[] = [];
    const lagged: number[] = [];
    const feed = new CellFeed(
      {
        cells: (f) => got.push(f),
        snapshot: () => undefined,
        snapshotError: () => undefined,
        alarm: () => undefined,
        incident: () => undefined,
        lagged: (n) => lagged.push(n),
        status: () => undefined,
      },
      "inline",
      "http://h",
      { openStream: (_req, onData) => (pushes.push(onData), { stop: () => undefined }) },
    );
    expect(feed.mode).toBe("inline");
    const msg = JSON.stringify({ type: "cells", res: 9, metric: "pm25", cells: [[CENTRE, 1, 2, 0, 3, 1]] });
    feed.start({ sub: { metric: "pm25", res: 9 }, bbox: null, types: ["cells"], token: null });
    const first = pushes[0] as (d: unknown) => void;
    feed.start({ sub: { metric: "pm25", res: 9 }, bbox: null, types: ["cells"], token: null });
    first(msg); // a late message on the first generation's connection is dropped
    (pushes[1] as (d: unknown) => void)(msg);
    (pushes[1] as (d: unknown) => void)(JSON.stringify({ type: "lagged", missed: 3 }));
    expect(got).toHaveLength(1);
    expect(feed.messages).toBe(2);
    expect(lagged).toEqual([3]);
    expect(feed.missedTotal).toBe(3);
  });
});

describe("compact-form scanner", () => {
  const SUB = { metric: "pm25", res: 9 };

  /** Numbers as JSON writes them: integers, decimals, negatives, tiny and huge, long mantissas. */
  function randomNumber(r: () => number): number | null {
    const u = r();
    if (u < 0.08) return null;
    if (u < 0.2) return Math.floor(r() * 1000);
    if (u < 0.3) return -Math.round(r() * 1e4) / 100;
    if (u < 0.4) return r() * 1e-9;
    if (u < 0.45) return r() * 1e22;
    if (u < 0.5) return r(); // 16-17 significant digits
    if (u < 0.52) return -0;
    return Math.round(r() * 1e5) / 100;
  }

  function sameFrame(a: CellFrame, b: CellFrame): void {
    expect(Array.from(a.keys)).toEqual(Array.from(b.keys));
    expect(a.values.length).toBe(b.values.length);
    for (let i = 0; i < a.values.length; i++) expect(Object.is(a.values[i], b.values[i]) || a.values[i] === b.values[i]).toBe(true);
    expect(a.newIds).toEqual(b.newIds);
    expect(a.firstKey).toBe(b.firstKey);
    expect(a.rejected).toBe(b.rejected);
  }

  it("gives exactly the frame of JSON.parse + encode, message after message", () => {
    for (const seed of [7, 8, 9]) {
      const r = rng(seed);
      const scanned = new CellKeyTable();
      const parsed = new CellKeyTable();
      for (let m = 0; m < 5; m++) {
        const rows: unknown[] = [];
        for (let i = 0; i < 200; i++) {
          const cell = DISK[Math.floor(r() * DISK.length)] as string;
          const count = r() < 0.05 ? -1 : r() < 0.05 ? null : Math.floor(r() * 30);
          rows.push([cell, randomNumber(r), count, randomNumber(r), randomNumber(r), randomNumber(r)]);
        }
        const text = JSON.stringify({ type: "cells", res: 9, metric: "pm25", cells: rows });
        const s = scanned.scanMessage(text, SUB);
        expect(s?.kind).toBe("frame");
        sameFrame((s as Extract<ScanResult, { kind: "frame" }>).frame, parsed.encode((JSON.parse(text) as { cells: unknown[] }).cells));
      }
    }
  });

  it("reads the server's rendering, null aggregates, an empty list and 16-digit ids", () => {
    const t = new CellKeyTable();
    const s = t.scanMessage(`{"type":"cells","res":9,"metric":"pm25","cells":[["${CENTRE}",12.3,4,10.1,15.2,12.9],["${DISK[1]}",null,0,null,null,null],["1234567890abcdef",1e-7,1,-2.5E+3,0,-0]]}`, SUB);
    expect(s?.kind).toBe("frame");
    const f = (s as Extract<ScanResult, { kind: "frame" }>).frame;
    expect(f.newIds).toEqual([CENTRE, DISK[1], "1234567890abcdef"]);
    expect(Array.from(f.values.slice(0, 5))).toEqual([12.3, 4, 10.1, 15.2, 12.9]);
    expect(Number.isNaN(f.values[5])).toBe(true);
    expect(f.values[6]).toBe(0);
    expect(Array.from(f.values.slice(10, 14))).toEqual([1e-7, 1, -2500, 0]);
    expect(Object.is(f.values[14], -0)).toBe(true);
    const empty = t.scanMessage('{"type":"cells","res":9,"metric":"pm25","cells":[]}', SUB);
    expect(empty?.kind === "frame" && empty.frame.keys.length).toBe(0);
  });

  it("shares keys with encode on the same table", () => {
    const t = new CellKeyTable();
    t.encode([[DISK[0], 1, 1, 1, 1, 1]]);
    const s = t.scanMessage(`{"type":"cells","res":9,"metric":"pm25","cells":[["${DISK[1]}",1,1,1,1,1],["${DISK[0]}",2,1,2,2,2]]}`, SUB);
    const f = (s as Extract<ScanResult, { kind: "frame" }>).frame;
    expect(Array.from(f.keys)).toEqual([1, 0]);
    expect(f.newIds).toEqual([DISK[1]]);
    expect(Array.from(t.encode([[(DISK[1] as string).toUpperCase(), 3, 1, 3, 3, 3]]).keys)).toEqual([1]);
  });

  it("does not read the rows of another subscription", () => {
    const t = new CellKeyTable();
    expect(t.scanMessage(`{"type":"cells","res":8,"metric":"pm25","cells":[["${CENTRE}",1,1,1,1,1]]}`, SUB)).toEqual({ kind: "other", res: 8, metric: "pm25" });
    expect(t.scanMessage(`{"type":"cells","res":9,"metric":"no2","cells":[["${CENTRE}",1,1,1,1,1]]}`, SUB)?.kind).toBe("other");
    expect(t.size).toBe(0);
  });

  it("gives up on anything but the compact form and leaves the table as it was", () => {
    const t = new CellKeyTable();
    t.encode([[DISK[0], 1, 1, 1, 1, 1]]);
    const good = `["${DISK[1]}",1,1,1,1,1]`;
    const bad = [
      `{ "type": "cells", "res": 9, "metric": "pm25", "cells": [${good}] }`,
      `{"type":"cells","res":9,"metric":"pm25","cells":[${good},["${(DISK[2] as string).toUpperCase()}",1,1,1,1,1]]}`,
      `{"type":"cells","res":9,"metric":"pm25","cells":[${good},["0x${DISK[2]}",1,1,1,1,1]]}`,
      `{"type":"cells","res":9,"metric":"pm25","cells":[${good},["${DISK[2]}",1,1,1,1]]}`,
      `{"type":"cells","res":9,"metric":"pm25","cells":[${good},["${DISK[2]}",1,1,1,1,1,1]]}`,
      `{"type":"cells","res":9,"metric":"pm25","cells":[${good},["${DISK[2]}",1,1,1,1,"x"]]}`,
      `{"type":"cells","res":9,"metric":"pm25","cells":[${good},["abc",1,1,1,1,1]]}`,
      `{"type":"cells","res":9,"metric":"pm25","cells":[${good}],"extra":1}`,
      `{"type":"cells","res":9,"metric":"pm25","cells":[${good}`,
      `{"type":"cells","res":9,"metric":"pm25","cells":[${good},]}`,
      `{"type":"cells","res":9,"metric":"pm\\u0032","cells":[${good}]}`,
      `{"type":"cells","metric":"pm25","res":9,"cells":[${good}]}`,
    ];
    for (const text of bad) {
      expect(t.scanMessage(text, SUB), text).toBeNull();
      expect(t.size).toBe(1);
    }
    // The table still works, and hands out key 1 next.
    const s = t.scanMessage(`{"type":"cells","res":9,"metric":"pm25","cells":[${good}]}`, SUB);
    expect(s?.kind === "frame" && Array.from(s.frame.keys)).toEqual([1]);
  });

  it("grows its hash table past thousands of ids", () => {
    const many = gridDisk(CENTRE, 40); // 4,921 cells
    const t = new CellKeyTable();
    const text = JSON.stringify({ type: "cells", res: 9, metric: "pm25", cells: many.map((c, i) => [c, i, 1, i, i, i]) });
    const f1 = t.scanMessage(text, SUB) as Extract<ScanResult, { kind: "frame" }>;
    const f2 = t.scanMessage(text, SUB) as Extract<ScanResult, { kind: "frame" }>;
    expect(f1.frame.newIds).toHaveLength(many.length);
    expect(f2.frame.newIds).toHaveLength(0);
    expect(Array.from(f2.frame.keys)).toEqual(many.map((_, i) => i));
  });
});

describe("feed core parsing paths", () => {
  it("scans compact messages and JSON.parses the rest, with the same result", () => {
    const { core, events } = fakeCore();
    core.handle(start(1));
    const rows = [[CENTRE, 1.5, 2, 0, 3, 1]];
    core.onStreamData(JSON.stringify({ type: "cells", res: 9, metric: "pm25", cells: rows }));
    core.onStreamData(JSON.stringify({ type: "cells", res: 9, metric: "pm25", cells: rows }, null, 1));
    const [a, b] = events as Extract<FeedEvent, { kind: "cells" }>[];
    expect([a?.scanned, b?.scanned]).toEqual([true, false]);
    expect(Array.from(a?.frame.values ?? [])).toEqual(Array.from(b?.frame.values ?? []));
    expect(Array.from(b?.frame.keys ?? [])).toEqual([0]);
  });

  it("always JSON.parses when scanning is off", () => {
    const { core, events } = fakeCore();
    core.handle({ ...(start(1) as Extract<FeedRequest, { op: "start" }>), scan: false });
    core.onStreamData(JSON.stringify({ type: "cells", res: 9, metric: "pm25", cells: [[CENTRE, 1, 2, 0, 3, 1]] }));
    expect((events[0] as Extract<FeedEvent, { kind: "cells" }>).scanned).toBe(false);
  });
});
