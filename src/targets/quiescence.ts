/**
 * Quiescence, as consul-template's `wait` and docker-gen's `-wait`, but firing on the leading edge:
 * the first change after a quiet period fires at once (a lone listen is routed without waiting), and
 * the changes that follow it are coalesced into one trailing fire, `minMs` after the last of them but
 * never later than `maxMs` after the first of them, so a steady stream cannot postpone it forever.
 * A burst therefore costs at most two renders (plus one per `maxMs` while it lasts).
 */
export interface QuiescenceOptions {
  minMs: number;
  maxMs: number;
}

export class Quiescence {
  readonly #options: QuiescenceOptions;
  readonly #fire: () => void;
  /** Runs while inside a burst: until `minMs` passed without a poke. */
  #quiet: NodeJS.Timeout | undefined;
  /** Runs while a trailing fire is owed: the `maxMs` bound on it. */
  #deadline: NodeJS.Timeout | undefined;

  constructor(options: QuiescenceOptions, fire: () => void) {
    this.#options = options;
    this.#fire = fire;
  }

  /** A change happened: fire now if all was quiet, else owe a trailing fire and restart the quiet period. */
  poke(): void {
    const quiet = this.#quiet === undefined;
    clearTimeout(this.#quiet);
    this.#quiet = setTimeout(() => this.#quietEnded(), this.#options.minMs);
    if (quiet) {
      this.#fire();
      return;
    }
    this.#deadline ??= setTimeout(() => this.#trailing(), this.#options.maxMs);
  }

  /** Drops a pending burst without firing (shutdown, or the caller rendered anyway). */
  cancel(): void {
    clearTimeout(this.#quiet);
    clearTimeout(this.#deadline);
    this.#quiet = undefined;
    this.#deadline = undefined;
  }

  /** True while a trailing fire is owed. */
  get pending(): boolean {
    return this.#deadline !== undefined;
  }

  #quietEnded(): void {
    this.#quiet = undefined;
    if (this.#deadline !== undefined) this.#trailing();
  }

  #trailing(): void {
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
    this.#fire();
  }
}
