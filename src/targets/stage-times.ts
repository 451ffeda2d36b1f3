/**
 * Milliseconds spent in each step of one apply, logged at debug level as fields (`renderMs`,
 * `checkMs`, ...) so that where the latency goes can be read from the log, not guessed.
 */
export class StageTimes {
  readonly #clock: () => bigint;
  #last: bigint;
  readonly ms: Record<string, number> = {};

  constructor(clock: () => bigint = process.hrtime.bigint) {
    this.#clock = clock;
    this.#last = clock();
  }

  /** Records the time since the previous lap (or construction) as `<stage>Ms`. */
  lap(stage: string): void {
    const now = this.#clock();
    this.ms[`${stage}Ms`] = toMs(now - this.#last);
    this.#last = now;
  }
}

/** Nanoseconds to milliseconds, to the microsecond. */
export function toMs(ns: bigint): number {
  return Math.round(Number(ns) / 1e3) / 1e3;
}
