/**
 * Readiness gates (README "Configuration", `ready`): a backend of a gated service that appears is
 * checked by lbwatch itself, at once, then again after 10 ms, 20 ms, 40 ms... (at most `interval`
 * apart) until a check passes, when the registry marks it ready, or `deadline` passes, when it is
 * logged and left waiting until it closes or a resync of its source delivers it again.
 *
 * Event-triggered, never a steady poll: nothing runs for a backend that is ready, and a backend that
 * goes away cancels its checks. The readiness itself lives in the registry (Backend.ready); this
 * module only holds the checks in progress. At most MAX_RUNNING checks run at once, so a burst of new
 * backends queues its checks instead of forking hundreds of commands.
 */
import type { ReadyGate, ServiceRule } from "../config/types.js";
import type { Logger } from "../log.js";
import { type Backend, backendKey } from "../registry/backend.js";
import type { RegistryChange } from "../registry/registry.js";
import { runCheck } from "./checks.js";

const MAX_RUNNING = 32;
const FIRST_RETRY_MS = 10;
/** Less time than this left before the deadline: no further attempt is started. */
const MIN_ATTEMPT_MS = 10;

const logFields = (b: Backend) => ({ service: b.service, backend: b.id, endpoint: b.endpoint });

interface Waiting {
  backend: Backend;
  gate: ReadyGate;
  /** performance.now() when it appeared: the deadline counts from here. */
  startedAt: number;
  attempts: number;
  /** The wait before the next attempt after a failed one. */
  delayMs: number;
  timer?: NodeJS.Timeout;
  abort?: AbortController;
  last?: string;
}

/** What /status shows of a backend that is not ready. */
export interface WaitingStatus {
  attempts: number;
  last?: string;
  givenUp: boolean;
}

export interface ReadinessDeps {
  log: Logger;
  /** A check passed: make the backend ready. `at`: CLOCK_MONOTONIC ns of the pass, for latency. */
  ready(backend: Backend, at: bigint): void;
}

export class Readiness {
  readonly #deps: ReadinessDeps;
  readonly #log: Logger;
  #gates = new Map<string, ReadyGate>();
  readonly #waiting = new Map<string, Waiting>();
  /** Past their deadline: by key, with the attempts they had. */
  readonly #givenUp = new Map<string, Waiting>();
  readonly #queue: Waiting[] = [];
  #running = 0;
  /** Backends whose first attempt has not finished, for firstAttempts(). */
  readonly #first = new Set<Waiting>();
  #firstWaiters: (() => void)[] = [];

  constructor(services: readonly ServiceRule[], deps: ReadinessDeps) {
    this.#deps = deps;
    this.#log = deps.log.child({ component: "readiness" });
    this.configure(services);
  }

  gated(service: string): boolean {
    return this.#gates.has(service);
  }

