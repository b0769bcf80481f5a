#!/usr/bin/env node
// Browser smoke test in headless Chromium against the mock API serving the built bundle:
//  1. the map canvas is not blank and the store holds hexes (screenshot kept in artifacts/);
//  2. a live stream update changes at least one cell's value;
//  3. an operator token dispatches, starts, resolves and closes an incident of its district
//     (team set on dispatch), and the row shows each new state;
//  4. a viewer token's dispatch is refused: the problem banner shows 403 and the state stays;
//  5. clicking a hex opens the details panel with its aggregates;
//  6. the scenario runner (planner token) shows progress and a baseline-vs-variant table;
//  7. "lagged" from the server triggers a full re-read of the cells.
// Prints "N passed, N failed" and exits non-zero on any failure.
//
//   npm run build && node scripts/smoke.mjs

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { launch, ROOT, startMock } from "./browser.mjs";

const PORT = 8093;
const BASE = `http://127.0.0.1:${PORT}/`;
const ART = join(ROOT, "artifacts");
mkdirSync(ART, { recursive: true });

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e instanceof Error ? e.message : e}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

const mock = await startMock(PORT, ["--lag-every", "7"]);
// Whatever fails below (the browser not starting included), the mock does not outlive us.
process.on("exit", () => mock.kill());
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1600, height: 950 } });
const errors = [];
page.on("pageerror", (e) => errors.push(e.message));
let cellsRequests = 0;
page.on("request", (r) => {
  if (r.url().includes("/api/v1/cells?")) cellsRequests++;
});

async function setToken(token) {
  await page.fill('[data-testid="token-input"]', token);
  await page.click('[data-testid="token-save"]');
  // The incident list re-reads after a token change.
  await page.waitForTimeout(800);
}
function row(id) {
  return page.locator(`[data-testid="incident-row"][data-incident-id="${id}"]`);
}

