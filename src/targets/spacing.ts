/**
 * Keeps a background job to a share of the time: after a run that took D ms, the next may start no
 * sooner than D × (ratio − 1) ms after it ended. The file written behind a live change renders every
 * backend: at 100,000 backends that is a few hundred ms of the one JS thread the live path also needs,
 * so under steady churn it must not run back to back.
 */
export class Spacing {
  readonly #ratio: number;
  #endedAt = 0;
  #tookMs = 0;

  constructor(ratio: number) {
    this.#ratio = ratio;
  }

  record(startedAt: number, endedAt: number): void {
    this.#endedAt = endedAt;
    this.#tookMs = endedAt - startedAt;
  }

  /** How long to wait from `now` before the next run. */
  delay(now: number): number {
    return Math.max(0, this.#endedAt + this.#tookMs * (this.#ratio - 1) - now);
  }
}
