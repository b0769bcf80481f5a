// A small HTTP client for the CityBrain API used to set up and verify what the browser does.

export class Api {
  /** @param {string} base e.g. http://127.0.0.1:PORT  @param {string | null} token */
  constructor(base, token = null) {
    this.base = base.replace(/\/$/, "");
    this.token = token;
  }

  as(token) {
    return new Api(this.base, token);
  }

  /** Any request; resolves to {status, body} (body parsed as JSON when it is JSON). */
  async request(method, path, body) {
    const headers = { Accept: "application/json, application/problem+json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(`${this.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // plain text (e.g. /metrics)
    }
    return { status: res.status, body: parsed };
  }

  /** GET that must answer 2xx; returns the body. */
  async get(path) {
    const r = await this.request("GET", path);
    if (r.status >= 300) throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return r.body;
  }

  /** POST that must answer 2xx; returns the body. */
  async post(path, body) {
    const r = await this.request("POST", path, body);
    if (r.status >= 300) throw new Error(`POST ${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    return r.body;
  }
}

/** Depth-first search of an indicator tree (pillars → blocks → indicators) for a node id. */
export function findNode(nodes, id) {
  for (const n of nodes ?? []) {
    if (n.id === id) return n;
    const hit = findNode(n.children, id);
    if (hit) return hit;
  }
  return null;
}
