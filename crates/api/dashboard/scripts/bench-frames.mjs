#!/usr/bin/env node
// Frame-time benchmark in headless Chromium (--disable-gpu): 50,000 H3 cells, all of them
// changing once per second, nearly all on screen (zoom 10.3). Configurations in the same run,
// interleaved round by round (order reversed every other round):
//   worker   the dashboard as shipped: cells messages scanned from their text in the feed worker
//            (no JSON.parse), frames applied on the main thread, hexes recoloured through the
//            id buffer of the scanline rasteriser (hexraster.ts)
//   json     peer: the same, but the worker JSON.parses every message (?parse=json)
//   inline   peer: JSON.parse on the main thread (?feed=inline&parse=json), where parsing
//            happened before the feed worker existed
//   naive    peer: worker feed, one canvas path + fill() per cell (same cached geometry)
//   batched  peer: worker feed, canvas paths batched by colour bucket (slow; opt in)
//   floor    worker feed with the hex layer switched off: receiving, applying and compositing
//            only; the lower limit of this page on this machine
// After each measurement window the map is panned ten times with only the hex layer on: those
// frames re-scan every visible cell into the id buffer (the cost after a drag or zoom).
// Reported per configuration: the JS time of frames during the window (each live update is one
// frame: recolour, putImageData, composite), of the pan frames, the main-thread
// time of one 50k-cell update, the feed's parse time (in the worker, or on the main thread for
// inline), the gaps between successive requestAnimationFrame callbacks (which include
// rasterisation and compositing), and long tasks (> 50 ms) per second.
//
//   npm run build && node scripts/bench-frames.mjs [--rounds 3] [--seconds 15] [--cells 50000]
//       [--configs worker,json,inline,naive,floor] [--out artifacts/bench-frames.json]
//   Against a running server instead of the mock (cells are whatever the server has):
//   node scripts/bench-frames.mjs --url http://127.0.0.1:8080/ --metric power --res 10 --min-hexes 1

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { launch, ROOT, startMock, summary } from "./browser.mjs";

const argv = process.argv.slice(2);
const arg = (name, def) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : def;
};
const ROUNDS = Number(arg("rounds", 3));
const SECONDS = Number(arg("seconds", 15));
const CELLS = Number(arg("cells", 50000));
const PORT = Number(arg("port", 8091));
const ZOOM = Number(arg("zoom", 10.3));
const URL_ARG = arg("url", null);
const METRIC = arg("metric", null);
const RES = arg("res", null);
const MIN_HEXES = Number(arg("min-hexes", CELLS));
const CONFIGS = String(arg("configs", "worker,json,inline,naive,floor")).split(",").filter(Boolean);
const OUT = resolve(arg("out", join(ROOT, "artifacts", "bench-frames.json")));
const VIEW = { width: 1600, height: 950 };

const KNOWN = { worker: "feed=worker", json: "feed=worker&parse=json", inline: "feed=inline&parse=json", naive: "renderer=naive", batched: "renderer=batched", floor: "feed=worker" };
for (const c of CONFIGS) if (!(c in KNOWN)) throw new Error(`unknown configuration ${c} (known: ${Object.keys(KNOWN).join(", ")})`);

const mock = URL_ARG ? null : await startMock(PORT, ["--cells", String(CELLS), "--update-fraction", "1", "--hz", "1"]);
const BASE = URL_ARG ?? `http://127.0.0.1:${PORT}/`;
const browser = await launch();
const results = Object.fromEntries(CONFIGS.map((c) => [c, []]));

async function measure(config) {
  const page = await browser.newPage({ viewport: VIEW, deviceScaleFactor: 1 });
  const q = [KNOWN[config], Number.isFinite(ZOOM) ? `zoom=${ZOOM}` : "", METRIC ? `metric=${METRIC}` : "", RES ? `res=${RES}` : ""].filter(Boolean).join("&");
  await page.goto(`${BASE}?${q}`);
  await page.waitForFunction((n) => window.__cbStats && window.__cbStats.hexes >= n && window.__cbStats.updates >= 2, MIN_HEXES, { timeout: 180000 });
  if (config === "floor") await page.evaluate(() => document.querySelector('[data-testid="layer-hexes"]').click());
  await page.waitForTimeout(1500);
  const out = await page.evaluate(async (seconds) => {
    const st = window.__cbStats;
    const updates0 = st.updates;
    const changed0 = st.cellsChanged;
    st.frameTimes.length = 0;
    st.updateTimes.length = 0;
    st.parseTimes.length = 0;
    const gaps = [];
    const longTasks = [];
    const obs = new PerformanceObserver((l) => l.getEntries().forEach((e) => longTasks.push(e.duration)));
    try {
      obs.observe({ type: "longtask", buffered: false });
    } catch {
      // longtask unsupported: leave empty
    }
    let last = performance.now();
    let running = true;
    const loop = (t) => {
      gaps.push(t - last);
      last = t;
      if (running) requestAnimationFrame(loop);
    };
    requestAnimationFrame((t) => {
      last = t;
      requestAnimationFrame(loop);
    });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    running = false;
    obs.disconnect();
    const window_ = {
      frameTimes: st.frameTimes.slice(),
      updateTimes: st.updateTimes.slice(),
      parseTimes: st.parseTimes.slice(),
      updates: st.updates - updates0,
      cellsChanged: st.cellsChanged - changed0,
      scanned: st.scannedUpdates,
      hexes: st.hexes,
      hexesDrawn: st.hexesDrawn,
    };
    // View changes: pan by an arrow key ten times; each settles into a frame that re-scans the
    // cells (the id buffer is rebuilt), the cost a user sees after dragging or zooming. Roads,
    // buildings and sensors are switched off first so the frame holds the hex layer only.
    for (const k of ["roads", "buildings", "sensors"]) {
      const box = document.querySelector(`[data-testid="layer-${k}"]`);
      if (box.checked) box.click();
    }
    await new Promise((r) => setTimeout(r, 300));
    st.scanFrameTimes.length = 0;
    const canvas = document.querySelector('[data-testid="map-canvas"]');
    for (let i = 0; i < 10; i++) {
      canvas.dispatchEvent(new KeyboardEvent("keydown", { key: i % 2 ? "ArrowLeft" : "ArrowRight", bubbles: true }));
      await new Promise((r) => setTimeout(r, 250));
    }
    return {
      ...window_,
      scanFrameTimes: st.scanFrameTimes.slice(),
      feed: st.feed,
      parse: st.parse,
      gaps,
      longTasks,
    };
  }, SECONDS);
  await page.close();
  return out;
}

