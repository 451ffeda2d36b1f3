/**
 * Keeps a background job to a share of the time: after a run that took D ms, the next may start no
 * sooner than D × (ratio − 1) ms after it ended. The file written behind a live change renders every
 * backend: at 100,000 backends that is a few hundred ms of the one JS thread the live path also needs,
 * so under steady churn it must not run back to back. A run's duration is wall time, which includes
 * waiting for a check in another process and, on a starved machine, for the CPU: `maxDelayMs` keeps
 * one slow run (a flood, a slow `haproxy -c`) from holding the next back for a minute.
 */
export class Spacing {
  readonly #ratio: number;
  readonly #maxDelayMs: number;
  #endedAt = 0;
  #tookMs = 0;

  constructor(ratio: number, maxDelayMs = Number.POSITIVE_INFINITY) {
    this.#ratio = ratio;
    this.#maxDelayMs = maxDelayMs;
  }

  record(startedAt: number, endedAt: number): void {
    this.#endedAt = endedAt;
    this.#tookMs = endedAt - startedAt;
  }

  /** How long to wait from `now` before the next run. */
  delay(now: number): number {
    const gap = Math.min(this.#tookMs * (this.#ratio - 1), this.#maxDelayMs);
    return Math.max(0, this.#endedAt + gap - now);
  }
}
