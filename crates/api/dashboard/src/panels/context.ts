// What every panel gets: the API client and the problem/notice reporters.

import { ApiError, explainStatus, type ApiClient } from "../api/client";
import { h, setChildren } from "../dom";

export interface PanelContext {
  api: ApiClient;
  /** Shows an error (an ApiError's RFC 7807 problem, or anything else) in the problem banner. */
  problem(err: unknown, doing: string): void;
  /** Shows a short success notice. */
  notice(msg: string): void;
}

/** The problem banner: the last failure, with its status, title, detail and what it means. */
export class ProblemBanner {
  readonly el = h("div", { class: "problem hidden", "data-testid": "problem-banner", role: "alert", "aria-live": "assertive" });
  readonly noticeEl = h("div", { class: "notice hidden", "data-testid": "notice", role: "status", "aria-live": "polite" });
  private noticeTimer: ReturnType<typeof setTimeout> | null = null;

  show(err: unknown, doing: string): void {
    if (err instanceof DOMException && err.name === "AbortError") return;
    const p =
      err instanceof ApiError
        ? err.problem
        : { status: 0, title: err instanceof Error ? err.message : String(err), type: "about:blank", detail: undefined as string | undefined };
    this.el.className = `problem status-${p.status}`;
    this.el.dataset.status = String(p.status);
    setChildren(
      this.el,
      h("strong", {}, `${doing} failed`, p.status ? ` (${p.status} ${p.title})` : `: ${p.title}`),
      h("div", { class: "problem-explain" }, explainStatus(p.status)),
      p.detail ? h("div", { class: "problem-detail", "data-testid": "problem-detail" }, p.detail) : null,
      p.type && p.type !== "about:blank" ? h("div", { class: "problem-type" }, p.type) : null,
      h("button", { class: "link", "data-testid": "problem-dismiss", onclick: () => this.clear() }, "dismiss"),
    );
  }

  clear(): void {
    this.el.className = "problem hidden";
    delete this.el.dataset.status;
    this.el.replaceChildren();
  }

  notice(msg: string): void {
    this.noticeEl.textContent = msg;
    this.noticeEl.className = "notice";
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => (this.noticeEl.className = "notice hidden"), 4000);
  }
}