const f1 = (v) => (Number.isFinite(v) ? v.toFixed(1) : "–");
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 ? [...CONFIGS].reverse() : CONFIGS;
  for (const config of order) {
    const m = await measure(config);
    results[config].push(m);
    const f = summary(m.frameTimes);
    const g = summary(m.gaps);
    console.log(
      `round ${r + 1} ${config.padEnd(7)} feed ${m.feed}/${m.parse} updates ${m.updates} hexes ${m.hexes} drawn ${m.hexesDrawn} | hex frame median ${f1(f.median)} p95 ${f1(f.p95)} max ${f1(f.max)} ms | main update median ${f1(summary(m.updateTimes).median)} parse median ${f1(summary(m.parseTimes).median)} ms | rAF gap p95 ${f1(g.p95)} max ${f1(g.max)} ms | long tasks ${m.longTasks.length}`,
    );
  }
}
await browser.close();
mock?.kill();

const median = (xs) => summary(xs.filter((x) => Number.isFinite(x))).median;
const table = {};
for (const [config, runs] of Object.entries(results)) {
  table[config] = {
    frame_ms_median: median(runs.map((m) => summary(m.frameTimes).median)),
    frame_ms_p95: median(runs.map((m) => summary(m.frameTimes).p95)),
    frame_ms_max: Math.max(...runs.map((m) => summary(m.frameTimes).max)),
    pan_frame_ms_median: median(runs.map((m) => summary(m.scanFrameTimes).median)),
    pan_frame_ms_p95: median(runs.map((m) => summary(m.scanFrameTimes).p95)),
    update_main_ms_median: median(runs.map((m) => summary(m.updateTimes).median)),
    update_main_ms_p95: median(runs.map((m) => summary(m.updateTimes).p95)),
    parse_ms_median: median(runs.map((m) => summary(m.parseTimes).median)),
    parse_ms_p95: median(runs.map((m) => summary(m.parseTimes).p95)),
    raf_gap_ms_p95: median(runs.map((m) => summary(m.gaps).p95)),
    raf_gap_ms_max: Math.max(...runs.map((m) => summary(m.gaps).max)),
    long_tasks_per_s: median(runs.map((m) => m.longTasks.length / SECONDS)),
    updates_per_s: median(runs.map((m) => m.updates / SECONDS)),
    hexes: runs[0]?.hexes,
    hexes_drawn: runs[0]?.hexesDrawn,
    feed: runs[0]?.feed,
    parse: runs[0]?.parse,
  };
}
const report = { base: URL_ARG ? BASE : `mock --cells ${CELLS}`, cells: CELLS, rounds: ROUNDS, seconds: SECONDS, viewport: VIEW, zoom: ZOOM, metric: METRIC, res: RES, table, raw: results };
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify(report, null, 1));
console.log(
  "\n| configuration | update frame median (ms) | p95 | max | pan frame median (ms) | p95 | main-thread update median (ms) | p95 | parse median (ms) | p95 | rAF gap p95 (ms) | rAF gap max (ms) | long tasks/s | updates/s |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const [c, t] of Object.entries(table)) {
  console.log(
    `| ${c} | ${f1(t.frame_ms_median)} | ${f1(t.frame_ms_p95)} | ${f1(t.frame_ms_max)} | ${f1(t.pan_frame_ms_median)} | ${f1(t.pan_frame_ms_p95)} | ${f1(t.update_main_ms_median)} | ${f1(t.update_main_ms_p95)} | ${f1(t.parse_ms_median)} | ${f1(t.parse_ms_p95)} | ${f1(t.raf_gap_ms_p95)} | ${f1(t.raf_gap_ms_max)} | ${t.long_tasks_per_s.toFixed(2)} | ${t.updates_per_s.toFixed(2)} |`,
  );
}
const ratio = (a, b) => (table[a] && table[b] ? `${(table[a].frame_ms_median / table[b].frame_ms_median).toFixed(1)}x` : "–");
const pratio = (a, b) => (table[a] && table[b] ? `${(table[a].parse_ms_median / table[b].parse_ms_median).toFixed(1)}x` : "–");
console.log(`\nupdate frame median ratios: inline / worker ${ratio("inline", "worker")}, naive / worker ${ratio("naive", "worker")}; parse median ratio json / worker ${pratio("json", "worker")}  (raw data: ${OUT})`);
