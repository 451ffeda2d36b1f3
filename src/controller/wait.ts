/**
 * Quiescence, as consul-template's `wait` and docker-gen's `-wait`: a burst of changes is rendered once.
 * `fire` runs `minMs` after the last poke, but never later than `maxMs` after the first poke of the
 * burst, so a steady stream of changes cannot postpone the render forever.
 */
export interface QuiescenceOptions {
  minMs: number;
  maxMs: number;
}

export class Quiescence {
  readonly #options: QuiescenceOptions;
  readonly #fire: () => void;
  #quiet: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;

  constructor(options: QuiescenceOptions, fire: () => void) {
    this.#options = options;
    this.#fire = fire;
  }

  /** A change happened: (re)start the quiet period, and the deadline if this starts a burst. */
  poke(): void {
    clearTimeout(this.#quiet);
    this.#quiet = setTimeout(() => this.#done(), this.#options.minMs);
    this.#deadline ??= setTimeout(() => this.#done(), this.#options.maxMs);
  }

  /** Drops a pending burst without firing (shutdown, or the caller rendered anyway). */
  cancel(): void {
    clearTimeout(this.#quiet);
    clearTimeout(this.#deadline);
    this.#quiet = undefined;
    this.#deadline = undefined;
  }

  /** True while a burst waits to fire. */
  get pending(): boolean {
    return this.#deadline !== undefined;
  }

  #done(): void {
    this.cancel();
    this.#fire();
  }
}
