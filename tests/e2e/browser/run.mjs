#!/usr/bin/env node
// End-to-end checks of the dashboard in headless Chromium against a real `citybrain demo`.
//
//   npm ci && node run.mjs
//
// Starts the demo (binary from CITYBRAIN_BIN, default target/debug/citybrain, built with cargo
// when absent) on free ports in a temporary data folder, then checks, in order:
//   (a) the map renders hexes: non-blank canvas pixels and window.__cbStats.hexes > 0;
//   (b) a live stream update changes a cell (seen through __cbStats, parsed in the feed worker);
//   (d1) the indicators panel shows the API's six pillar scores;
//   (c) an alarm rule that fires at once opens an incident; it appears in the dashboard; the
//       viewer's dispatch is refused (403 banner, state unchanged); the operator dispatches,
//       starts, resolves and closes it from the board;
//   (d2) that on-time closure raises the smart-governance pillar, in the API and the dashboard;
//   (e) the governance report HTML opens with every external request blocked: there are none;
// plus: the dashboard requested nothing outside its own origin and threw no page error.
// Screenshots, the server log and a summary go to artifacts/browser/ (git-ignored).
// Prints one line per check; exits 1 if any failed.

import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { mapRendersHexes, liveUpdateChangesCell } from "./checks/map.mjs";
import { closureRaisesSmartGovernance, incidentLifecycle, sixPillarsShown } from "./checks/operations.mjs";
import { reportIsSelfContained } from "./checks/report.mjs";
import { Api } from "./lib/api.mjs";
import { launch } from "./lib/browser.mjs";
import { assert, Checks } from "./lib/check.mjs";
import { ensureBinary, ensureDashboard, REPO, startDemo } from "./lib/server.mjs";

const art = resolve(process.env.E2E_ARTIFACTS ?? join(REPO, "artifacts", "browser"));
mkdirSync(art, { recursive: true });
const t0 = Date.now();
const checks = new Checks();

let demo = null;
let browser = null;
try {
  const bin = ensureBinary();
  const dist = ensureDashboard();
  console.log(`# binary ${bin}\n# dashboard ${dist}\n# artifacts ${art}`);
  demo = await startDemo({
    bin,
    dist,
    logPath: join(art, "server.log"),
    // Air-quality stations report every 5 s (default 60 s) so that cells change and the test
    // alarm fires within seconds.
    env: { CITYBRAIN__SIMULATORS__AIR_INTERVAL_SECS: "5" },
  });
  console.log(`# citybrain demo ready at ${demo.base} after ${(demo.startupMs / 1000).toFixed(1)} s`);
  const api = new Api(demo.base);
  browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1600, height: 950 } });
  const page = await context.newPage();
  const pageErrors = [];
  const foreign = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("request", (r) => {
    const url = r.url();
    if (!url.startsWith(`${demo.base}/`) && !url.startsWith(demo.base.replace(/^http/, "ws")) && !url.startsWith("data:") && !url.startsWith("blob:")) foreign.push(url);
  });
  await page.goto(`${demo.base}/`);
  const ctx = { page, api, tokens: demo.tokens, base: demo.base, art, bin, browser, state: {} };

  await checks.run("(a) the map renders hexes on a non-blank canvas", () => mapRendersHexes(ctx));
  await checks.run("(b) a live stream update changes a cell", () => liveUpdateChangesCell(ctx));
  const pillarsOk = await checks.run("(d) the indicators panel shows the six pillar scores", () => sixPillarsShown(ctx));
  const lifecycleOk = await checks.run("(c) an alarm opens an incident; the viewer is refused (403); the operator dispatches, starts, resolves and closes it", () => incidentLifecycle(ctx));
  if (pillarsOk && lifecycleOk) await checks.run("(d) closing the incident on time raises smart governance in the API and the dashboard", () => closureRaisesSmartGovernance(ctx));
  else checks.skip("(d) closing the incident on time raises smart governance in the API and the dashboard", "needs the pillar scores before and a closed incident");
  if (ctx.state.ruleId) await api.as(demo.tokens.operator).request("DELETE", `/api/v1/alarm-rules/${ctx.state.ruleId}`);
  await checks.run("(e) the governance report opens in Chromium with zero external requests", () => reportIsSelfContained(ctx));
  await checks.run("the dashboard requested nothing outside its origin", () => assert(foreign.length === 0, foreign.join(", ")));
  await checks.run("no uncaught errors in the dashboard", () => assert(pageErrors.length === 0, pageErrors.join("; ")));
  await page.screenshot({ path: join(art, "final.png") }).catch(() => undefined);
} catch (e) {
  checks.skip("setup", e instanceof Error ? e.message : String(e));
} finally {
  await browser?.close().catch(() => undefined);
  await demo?.stop({ keep: process.env.E2E_KEEP_DATA === "1" }).catch(() => undefined);
}
const secs = (Date.now() - t0) / 1000;
writeFileSync(join(art, "summary.json"), JSON.stringify({ passed: checks.passed, failed: checks.failed, seconds: secs, results: checks.results }, null, 1));
console.log(`browser e2e: ${checks.passed} passed, ${checks.failed} failed in ${secs.toFixed(0)} s (artifacts: ${art})`);
process.exit(checks.failed ? 1 : 0);
