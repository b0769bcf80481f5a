// Entry point: reads optional ?metric=&res= from the URL and starts the dashboard.

import "./style.css";
import { App } from "./app";

const params = new URLSearchParams(window.location.search);
const root = document.getElementById("app");
if (root) {
  const res = Number(params.get("res"));
  const app = new App(root, { metric: params.get("metric") ?? undefined, res: Number.isFinite(res) && res > 0 ? res : undefined });
  void app.start();
}
