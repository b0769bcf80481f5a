// The governance evaluation report (issue 7, acceptance 4): `citybrain indicators report
// --synthetic` writes a self-contained HTML page; Chromium opens it with every request outside
// the page itself blocked and recorded. It must need none.

import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { assert } from "../lib/check.mjs";
import { runCli } from "../lib/server.mjs";

/** Serves `dir` on 127.0.0.1 (any port) and records every request path. */
async function serveDir(dir) {
  const seen = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
    seen.push(path);
    const file = join(dir, path);
    if (!file.startsWith(dir) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "Content-Type": file.endsWith(".html") ? "text/html; charset=utf-8" : "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { origin: `http://127.0.0.1:${server.address().port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

export async function reportIsSelfContained({ browser, bin, art }) {
  const out = join(art, "report");
  mkdirSync(out, { recursive: true });
  runCli(bin, ["indicators", "report", "--synthetic", "--out", out]);
  const html = join(out, "report.html");
  assert(existsSync(html), `no ${html}`);
  assert(existsSync(join(out, "report.json")), "no report.json next to the HTML");
  const json = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
  assert(json && typeof json === "object", "report.json is not an object");

  const server = await serveDir(out);
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const external = [];
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // Everything except the report's own origin is blocked and recorded (http, https, ws, ...).
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(`${server.origin}/`)) return route.continue();
    external.push(url);
    return route.abort("blockedbyclient");
  });
  page.on("request", (r) => {
    const url = r.url();
    if (!url.startsWith(`${server.origin}/`) && !url.startsWith("data:") && !external.includes(url)) external.push(url);
  });
  try {
    await page.goto(`${server.origin}/report.html`, { waitUntil: "networkidle" });
    const shape = await page.evaluate(() => {
      const svgs = [...document.querySelectorAll("svg")].filter((s) => {
        const b = s.getBoundingClientRect();
        return b.width > 50 && b.height > 50 && s.querySelectorAll("*").length > 10;
      });
      const imgs = [...document.images];
      return {
        title: document.title,
        tables: document.querySelectorAll("table").length,
        figures: svgs.length,
        brokenImages: imgs.filter((i) => !i.complete || i.naturalWidth === 0).length,
        text: document.body.innerText.length,
        links: [...document.querySelectorAll("link[href], script[src], img[src], iframe[src]")].map((e) => e.getAttribute("href") ?? e.getAttribute("src")),
      };
    });
    await page.screenshot({ path: join(art, "report.png"), fullPage: true });
    const own = server.seen.filter((p) => p !== "/favicon.ico");
    console.log(`     "${shape.title}": ${shape.tables} tables, ${shape.figures} SVG figures, ${shape.text} characters of text; requests: ${server.seen.join(", ")}; blocked external: ${external.length}`);
    assert(external.length === 0, `external requests: ${external.join(", ")}`);
    assert(JSON.stringify(own) === JSON.stringify(["/report.html"]), `the page loaded more than itself: ${own.join(", ")}`);
    assert(shape.links.every((l) => !l || l.startsWith("data:") || l.startsWith("#")), `references to other files: ${shape.links.join(", ")}`);
    assert(shape.brokenImages === 0, `${shape.brokenImages} broken images`);
    assert(shape.tables >= 4, `only ${shape.tables} tables`);
    assert(shape.figures >= 5, `only ${shape.figures} SVG figures`);
    assert(errors.length === 0, `page errors: ${errors.join("; ")}`);
  } finally {
    await context.close();
    await server.close();
  }
}