  /** New gates (config reload): checks of services without one stop; backends given up are tried again. */
  configure(services: readonly ServiceRule[]): void {
    this.#gates = new Map(services.flatMap((s) => (s.ready ? [[s.name, s.ready] as const] : [])));
    for (const [key, w] of this.#waiting) {
      const gate = this.#gates.get(w.backend.service);
      if (gate) w.gate = gate;
      else this.#cancel(key);
    }
    for (const [key, w] of this.#givenUp) {
      this.#givenUp.delete(key);
      if (this.#gates.has(w.backend.service)) this.#start(w.backend);
    }
  }

  /** Follows the registry: a waiting backend that appears is checked, one that goes away is not. */
  changed(change: RegistryChange): void {
    for (const b of change.removed) {
      this.#cancel(backendKey(b));
      this.#givenUp.delete(backendKey(b));
    }
    for (const b of [...change.added, ...change.updated]) {
      const key = backendKey(b);
      const known = this.#waiting.get(key) ?? this.#givenUp.get(key);
      if (b.ready) {
        this.#cancel(key);
        this.#givenUp.delete(key);
      } else if (known) known.backend = b;
      else if (this.#gates.has(b.service)) this.#start(b);
    }
  }

  /** A source re-delivered its whole view (a resync): its backends past their deadline are tried again. */
  retry(source: string): void {
    for (const [key, w] of this.#givenUp) {
      if (w.backend.source !== source) continue;
      this.#givenUp.delete(key);
      this.#start(w.backend);
    }
  }

  /** Resolves once every backend checked so far has had its first attempt (or went away). */
  firstAttempts(): Promise<void> {
    if (this.#first.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#firstWaiters.push(resolve));
  }

  status(service: string, id: string): WaitingStatus | undefined {
    const key = backendKey({ service, id });
    const w = this.#waiting.get(key) ?? this.#givenUp.get(key);
    if (!w) return undefined;
    const status: WaitingStatus = { attempts: w.attempts, givenUp: this.#givenUp.has(key) };
    if (w.last !== undefined) status.last = w.last;
    return status;
  }

  close(): void {
    for (const key of [...this.#waiting.keys()]) this.#cancel(key);
    this.#givenUp.clear();
  }

  #start(backend: Backend): void {
    const gate = this.#gates.get(backend.service) as ReadyGate;
    const w: Waiting = {
      backend,
      gate,
      startedAt: performance.now(),
      attempts: 0,
      delayMs: Math.min(FIRST_RETRY_MS, gate.intervalMs),
    };
    this.#waiting.set(backendKey(backend), w);
    this.#first.add(w);
    this.#enqueue(w);
  }

  #cancel(key: string): void {
    const w = this.#waiting.get(key);
    if (!w) return;
    this.#waiting.delete(key);
    clearTimeout(w.timer);
    w.abort?.abort();
    const queued = this.#queue.indexOf(w);
    if (queued >= 0) this.#queue.splice(queued, 1);
    this.#firstDone(w);
  }

  #enqueue(w: Waiting): void {
    w.timer = undefined;
    this.#queue.push(w);
    this.#pump();
  }

  #pump(): void {
    while (this.#running < MAX_RUNNING && this.#queue.length > 0) {
      void this.#attempt(this.#queue.shift() as Waiting);
    }
  }

  async #attempt(w: Waiting): Promise<void> {
    const key = backendKey(w.backend);
    const remaining = w.startedAt + w.gate.deadlineMs - performance.now();
    // A retry that waited in the queue until the deadline was nearly spent would only time out, and
    // its "timed out after 1 ms" would hide why the earlier attempts failed.
    if (w.attempts > 0 && remaining < MIN_ATTEMPT_MS) {
      this.#giveUp(w, key);
      return;
    }
    w.abort = new AbortController();
    this.#running++;
    const result = await runCheck(
      w.gate.check,
      w.backend,
      Math.max(1, Math.min(w.gate.timeoutMs, remaining)),
      w.abort.signal,
    );
    this.#running--;
    w.abort = undefined;
    this.#pump();
    if (this.#waiting.get(key) !== w) return;
    w.attempts++;
    w.last = result.detail;
    const fields = logFields(w.backend);
    const waitedMs = Math.round(performance.now() - w.startedAt);
    if (result.ok) {
      this.#waiting.delete(key);
      this.#deps.ready(w.backend, process.hrtime.bigint());
      // A backend ready at its first try (every one after lbwatch restarts) is not news.
      this.#log[w.attempts > 1 ? "info" : "debug"](
        { ...fields, waitedMs, attempts: w.attempts },
        "backend ready",
      );
      this.#firstDone(w);
      return;
    }
    this.#firstDone(w);
    const delay = w.delayMs;
    w.delayMs = Math.min(w.delayMs * 2, w.gate.intervalMs);
    if (performance.now() + delay < w.startedAt + w.gate.deadlineMs) {
      w.timer = setTimeout(() => this.#enqueue(w), delay);
      return;
    }
    this.#giveUp(w, key);
  }

  #giveUp(w: Waiting, key: string): void {
    this.#waiting.delete(key);
    this.#givenUp.set(key, w);
    const { pid, comm, host } = w.backend;
    this.#log.warn(
      {
        ...logFields(w.backend),
        pid,
        comm,
        host,
        deadlineMs: w.gate.deadlineMs,
        attempts: w.attempts,
        last: w.last,
      },
      "backend not ready by its deadline: left out until it closes or its source resyncs",
    );
  }

  #firstDone(w: Waiting): void {
    if (!this.#first.delete(w) || this.#first.size > 0) return;
    for (const resolve of this.#firstWaiters.splice(0)) resolve();
  }
}
