// Finds (or builds) the citybrain binary and the dashboard bundle, starts `citybrain demo` in a
// temporary data folder on free ports, waits for its ready file, and stops it again.

import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (tests/e2e/browser/lib → four levels up). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");
export const DASHBOARD = join(REPO, "crates", "api", "dashboard");

/** `CITYBRAIN_BIN`, else `$CARGO_TARGET_DIR/debug/citybrain`, else `target/debug/citybrain`. */
export function binaryPath() {
  const given = process.env.CITYBRAIN_BIN;
  if (given) return isAbsolute(given) ? given : resolve(REPO, given);
  const targetDir = process.env.CARGO_TARGET_DIR ? resolve(REPO, process.env.CARGO_TARGET_DIR) : join(REPO, "target");
  return join(targetDir, "debug", "citybrain");
}

function run(cmd, args, cwd) {
  console.log(`# ${cmd} ${args.join(" ")}  (in ${cwd})`);
  const r = spawnSync(cmd, args, { cwd, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed with ${r.status ?? r.signal}`);
}

/** The binary, built with cargo (debug) when absent and not given explicitly. */
export function ensureBinary() {
  const bin = binaryPath();
  if (existsSync(bin)) return bin;
  if (process.env.CITYBRAIN_BIN) throw new Error(`CITYBRAIN_BIN=${process.env.CITYBRAIN_BIN} does not exist`);
  run("cargo", ["build", "-p", "server", "--locked"], REPO);
  if (!existsSync(bin)) throw new Error(`cargo build finished but ${bin} is missing`);
  return bin;
}

/** The built dashboard (`dist/`), built with npm when absent. */
export function ensureDashboard() {
  const dist = join(DASHBOARD, "dist");
  if (existsSync(join(dist, "index.html"))) return dist;
  if (!existsSync(join(DASHBOARD, "node_modules"))) run("npm", ["ci"], DASHBOARD);
  run("npm", ["run", "build"], DASHBOARD);
  return dist;
}

/**
 * Starts `citybrain demo` with HTTP and both MQTT ports on free ports, the dashboard from `dist`,
 * its log in `logPath`. Resolves once the ready file exists, with the API base URL and the demo
 * tokens. `env` adds configuration (CITYBRAIN__SECTION__KEY variables).
 */
export async function startDemo({ bin, dist, logPath, env = {}, args = [], timeoutMs = 240000 }) {
  const dataDir = mkdtempSync(join(tmpdir(), "citybrain-e2e-"));
  const readyFile = join(dataDir, "ready.json");
  const log = openSync(logPath, "w");
  const child = spawn(bin, ["demo", "--port", "0", "--data-dir", dataDir, "--ready-file", readyFile, ...args], {
    cwd: dataDir,
    stdio: ["ignore", log, log],
    env: {
      ...process.env,
      CITYBRAIN__BROKER__PORT: "0",
      CITYBRAIN__BROKER__V4_PORT: "0",
      CITYBRAIN__HTTP__DASHBOARD_DIR: dist,
      RUST_LOG: process.env.RUST_LOG ?? "info",
      ...env,
    },
  });
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  const t0 = Date.now();
  while (!existsSync(readyFile)) {
    if (exited) throw new Error(`citybrain demo exited (${exited.code ?? exited.signal}) before it was ready; see ${logPath}`);
    if (Date.now() - t0 > timeoutMs) {
      child.kill("SIGKILL");
      throw new Error(`citybrain demo not ready after ${timeoutMs / 1000} s; see ${logPath}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  // The ready file is written in one call; a partial read is retried.
  let ready = null;
  for (let i = 0; i < 20 && !ready; i++) {
    try {
      ready = JSON.parse(readFileSync(readyFile, "utf8"));
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (!ready?.http) throw new Error(`unreadable ready file ${readyFile}`);
  const tokensFile = join(dataDir, "demo-tokens.json");
  if (!existsSync(tokensFile)) throw new Error(`no ${tokensFile}: the demo did not write its tokens`);
  const tokens = JSON.parse(readFileSync(tokensFile, "utf8"));
  for (const role of ["viewer", "operator", "planner", "admin"]) if (typeof tokens[role] !== "string") throw new Error(`demo-tokens.json has no ${role} token`);
  return {
    base: `http://${ready.http}`,
    tokens,
    dataDir,
    startupMs: Date.now() - t0,
    /** SIGTERM, then SIGKILL after 15 s; removes the data folder unless `keep`. */
    async stop({ keep = false } = {}) {
      if (!exited) {
        child.kill("SIGTERM");
        const t = Date.now();
        while (!exited && Date.now() - t < 15000) await new Promise((r) => setTimeout(r, 100));
        if (!exited) child.kill("SIGKILL");
      }
      if (!keep) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs the binary with arguments to completion; throws with its output on failure. */
export function runCli(bin, args) {
  const r = spawnSync(bin, args, { encoding: "utf8", env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? "warn" } });
  if (r.status !== 0) throw new Error(`citybrain ${args.join(" ")} failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout).slice(-1000)}`);
  return r;
}
