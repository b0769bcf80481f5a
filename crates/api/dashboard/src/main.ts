// Entry point: reads optional ?metric=&res=&zoom=&renderer=&feed=&parse=&view= from the URL and starts the dashboard.

import "./style.css";
import { App } from "./app";

const params = new URLSearchParams(window.location.search);
const root = document.getElementById("app");
if (root) {
  const res = Number(params.get("res"));
  const zoom = params.has("zoom") ? Number(params.get("zoom")) : NaN;
  const app = new App(root, { metric: params.get("metric") ?? undefined, res: Number.isFinite(res) && res > 0 ? res : undefined, renderer: params.get("renderer") ?? undefined, zoom: Number.isFinite(zoom) ? zoom : undefined, feed: params.get("feed") ?? undefined, parse: params.get("parse") ?? undefined, view: params.get("view") ?? undefined });
  void app.start();
}
