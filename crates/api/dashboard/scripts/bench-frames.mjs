#!/usr/bin/env node
// Frame-time benchmark in headless Chromium (--disable-gpu): 50,000 H3 cells, all of them
// changing once per second, nearly all on screen (zoom 10.3). Four configurations in the same
// run, interleaved round by round:
//   raster   the dashboard's renderer (cull + scanline fill into a pixel buffer, hexraster.ts)
//   batched  peer: canvas paths batched by colour bucket, 512 cells per fill (hexlayer.ts)
//   naive    peer: one path + fillStyle + fill() per cell (same cached geometry)
//   floor    hex layer switched off: stream parsing, apply and compositing only
// Reported per configuration: the JS time of frames that re-rendered the hexes, the time to parse
// and apply one 50k-cell update, the gaps between successive requestAnimationFrame callbacks
// (which include rasterisation and compositing), and long tasks (> 50 ms).
//
//   npm run build && node scripts/bench-frames.mjs [--rounds 3] [--seconds 15] [--cells 50000]

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { launch, ROOT, startMock, summary } from "./browser.mjs";

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const ROUNDS = arg("rounds", 3);
const SECONDS = arg("seconds", 15);
const CELLS = arg("cells", 50000);
const PORT = arg("port", 8091);
const VIEW = { width: 1600, height: 950 };
const ZOOM = arg("zoom", 10.3);

const mock = await startMock(PORT, ["--cells", String(CELLS), "--update-fraction", "1", "--hz", "1"]);
const browser = await launch();
const results = { raster: [], batched: [], naive: [], floor: [] };

async function measure(config) {
  const page = await browser.newPage({ viewport: VIEW, deviceScaleFactor: 1 });
  const renderer = config === "floor" ? "raster" : config;
  // Zoom 10.3 puts the whole 50,000-cell disk (about 80 km across) on a 1600x950 canvas.
  await page.goto(`http://127.0.0.1:${PORT}/?renderer=${renderer}&zoom=${ZOOM}`);
  await page.waitForFunction((n) => window.__cbStats && window.__cbStats.hexes >= n && window.__cbStats.updates >= 2, CELLS, { timeout: 180000 });
  if (config === "floor") await page.evaluate(() => document.querySelector('[data-testid="layer-hexes"]').click());
  await page.waitForTimeout(1500);
  const out = await page.evaluate(async (seconds) => {
    const st = window.__cbStats;
    const f0 = st.frameTimes.length;
    const u0 = st.updateTimes.length;
    const updates0 = st.updates;
    st.frameTimes.length = 0;
    st.updateTimes.length = 0;
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
    void f0;
    void u0;
    return {
      frameTimes: st.frameTimes.slice(),
      updateTimes: st.updateTimes.slice(),
      updates: st.updates - updates0,
      hexes: st.hexes,
      hexesDrawn: st.hexesDrawn,
      zoom: null,
      gaps,
      longTasks,
    };
  }, SECONDS);
  await page.close();
  return out;
}

for (let r = 0; r < ROUNDS; r++) {
  for (const config of r % 2 ? ["naive", "floor", "batched", "raster"] : ["raster", "batched", "naive", "floor"]) {
    const m = await measure(config);
    results[config].push(m);
    const f = summary(m.frameTimes);
    const g = summary(m.gaps);
    console.log(
      `round ${r + 1} ${config.padEnd(7)} updates ${m.updates} hexes ${m.hexes} drawn ${m.hexesDrawn} | frame median ${f.median?.toFixed(1)} p95 ${f.p95?.toFixed(1)} max ${f.max?.toFixed(1)} ms | update median ${summary(m.updateTimes).median?.toFixed(1)} ms | rAF gap p95 ${g.p95?.toFixed(1)} max ${g.max?.toFixed(1)} ms | long tasks ${m.longTasks.length}`,
    );
  }
}
await browser.close();
mock.kill();

const median = (xs) => summary(xs).median;
const table = {};
for (const [config, runs] of Object.entries(results)) {
  table[config] = {
    frame_ms_median: median(runs.map((m) => summary(m.frameTimes).median)),
    frame_ms_p95: median(runs.map((m) => summary(m.frameTimes).p95)),
    frame_ms_max: Math.max(...runs.map((m) => summary(m.frameTimes).max)),
    update_ms_median: median(runs.map((m) => summary(m.updateTimes).median)),
    raf_gap_ms_p95: median(runs.map((m) => summary(m.gaps).p95)),
    raf_gap_ms_max: Math.max(...runs.map((m) => summary(m.gaps).max)),
    long_tasks_per_s: median(runs.map((m) => m.longTasks.length / SECONDS)),
    updates_per_s: median(runs.map((m) => m.updates / SECONDS)),
    hexes: runs[0]?.hexes,
    hexes_drawn: runs[0]?.hexesDrawn,
  };
}
const ratio = table.naive.frame_ms_median / table.raster.frame_ms_median;
const ratioBatched = table.batched.frame_ms_median / table.raster.frame_ms_median;
const report = { cells: CELLS, rounds: ROUNDS, seconds: SECONDS, viewport: VIEW, zoom: ZOOM, table, naive_over_raster_frame_median: ratio, batched_over_raster_frame_median: ratioBatched, raw: results };
mkdirSync(join(ROOT, "artifacts"), { recursive: true });
writeFileSync(join(ROOT, "artifacts", "bench-frames.json"), JSON.stringify(report, null, 1));
console.log("\n| configuration | hex frame median (ms) | p95 | max | update parse+apply median (ms) | rAF gap p95 (ms) | rAF gap max (ms) | long tasks/s | updates/s |");
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const [c, t] of Object.entries(table)) {
  console.log(`| ${c} | ${t.frame_ms_median.toFixed(1)} | ${t.frame_ms_p95.toFixed(1)} | ${t.frame_ms_max.toFixed(1)} | ${t.update_ms_median.toFixed(1)} | ${t.raf_gap_ms_p95.toFixed(1)} | ${t.raf_gap_ms_max.toFixed(1)} | ${t.long_tasks_per_s.toFixed(2)} | ${t.updates_per_s.toFixed(2)} |`);
}
console.log(`\nhex frame median ratios: naive / raster ${ratio.toFixed(1)}x, batched / raster ${ratioBatched.toFixed(1)}x  (raw data: artifacts/bench-frames.json)`);
