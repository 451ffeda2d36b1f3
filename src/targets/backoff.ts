/**
 * Retry delays after a failure: 100 ms doubling to 5 s, each scaled by a random factor in [0.5, 1) so
 * that many lbwatch processes (or targets) failing together do not retry in lockstep.
 */
export interface BackoffOptions {
  firstMs: number;
  maxMs: number;
  random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { firstMs: 100, maxMs: 5000 };

export class Backoff {
  readonly #options: BackoffOptions;
  #failures = 0;

  constructor(options: BackoffOptions = DEFAULT_BACKOFF) {
    this.#options = options;
  }

  /** The delay before the next try, counting this failure; `capMs` lowers the ceiling for this one. */
  next(capMs = Number.POSITIVE_INFINITY): number {
    const { firstMs, maxMs, random = Math.random } = this.#options;
    const ceiling = Math.min(maxMs, capMs, firstMs * 2 ** this.#failures);
    this.#failures++;
    return Math.round(ceiling * (0.5 + random() / 2));
  }

  reset(): void {
    this.#failures = 0;
  }

  get failures(): number {
    return this.#failures;
  }
}
