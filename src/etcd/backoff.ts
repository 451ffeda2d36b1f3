/**
 * Retry delays for talking to etcd: exponential with full jitter, so that many agents and controllers
 * that lost etcd together do not all come back in the same millisecond.
 */
export interface BackoffOptions {
  firstMs: number;
  maxMs: number;
  /** For tests; Math.random by default. */
  random?: () => number;
}

export class Backoff {
  readonly #options: BackoffOptions;
  #failures = 0;

  constructor(options: BackoffOptions) {
    this.#options = options;
  }

  /** The delay before the next attempt after one more failure: between half and all of the cap. */
  next(): number {
    const { firstMs, maxMs, random = Math.random } = this.#options;
    const cap = Math.min(maxMs, firstMs * 2 ** this.#failures);
    this.#failures++;
    return Math.round(cap / 2 + (random() * cap) / 2);
  }

  reset(): void {
    this.#failures = 0;
  }

  get failures(): number {
    return this.#failures;
  }
}
