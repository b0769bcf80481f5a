// HTTP client for the CityBrain API: JSON in and out, bearer token, RFC 7807 problems as errors.

import type { Problem } from "./types";
import { loadToken } from "./token";

/** An API error carrying the RFC 7807 problem (or a synthesised one for network failures). */
export class ApiError extends Error {
  readonly problem: Problem;

  constructor(problem: Problem) {
    super(`${problem.status} ${problem.title}${problem.detail ? `: ${problem.detail}` : ""}`);
    this.name = "ApiError";
    this.problem = problem;
  }

  get status(): number {
    return this.problem.status;
  }
}

/** Human explanation of an error status, used by the problem banner. */
export function explainStatus(status: number): string {
  switch (status) {
    case 0:
      return "The API is unreachable.";
    case 401:
      return "Not authenticated: set a valid API token in the token box.";
    case 403:
      return "Forbidden: this token's role or district does not allow the action.";
    case 404:
      return "Not found.";
    case 409:
      return "Conflict: the object changed state meanwhile; the list was refreshed.";
    case 413:
      return "Request too large.";
    case 422:
      return "The request was rejected as invalid.";
    case 429:
      return "Rate limited: try again shortly.";
    default:
      return status >= 500 ? "The server failed; see its logs with the request id." : "Request failed.";
  }
}

/**
 * Builds a Problem from a failed response body. Accepts problem+json, any JSON with a
 * `title`/`detail`, or plain text; never throws.
 */
export function toProblem(status: number, statusText: string, body: string): Problem {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === "object") {
      const p = parsed as Partial<Problem>;
      return {
        type: typeof p.type === "string" ? p.type : "about:blank",
        title: typeof p.title === "string" ? p.title : statusText || `HTTP ${status}`,
        status: typeof p.status === "number" ? p.status : status,
        detail: typeof p.detail === "string" ? p.detail : undefined,
      };
    }
  } catch {
    // Not JSON: fall through to text.
  }
  return {
    type: "about:blank",
    title: statusText || `HTTP ${status}`,
    status,
    detail: body.trim().slice(0, 300) || undefined,
  };
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** Prefix of every URL (empty: same origin). */
  base?: string;
  fetch?: FetchLike;
  token?: () => string | null;
}

export class ApiClient {
  private readonly base: string;
  private readonly fetchFn: FetchLike;
  private readonly token: () => string | null;

  constructor(opts: ClientOptions = {}) {
    this.base = opts.base ?? "";
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
    this.token = opts.token ?? (() => loadToken());
  }

  url(path: string, query?: Record<string, string | number | undefined | null>): string {
    const q = query
      ? Object.entries(query)
          .filter(([, v]) => v !== undefined && v !== null && v !== "")
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
          .join("&")
      : "";
    return `${this.base}${path}${q ? `?${q}` : ""}`;
  }

  headers(json: boolean): Record<string, string> {
    const h: Record<string, string> = { Accept: "application/json, application/problem+json" };
    if (json) h["Content-Type"] = "application/json";
    const token = this.token();
    if (token) h.Authorization = `Bearer ${token}`;
    return h;
  }

  async request<T>(method: string, path: string, opts: { query?: Record<string, string | number | undefined | null>; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
    let res: Response;
    try {
      res = await this.fetchFn(this.url(path, opts.query), {
        method,
        headers: this.headers(opts.body !== undefined),
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: opts.signal,
      });
    } catch (e) {
      if (e instanceof DOMException && e.name === "AbortError") throw e;
      throw new ApiError({ type: "about:blank", title: "Network error", status: 0, detail: String(e) });
    }
    const text = await res.text();
    if (!res.ok) throw new ApiError(toProblem(res.status, res.statusText, text));
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      return text as unknown as T;
    }
  }

  get<T>(path: string, query?: Record<string, string | number | undefined | null>, signal?: AbortSignal): Promise<T> {
    return this.request<T>("GET", path, { query, signal });
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>("POST", path, { body });
  }

  del<T>(path: string): Promise<T> {
    return this.request<T>("DELETE", path);
  }

  /** GET returning plain text (Prometheus `/metrics`). */
  async text(path: string): Promise<string> {
    let res: Response;
    try {
      res = await this.fetchFn(this.url(path), { headers: this.headers(false) });
    } catch (e) {
      throw new ApiError({ type: "about:blank", title: "Network error", status: 0, detail: String(e) });
    }
    const text = await res.text();
    if (!res.ok) throw new ApiError(toProblem(res.status, res.statusText, text));
    return text;
  }
}

export function bboxParam(b: readonly number[]): string {
  return b.map((v) => v.toFixed(6)).join(",");
}
