// The live map: hexes on a non-blank canvas (pixels and window.__cbStats), and a live stream
// update that changes a cell.

import { join } from "node:path";
import { assert, until } from "../lib/check.mjs";

const BACKGROUND = [0xf4, 0xf1, 0xea]; // the map's paper colour (map-view.ts)

/** Counts canvas pixels that differ from the background, and their distinct colours (sampled). */
async function canvasPixels(page) {
  return page.evaluate((bg) => {
    const c = document.querySelector('[data-testid="map-canvas"]');
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let painted = 0;
    const colours = new Set();
    for (let i = 0; i < d.length; i += 4) {
      if (Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1]) + Math.abs(d[i + 2] - bg[2]) > 6) {
        painted++;
        if (painted % 7 === 0) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      }
    }
    return { painted, colours: colours.size, total: d.length / 4 };
  }, BACKGROUND);
}

async function setLayer(page, key, on) {
  const box = page.locator(`[data-testid="layer-${key}"]`);
  if ((await box.isChecked()) !== on) await box.click();
}

/** Waits until the map has drawn a frame after the last change. */
async function settle(page) {
  const f = await page.evaluate(() => window.__cbStats.frames);
  await until(() => page.evaluate((n) => window.__cbStats.frames > n, f), { timeout: 5000, what: "a new frame" });
  await page.waitForTimeout(100);
}

/** Chooses a metric and resolution in the map controls; resolves once the new snapshot is drawn. */
async function switchCells(page, metric, res) {
  const before = await page.evaluate(() => window.__cbStats.snapshots);
  await page.selectOption('[data-testid="metric-select"]', metric);
  await page.selectOption('[data-testid="res-select"]', String(res));
  await until(() => page.evaluate((n) => window.__cbStats.snapshots > n && window.__cbStats.hexes > 0, before), { timeout: 30000, what: `the ${metric} res-${res} snapshot` });
  await settle(page);
}

export async function mapRendersHexes({ page, art }) {
  const stats = await until(() => page.evaluate(() => window.__cbStats && window.__cbStats.hexes > 0 && window.__cbStats.frames > 0 && window.__cbStats.hexesDrawn > 0 && { ...window.__cbStats, frameTimes: undefined, updateTimes: undefined, parseTimes: undefined, scanFrameTimes: undefined }), {
    timeout: 60000,
    what: "__cbStats.hexes > 0 and hexes drawn",
  });
  // The hex layer alone: switch off roads, buildings and sensors, then count painted pixels.
  for (const k of ["roads", "buildings", "sensors"]) await setLayer(page, k, false);
  await settle(page);
  const hexOnly = await canvasPixels(page);
  for (const k of ["roads", "buildings", "sensors"]) await setLayer(page, k, true);
  await settle(page);
  const all = await canvasPixels(page);
  console.log(`     ${stats.hexes} hexes held, ${stats.hexesDrawn} drawn; hex layer paints ${hexOnly.painted} of ${hexOnly.total} pixels (${hexOnly.colours} colours); with roads, buildings and sensors ${all.painted}`);
  assert(hexOnly.painted >= 20 * stats.hexesDrawn || hexOnly.painted > 0.01 * hexOnly.total, `hex layer nearly blank: ${hexOnly.painted} painted pixels for ${stats.hexesDrawn} hexes`);
  assert(all.painted > hexOnly.painted, "roads, buildings and sensors add nothing to the canvas");
  assert(all.colours > 10, `canvas looks blank: ${all.colours} distinct colours`);
  const attribution = await page.textContent('[data-testid="attribution"]');
  assert(attribution.includes("© OpenStreetMap contributors"), `attribution missing: ${attribution}`);
  await page.screenshot({ path: join(art, "dashboard.png") });

  // Another metric at a finer resolution: the feed starts a new generation and the map refills.
  await switchCells(page, "power", 10);
  const power = await page.evaluate(() => ({ hexes: window.__cbStats.hexes, drawn: window.__cbStats.hexesDrawn }));
  for (const k of ["roads", "buildings", "sensors"]) await setLayer(page, k, false);
  await settle(page);
  const powerPixels = await canvasPixels(page);
  for (const k of ["roads", "buildings", "sensors"]) await setLayer(page, k, true);
  await settle(page);
  console.log(`     power at res 10: ${power.hexes} hexes, ${power.drawn} drawn, hex layer paints ${powerPixels.painted} pixels (${powerPixels.colours} colours)`);
  assert(power.hexes > stats.hexes, `power at res 10 shows ${power.hexes} hexes, not more than pm25 at res 9 (${stats.hexes})`);
  assert(powerPixels.painted > 0.01 * powerPixels.total && powerPixels.colours > 1, `power hex layer nearly blank: ${JSON.stringify(powerPixels)}`);
  await page.screenshot({ path: join(art, "dashboard-power-res10.png") });
  await switchCells(page, "pm25", 9);
}

export async function liveUpdateChangesCell({ page, api, art }) {
  const status = await until(() => page.evaluate(() => document.querySelector('[data-testid="stream-status"]')?.dataset.state === "open-ws" && document.querySelector('[data-testid="stream-status"]').textContent), {
    timeout: 30000,
    what: "the WebSocket stream to open",
  });
  const start = await page.evaluate(() => ({ changed: window.__cbStats.cellsChanged, updates: window.__cbStats.updates, feed: window.__cbStats.feed }));
  const change = await until(
    () => page.evaluate((n) => window.__cbStats.cellsChanged > n && { ...window.__cbStats.lastChange, updates: window.__cbStats.updates, parse: window.__cbStats.parseTimes.at(-1) }, start.changed),
    { timeout: 90000, interval: 500, what: "a stream update that changes a cell's value" },
  );
  const { metric, res } = await page.evaluate(() => ({ metric: document.querySelector('[data-testid="metric-select"]').value, res: Number(document.querySelector('[data-testid="res-select"]').value.replace(/\D/g, "")) }));
  console.log(`     ${status}; feed ${start.feed}; cell ${change.cell} (${metric}, res ${res}): mean ${change.before.mean} → ${change.after.mean}, count ${change.before.count} → ${change.after.count}, last ${change.before.last} → ${change.after.last}`);
  assert(start.feed === "worker", `stream parsed on the main thread (feed ${start.feed}), not in the worker`);
  assert(change.before.mean !== change.after.mean || change.before.count !== change.after.count || change.before.last !== change.after.last, "the reported change changed nothing");
  // The server agrees that the cell exists with data at this metric and resolution.
  const city = await api.get("/api/v1/city");
  const cells = await api.get(`/api/v1/cells?res=${res}&metric=${encodeURIComponent(metric)}&format=compact&bbox=${city.bbox.join(",")}`);
  const row = cells.cells.find((r) => r[0] === change.cell);
  assert(row, `cell ${change.cell} is not in the server's /api/v1/cells`);
  assert(row[2] >= 1, `the server holds no readings for ${change.cell}`);
  await page.screenshot({ path: join(art, "live-update.png") });
}
