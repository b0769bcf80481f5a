import { latLngToCell } from "h3-js";
import { describe, expect, it } from "vitest";
import type { Alarm, Incident } from "../src/api/types";
import { backoffMs, dispatchStreamMessage, streamQuery, type StreamSink } from "../src/live/stream";
import { decodeCompactRows, type CellAggregate } from "../src/map/cells";

const CELL = latLngToCell(60.17, 24.94, 9);

function recorder() {
  const log: { cells: CellAggregate[][]; rejected: number[]; alarms: Alarm[]; incidents: Incident[]; lagged: number[] } = { cells: [], rejected: [], alarms: [], incidents: [], lagged: [] };
  const sink: StreamSink = {
    cells: (rows) => {
      const { cells, rejected } = decodeCompactRows(rows);
      log.cells.push(cells);
      log.rejected.push(rejected);
    },
    alarm: (a) => log.alarms.push(a),
    incident: (i) => log.incidents.push(i),
    lagged: (n) => log.lagged.push(n),
  };
  return { log, sink };
}
const sub = { metric: "pm25", res: 9 };

describe("stream messages", () => {
  it("delivers changed cells of the subscribed metric and resolution", () => {
    const { log, sink } = recorder();
    const msg = JSON.stringify({ type: "cells", res: 9, metric: "pm25", cells: [[CELL, 40.5, 12, 10, 80, 41], ["bogus", 1, 1, 1, 1, 1]] });
    expect(dispatchStreamMessage(msg, sub, sink)).toBe("cells");
    expect(log.cells[0]).toEqual([{ cell: CELL, mean: 40.5, count: 12, min: 10, max: 80, last: 41 }]);
    expect(log.rejected[0]).toBe(1);
  });

  it("ignores cells of another metric or resolution (left over from a previous subscription)", () => {
    const { log, sink } = recorder();
    expect(dispatchStreamMessage({ type: "cells", res: 8, metric: "pm25", cells: [] }, sub, sink)).toBe("ignored");
    expect(dispatchStreamMessage({ type: "cells", res: 9, metric: "no2", cells: [] }, sub, sink)).toBe("ignored");
    expect(log.cells).toHaveLength(0);
  });

  it("reports lagged with the number of missed updates so the client re-reads the snapshot", () => {
    const { log, sink } = recorder();
    expect(dispatchStreamMessage('{"type":"lagged","missed":17}', sub, sink)).toBe("lagged");
    expect(log.lagged).toEqual([17]);
  });

  it("treats a lagged notice with a missing or bad count as zero missed, but still lagged", () => {
    const { log, sink } = recorder();
    expect(dispatchStreamMessage({ type: "lagged" }, sub, sink)).toBe("lagged");
    expect(dispatchStreamMessage({ type: "lagged", missed: -4 }, sub, sink)).toBe("lagged");
    expect(log.lagged).toEqual([0, 0]);
  });

  it("passes alarms through without the envelope type", () => {
    const { log, sink } = recorder();
    const r = dispatchStreamMessage({ type: "alarm", id: "AL-1", rule_id: "r", rule_name: "PM2.5", severity: "critical", state: "open", metric: "pm25", value: 80, threshold: 75, opened_at: "2026-01-01T00:00:00Z" }, sub, sink);
    expect(r).toBe("alarm");
    expect(log.alarms[0]?.id).toBe("AL-1");
    expect((log.alarms[0] as unknown as Record<string, unknown>).type).toBeUndefined();
  });

  it("accepts nested alarm and incident bodies", () => {
    const { log, sink } = recorder();
    dispatchStreamMessage({ type: "alarm", alarm: { id: 5, state: "cleared" } }, sub, sink);
    dispatchStreamMessage({ type: "incident", incident: { id: "INC-2", type: "waste", state: "DISPATCHED" } }, sub, sink);
    expect(log.alarms[0]?.id).toBe("5");
    expect(log.incidents[0]?.type).toBe("waste");
  });

  it("takes a flat incident's category from incident_type, else leaves it empty for merging", () => {
    const { log, sink } = recorder();
    dispatchStreamMessage({ type: "incident", id: "INC-1", state: "CLOSED", incident_type: "noise" }, sub, sink);
    dispatchStreamMessage({ type: "incident", id: "INC-1", state: "CLOSED" }, sub, sink);
    expect(log.incidents.map((i) => i.type)).toEqual(["noise", ""]);
  });

  it("rejects malformed messages without throwing", () => {
    const { log, sink } = recorder();
    expect(dispatchStreamMessage("{not json", sub, sink)).toBe("invalid");
    expect(dispatchStreamMessage("[]", sub, sink)).toBe("invalid");
    expect(dispatchStreamMessage({ type: "cells", res: 9, metric: "pm25", cells: "x" }, sub, sink)).toBe("invalid");
    expect(dispatchStreamMessage({ type: "incident" }, sub, sink)).toBe("invalid");
    expect(dispatchStreamMessage({ type: "future-kind" }, sub, sink)).toBe("ignored");
    expect(log.cells.length + log.alarms.length + log.incidents.length + log.lagged.length).toBe(0);
  });
});

describe("stream connection helpers", () => {
  it("builds the subscription query", () => {
    expect(streamQuery(sub, [24.9, 60.15, 24.99, 60.185], ["cells", "alarms"], null)).toBe("metric=pm25&res=9&bbox=24.900000,60.150000,24.990000,60.185000&types=cells,alarms");
    expect(streamQuery(sub, null, [], "a b")).toBe("metric=pm25&res=9&access_token=a%20b");
  });

  it("backs off exponentially to a 15 s cap with ±20% jitter", () => {
    expect(backoffMs(0, () => 0.5)).toBe(1000);
    expect(backoffMs(1, () => 0.5)).toBe(2000);
    expect(backoffMs(3, () => 0.5)).toBe(8000);
    expect(backoffMs(10, () => 0.5)).toBe(15000);
    expect(backoffMs(10, () => 0)).toBe(12000);
    expect(backoffMs(10, () => 1)).toBe(18000);
  });
});