try {
  await page.goto(BASE);
  await page.waitForFunction(() => window.__cbStats && window.__cbStats.hexes > 0 && window.__cbStats.frames > 0, null, { timeout: 30000 });

  await check("map renders hexes on a non-blank canvas", async () => {
    await page.waitForTimeout(1500);
    const stats = await page.evaluate(() => ({ hexes: window.__cbStats.hexes, drawn: window.__cbStats.hexesDrawn }));
    assert(stats.hexes > 50 && stats.drawn > 50, `too few hexes: ${JSON.stringify(stats)}`);
    const distinct = await page.evaluate(() => {
      const c = document.querySelector('[data-testid="map-canvas"]');
      const ctx = c.getContext("2d");
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      const colours = new Set();
      for (let i = 0; i < d.length; i += 4 * 97) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      return colours.size;
    });
    assert(distinct > 20, `canvas looks blank: ${distinct} distinct colours`);
    const attribution = await page.textContent('[data-testid="attribution"]');
    assert(attribution.includes("© OpenStreetMap contributors"), "attribution missing");
    await page.screenshot({ path: join(ART, "dashboard.png") });
  });

  await check("a live update changes a cell (parsed in the feed worker)", async () => {
    const before = await page.evaluate(() => ({ updates: window.__cbStats.updates, changed: window.__cbStats.cellsChanged }));
    await page.waitForFunction((u) => window.__cbStats.updates >= u.updates + 2 && window.__cbStats.cellsChanged > u.changed, before, { timeout: 15000 });
    const after = await page.evaluate(() => ({ at: window.__cbStats.lastUpdateAt, feed: window.__cbStats.feed, parsed: window.__cbStats.parseTimes.length, change: window.__cbStats.lastChange }));
    assert(after.at > 0, "no update time recorded");
    assert(after.feed === "worker" && after.parsed > 0, `feed ${after.feed}, ${after.parsed} parse times`);
    const c = after.change;
    assert(c && (c.before.mean !== c.after.mean || c.before.count !== c.after.count || c.before.last !== c.after.last), `no value changed: ${JSON.stringify(c)}`);
  });

  // The operator of Kallio acts on a Kallio incident in state REPORTED.
  const ids = await page.$$eval('[data-testid="incident-row"]', (rows) => rows.map((r) => ({ id: r.dataset.incidentId, state: r.dataset.state, text: r.textContent })));
  const target = ids.find((r) => r.state === "REPORTED" && r.text.includes("Kallio"));

  await check("a viewer token cannot dispatch (403 shown, state unchanged)", async () => {
    assert(target, "no REPORTED incident in Kallio");
    await setToken("viewer-demo-token");
    await row(target.id).locator('[data-testid="incident-action-dispatch"]').click();
    await page.waitForSelector('[data-testid="problem-banner"][data-status="403"]', { timeout: 5000 });
    const text = await page.textContent('[data-testid="problem-banner"]');
    assert(text.includes("403") && text.includes("Forbidden"), `banner: ${text}`);
    assert((await row(target.id).getAttribute("data-state")) === "REPORTED", "state changed for a viewer");
    await page.screenshot({ path: join(ART, "viewer-403.png") });
  });

  await check("an operator token dispatches, starts, resolves and closes an incident", async () => {
    assert(target, "no REPORTED incident in Kallio");
    await setToken("operator-demo-token");
    await page.locator('[data-testid="incident-filter"]').selectOption("all");
    await row(target.id).locator('[data-testid="incident-team"]').fill("grid-team-7");
    for (const [action, state] of [
      ["dispatch", "DISPATCHED"],
      ["start", "IN_PROGRESS"],
      ["resolve", "RESOLVED"],
      ["close", "CLOSED"],
    ]) {
      await row(target.id).locator(`[data-testid="incident-action-${action}"]`).click();
      await page.waitForSelector(`[data-testid="incident-row"][data-incident-id="${target.id}"][data-state="${state}"]`, { timeout: 5000 });
    }
    const text = await row(target.id).textContent();
    assert(text.includes("grid-team-7"), "team not shown after dispatch");
    const actions = await row(target.id).locator("button[data-action]").evaluateAll((b) => b.map((x) => x.dataset.action));
    assert(JSON.stringify(actions) === '["reopen"]', `closed incident offers ${actions}`);
  });

  await check("an operator cannot act outside its district (403)", async () => {
    const other = (await page.$$eval('[data-testid="incident-row"]', (rows) => rows.map((r) => ({ id: r.dataset.incidentId, state: r.dataset.state, text: r.textContent })))).find(
      (r) => r.state === "REPORTED" && !r.text.includes("Kallio"),
    );
    assert(other, "no REPORTED incident outside Kallio");
    await row(other.id).locator('[data-testid="incident-action-dispatch"]').click();
    await page.waitForSelector('[data-testid="problem-banner"][data-status="403"]', { timeout: 5000 });
    assert((await row(other.id).getAttribute("data-state")) === "REPORTED", "state changed outside the district");
  });

  await check("clicking a hex opens its details", async () => {
    await page.click('[data-testid="layer-sensors"]'); // so the click hits a hex, not a sensor
    await page.click('[data-testid="zoom-in"]');
    await page.waitForTimeout(500);
    const box = await page.locator('[data-testid="map-canvas"]').boundingBox();
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForSelector('[data-testid="cell-aggregates"]', { timeout: 5000 });
    const title = await page.textContent('[data-testid="details-title"]');
    assert(/^Cell [0-9a-f]{15}$/.test(title.trim()), `details title ${title}`);
    await page.screenshot({ path: join(ART, "cell-details.png") });
  });

  await check("a viewer cannot run a scenario: the 403 problem is shown in the form", async () => {
    await setToken("viewer-demo-token");
    await page.click('[data-testid="view-scenarios"]');
    assert(await page.locator('[data-testid="incidents-panel"], [data-testid="kpi-panel"]').evaluateAll((els) => els.every((e) => e.offsetParent === null)), "the Scenarios view still shows the operations panels");
    await page.fill('[data-testid="scenario-name"]', "viewer attempt");
    await page.click('[data-testid="scenario-run"]');
    await page.waitForSelector('[data-testid="scenario-problem"][data-status="403"]', { timeout: 5000 });
    const text = await page.textContent('[data-testid="scenario-problem"]');
    assert(text.includes("Forbidden") && text.includes("planner"), `problem: ${text}`);
  });

  await check("a traffic scenario runs end to end: form, progress, KPI table, deltas on the map", async () => {
    await setToken("planner-demo-token");
    await page.click('[data-testid="problem-dismiss"]').catch(() => undefined);
    await page.selectOption('[data-testid="scenario-engine"]', "traffic");
    await page.fill('[data-testid="scenario-name"]', "Close two streets, demand +10%");
    // One road from the list, one picked on the map.
    const option = await page.locator('[data-testid="scenario-road-select"] option').nth(5).getAttribute("value");
    await page.selectOption('[data-testid="scenario-road-select"]', option);
    await page.click('[data-testid="scenario-road-add"]');
    await page.click('[data-testid="layer-hexes"]'); // hexes off: the click lands on a road line
    await page.click('[data-testid="scenario-pick-roads"]');
    const box = await page.locator('[data-testid="map-canvas"]').boundingBox();
    let added = false;
    for (const [fx, fy] of [[0.5, 0.5], [0.42, 0.5], [0.5, 0.42], [0.58, 0.5], [0.5, 0.58], [0.46, 0.46], [0.54, 0.54]]) {
      for (let d = -14; d <= 14 && !added; d += 2) {
        await page.mouse.click(box.x + box.width * fx + d, box.y + box.height * fy);
        added = (await page.locator('[data-testid="scenario-road"]').count()) >= 2;
      }
      if (added) break;
    }
    assert(added, "clicking the map picked no road");
    await page.click('[data-testid="scenario-pick-roads"]');
    await page.click('[data-testid="layer-hexes"]');
    await page.fill('[data-testid="scenario-demand-scale"]', "1.1");
    await page.fill('[data-testid="scenario-window-to-s"]', "1800");
    await page.click('[data-testid="scenario-run"]');
    await page.waitForSelector('[data-testid="scenario-progress"]', { timeout: 5000 });
    await page.waitForSelector('[data-testid="scenario-status"][data-status="running"]', { timeout: 5000 });
    const label = await page.textContent('[data-testid="scenario-progress-label"]');
    assert(/running · \w+ · \d+% · ETA/.test(label), `progress label: ${label}`);
    await page.waitForSelector('[data-testid="scenario-table"] tbody tr', { timeout: 15000 });
    const rows = await page.$$eval('[data-testid="scenario-table"] tbody tr', (trs) => trs.map((t) => ({ kpi: t.dataset.kpi, verdict: t.dataset.verdict })));
    assert(rows.length >= 5, `only ${rows.length} KPI rows`);
    const tt = rows.find((r) => r.kpi === "avg_travel_time_s");
    assert(tt && tt.verdict === "worse", `closures should make travel time worse: ${JSON.stringify(tt)}`);
    assert((await page.locator('[data-testid="scenario-chart"] rect').count()) >= 5, "no KPI bars");
    assert((await page.locator('[data-testid="scenario-run-row"][data-status="done"]').count()) >= 1, "the run is not listed as done");
    await page.check('[data-testid="scenario-map-toggle"]');
    await page.waitForSelector('[data-testid="scenario-map-legend"]', { timeout: 5000 });
    await page.waitForFunction(() => window.__cbStats.deltaDrawn > 10, null, { timeout: 5000 });
    await page.screenshot({ path: join(ART, "scenario-traffic.png") });
  });

  await check("feeders are drawn and listed, coloured by loading", async () => {
    await page.waitForSelector('[data-testid="feeder-row"]', { timeout: 5000 });
    const classes = await page.$$eval('[data-testid="feeder-row"]', (trs) => trs.map((t) => t.dataset.loading));
    assert(classes[0] === "over" && classes.includes("high") && classes.includes("ok"), `loading classes ${classes}`);
    await page.click('[data-testid="zoom-home"]'); // the whole city: every feeder in view
    const n = classes.length;
    await page.waitForFunction((k) => window.__cbStats.feedersDrawn === k, n, { timeout: 5000 }).catch(() => undefined);
    const drawn = await page.evaluate(() => window.__cbStats.feedersDrawn);
    assert(drawn === n, `${drawn} feeders drawn, ${n} listed`);
    await page.screenshot({ path: join(ART, "energy-feeders.png") });
    await page.click('[data-testid="view-ops"]');
  });

  await check("the mock answers the scenario contract's errors (401, 403, 404, 409, 422, 429) and cancels", async () => {
    const api = `${BASE}api/v1/scenarios`;
    const auth = (t) => ({ authorization: `Bearer ${t}`, "content-type": "application/json" });
    const post = (t, body) => fetch(api, { method: "POST", headers: t ? auth(t) : { "content-type": "application/json" }, body: JSON.stringify(body) });
    const ok = { name: "energy what-if", engine: "energy", variant: { pv_kwp_per_building: 5 } };
    assert((await post(null, ok)).status === 401, "no token: not 401");
    assert((await post("viewer-demo-token", ok)).status === 403, "viewer: not 403");
    assert((await post("operator-demo-token", ok)).status === 403, "operator: not 403");
    const bad = await post("planner-demo-token", { name: "x", engine: "traffic", variant: { closures: [{ road: "nope" }] } });
    const badBody = await bad.json();
    assert(bad.status === 422 && badBody.detail.startsWith("variant.closures[0].road"), `unknown road: ${bad.status} ${badBody.detail}`);
    assert(bad.headers.get("content-type").startsWith("application/problem+json"), "not a problem+json");
    assert((await fetch(`${api}/scn-999999`, { headers: auth("viewer-demo-token") })).status === 404, "unknown id: not 404");
    const ids = [];
    let last = 202;
    for (let i = 0; i < 12 && last === 202; i++) {
      const r = await post("admin-demo-token", ok);
      last = r.status;
      if (r.status === 202) {
        assert(r.headers.get("location") === `/api/v1/scenarios/${(await r.clone().json()).id}`, "Location header");
        ids.push((await r.json()).id);
      }
    }
    assert(last === 429 && ids.length <= 8, `queue limit: ${ids.length} accepted, then ${last}`);
    assert((await fetch(`${api}/${ids[0]}/map`, { headers: auth("viewer-demo-token") })).status === 409, "map of an unfinished run: not 409");
    assert((await fetch(`${api}/${ids[0]}`, { method: "DELETE", headers: auth("viewer-demo-token") })).status === 403, "viewer cancel: not 403");
    for (const id of ids) assert((await fetch(`${api}/${id}`, { method: "DELETE", headers: auth("planner-demo-token") })).status === 204, `cancel ${id}`);
    const st = await (await fetch(`${api}/${ids[0]}`, { headers: auth("viewer-demo-token") })).json();
    assert(st.status === "cancelled", `after cancel: ${st.status}`);
    assert((await fetch(`${api}/${ids[0]}`, { method: "DELETE", headers: auth("planner-demo-token") })).status === 204, "delete a cancelled run");
    assert((await fetch(`${api}/${ids[0]}`, { headers: auth("viewer-demo-token") })).status === 404, "a deleted run is still there");
  });

  await check("pillar scores are shown for the six pillars", async () => {
    const n = await page.locator('[data-testid="pillar-score"]').count();
    assert(n === 6, `${n} pillars`);
  });

  await check("a lagged notice re-reads the cell snapshot", async () => {
    const before = cellsRequests;
    const missed = await page.evaluate(async () => {
      const t0 = performance.now();
      while (performance.now() - t0 < 12000) {
        const txt = document.querySelector('[data-testid="kpi-stream"]')?.textContent ?? "";
        const m = /\/\s*([\d,]+)/.exec(txt);
        if (m && Number(m[1].replace(/,/g, "")) > 0) return Number(m[1].replace(/,/g, ""));
        await new Promise((r) => setTimeout(r, 250));
      }
      return 0;
    });
    assert(missed > 0, "no missed updates counted");
    for (let i = 0; i < 60 && cellsRequests <= before; i++) await page.waitForTimeout(250);
    assert(cellsRequests > before, "no snapshot re-read after lagged");
  });

  await check("no uncaught page errors", async () => {
    assert(errors.length === 0, errors.join("; "));
  });
} finally {
  await page.screenshot({ path: join(ART, "final.png") }).catch(() => undefined);
  await browser.close();
  mock.kill();
}
console.log(`smoke: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
