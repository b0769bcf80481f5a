import { launch } from "./browser.mjs";
const b = await launch();
const p = await b.newPage({ viewport: { width: 1600, height: 950 } });
await p.setContent("<canvas id=c width=1600 height=950></canvas>");
const res = await p.evaluate(() => {
  const c = document.getElementById("c");
  const ctx = c.getContext("2d");
  const out = {};
  const N = 40000, r = 2.8;
  const pts = [];
  for (let i = 0; i < N; i++) pts.push([(i % 230) * 7 + (Math.floor(i / 230) % 2) * 3.5, Math.floor(i / 230) * 5.4]);
  for (const chunk of [250, 1000, 4000, 16000, 40000]) {
    const t0 = performance.now();
    ctx.clearRect(0, 0, 1600, 950);
    for (let b = 0; b < 12; b++) {
      let k = 0;
      ctx.beginPath();
      for (let i = b; i < N; i += 12) {
        const [x, y] = pts[i];
        ctx.moveTo(x + r, y);
        for (let a = 1; a < 6; a++) ctx.lineTo(x + r * Math.cos(a * Math.PI / 3), y + r * Math.sin(a * Math.PI / 3));
        ctx.closePath();
        if (++k % chunk === 0) { ctx.fillStyle = `hsl(${b * 30},70%,50%)`; ctx.fill(); ctx.beginPath(); }
      }
      ctx.fillStyle = `hsl(${b * 30},70%,50%)`;
      ctx.fill();
    }
    ctx.getImageData(0, 0, 1, 1);
    out[chunk] = +(performance.now() - t0).toFixed(1);
  }
  // rects
  const t0 = performance.now();
  ctx.clearRect(0, 0, 1600, 950);
  for (let b = 0; b < 12; b++) { ctx.beginPath(); for (let i = b; i < N; i += 12) { const [x, y] = pts[i]; ctx.rect(x - r, y - r, 2 * r, 2 * r); } ctx.fillStyle = `hsl(${b * 30},70%,50%)`; ctx.fill(); }
  ctx.getImageData(0, 0, 1, 1);
  out.rects = +(performance.now() - t0).toFixed(1);
  // per-cell fill
  const t1 = performance.now();
  ctx.clearRect(0, 0, 1600, 950);
  for (let i = 0; i < N; i++) { const [x, y] = pts[i]; ctx.beginPath(); ctx.moveTo(x + r, y); for (let a = 1; a < 6; a++) ctx.lineTo(x + r * Math.cos(a * Math.PI / 3), y + r * Math.sin(a * Math.PI / 3)); ctx.closePath(); ctx.fillStyle = `hsl(${(i % 12) * 30},70%,50%)`; ctx.fill(); }
  ctx.getImageData(0, 0, 1, 1);
  out.percell = +(performance.now() - t1).toFixed(1);
  return out;
});
console.log(JSON.stringify(res));
await b.close();
