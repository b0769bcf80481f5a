// Shared helpers for the browser scripts: start the mock API with the built bundle, launch the
// system Chromium (no browser download) headless with the GPU disabled.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

export function chromiumPath() {
  const candidates = [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`no Chromium found (tried ${candidates.join(", ")}); install Debian's chromium or set CHROMIUM`);
  return found;
}

/**
 * Chromium flags: no GPU, no sandbox (containers), and none of the browser's own network traffic
 * (QUIC, component updates, sync, background requests). Playwright's `launch` gives every run a
 * fresh temporary profile (user data dir) and runs headless.
 */
export const CHROMIUM_ARGS = [
  "--disable-gpu",
  "--no-sandbox",
  "--disable-dev-shm-usage",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launch() {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
}

/** Starts scripts/mock-api.mjs serving dist/; resolves once it listens. */
export async function startMock(port, extraArgs = []) {
  if (!existsSync(join(ROOT, "dist", "index.html"))) throw new Error("dist/ is missing: run `npm run build` first");
  const child = spawn(process.execPath, [join(ROOT, "scripts", "mock-api.mjs"), "--port", String(port), "--static", join(ROOT, "dist"), ...extraArgs], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("mock API did not start within 30 s")), 30000);
    child.stdout.on("data", (d) => {
      if (String(d).includes("mock CityBrain API on")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => reject(new Error(`mock API exited with ${code}`)));
  });
  return child;
}

export function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, median: quantile(s, 0.5), p95: quantile(s, 0.95), max: s.length ? s[s.length - 1] : NaN };
}
