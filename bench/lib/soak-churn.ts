/**
 * The soak's churning web backends: one slot per web port, each an HTTP backend process
 * (listeners.py) or nothing; every 200-600 ms a random slot flips (SIGTERM: the listener closes first,
 * in-flight requests get 100 ms), keeping at least MIN_UP up so clients always have somewhere to go.
 */
import { startBackend } from "./backends.js";
import type { Child } from "./children.js";
import { sleep } from "./helpers.js";

const MIN_UP = 3;

export class Churner {
  readonly #ports: number[];
  readonly #rng: () => number;
  readonly #slots: (Child | undefined)[];
  #running = false;
  #loop: Promise<void> | undefined;
  flips = 0;

  constructor(ports: number[], rng: () => number) {
    this.#ports = ports;
    this.#rng = rng;
    this.#slots = ports.map(() => undefined);
  }

  /** Half the slots up, then flipping until stop(). */
  start(): void {
    this.#ports.forEach((port, i) => {
      if (i % 2 === 0) this.#slots[i] = startBackend(port);
    });
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Resolves once MIN_UP slots listen: before that, the load would meet an empty backend (503). */
  async listening(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#up() < MIN_UP) {
      if (Date.now() > deadline)
        throw new Error(`fewer than ${MIN_UP} web backends listen after ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  #up(): number {
    return this.#slots.filter((c) => c && !c.exited && c.lines().some((l) => l.ev === "ready")).length;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await Promise.all(this.#slots.map((c) => c?.stop()));
  }

  async #run(): Promise<void> {
    while (this.#running) {
      await sleep(200 + this.#rng() * 400);
      const i = Math.floor(this.#rng() * this.#ports.length);
      const child = this.#slots[i];
      if (child && !child.exited) {
        // Listening already, not merely started: a stop never leaves fewer than MIN_UP serving.
        if (this.#up() <= MIN_UP) continue;
        this.#slots[i] = undefined;
        void child.stop();
      } else {
        this.#slots[i] = startBackend(this.#ports[i] as number);
      }
      this.flips++;
    }
  }
}

/** A seeded PRNG (mulberry32): a soak is replayed with --seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
