// A minimal check runner: named checks run in order, each printed as "ok" or "FAIL" with its
// duration; assertions throw; `until` polls a condition with a deadline.

export class Checks {
  passed = 0;
  failed = 0;
  /** @type {{name: string, ok: boolean, ms: number, error?: string}[]} */
  results = [];

  /** Runs one check; a thrown error fails it (and only it). Returns whether it passed. */
  async run(name, fn) {
    const t0 = Date.now();
    try {
      await fn();
      const ms = Date.now() - t0;
      this.passed++;
      this.results.push({ name, ok: true, ms });
      console.log(`ok   ${name} (${(ms / 1000).toFixed(1)} s)`);
      return true;
    } catch (e) {
      const ms = Date.now() - t0;
      const error = e instanceof Error ? e.message : String(e);
      this.failed++;
      this.results.push({ name, ok: false, ms, error });
      console.log(`FAIL ${name} (${(ms / 1000).toFixed(1)} s): ${error}`);
      return false;
    }
  }

  /** Records a check that could not run because an earlier one failed. */
  skip(name, why) {
    this.failed++;
    this.results.push({ name, ok: false, ms: 0, error: `not run: ${why}` });
    console.log(`FAIL ${name}: not run (${why})`);
  }
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/**
 * Polls `fn` every `interval` ms until it returns a truthy value (returned) or `timeout` ms pass
 * (throws, naming `what` and the last value or error seen).
 */
export async function until(fn, { timeout = 30000, interval = 250, what = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e instanceof Error ? `error: ${e.message}` : e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout / 1000} s waiting for ${what} (last: ${JSON.stringify(last)?.slice(0, 300)})`);
    await new Promise((r) => setTimeout(r, interval));
  }
}
