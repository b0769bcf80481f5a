// Headless Chromium through playwright-core, using the system's browser (Debian's `chromium`
// package): nothing is downloaded. Playwright gives each launch a fresh temporary profile.

import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

/** Flags: no GPU or sandbox (containers) and none of the browser's own network traffic. */
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

export function chromiumPath() {
  const candidates = [process.env.CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].filter(Boolean);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`no Chromium found (tried ${candidates.join(", ")}); install Debian's chromium (apt-get install -y chromium) or set CHROMIUM`);
  return found;
}

export function launch() {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
}
