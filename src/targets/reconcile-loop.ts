/**
 * One target's reconcile loop: serial, woken by a dirty flag rather than fed a queue of jobs, so any
 * number of wake-ups while a pass runs cost one more pass. A pass that throws is retried with jittered
 * backoff until one succeeds; the pass always works from the newest desired state, so a retry is
 * also what supersedes an older render. The state (ok, or retrying since T with the last error) is
 * logged once per change of state, never once per retry.
 */
import { isLbwatchError, LbwatchError } from "../errors.js";
import type { Logger } from "../log.js";
import { Backoff, DEFAULT_BACKOFF } from "./backoff.js";

const DOWN_MAX_MS = 1000;
/**
 * A failing pass is retried at most this often when it is cheap, and backs off further only as far
 * as keeps its retries to a tenth of the time: a reload refused for a while and retried at the full
 * 5 s could come back up to 5 s after the cause was fixed (the fault soak's late convergences), where
 * its cost (a `haproxy -c` of 100,000 servers takes a core for a second) is what the backoff spares.
 */
const CHEAP_RETRY_MS = 1000;
const RETRY_COST_RATIO = 10;

export type LoopState = "starting" | "ok" | "retrying" | "lb-down";

export interface LoopStatus {
  state: LoopState;
  /** Wall-clock ms since which it is in this state. */
  since: number;
  /** Passes that failed in a row. */
  failures: number;
  lastError?: { code: string; message: string; at: number };
  /** Wall-clock ms of the next retry, while retrying. */
  nextRetryAt?: number;
}

/**
 * Thrown by a pass that did everything it can while the load balancer is not running (dest written):
 * not a failure to log as an error, but retried the same way until the load balancer is back.
 */
export class LoadBalancerDown extends LbwatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("E_LB_DOWN", message, options);
  }
}

export class ReconcileLoop {
  readonly #run: () => Promise<void>;
  readonly #log: Logger;
  readonly #backoff = new Backoff();
  /** Looking for a load balancer that is not running is a connect or a pid read: at most a second apart. */
  readonly #downBackoff = new Backoff({ ...DEFAULT_BACKOFF, maxMs: DOWN_MAX_MS });
  #dirty = false;
  #running: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  #status: LoopStatus = { state: "starting", since: Date.now(), failures: 0 };
  #idleWaiters: (() => void)[] = [];

  constructor(run: () => Promise<void>, log: Logger) {
    this.#run = run;
    this.#log = log;
  }

  /**
   * Something may differ: run a pass as soon as the current one (if any) is done. While retrying, the
   * wake-up waits for the retry timer unless `now` (the load balancer was seen coming back).
   */
  wake(options: { now?: boolean } = {}): void {
    if (this.#closed) return;
    this.#dirty = true;
    if (this.#retry && !options.now) return;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    this.#kick();
  }

  status(): LoopStatus {
    return { ...this.#status };
  }

  /** True while a pass runs or one is due without waiting for a retry timer. */
  get busy(): boolean {
    return this.#running !== undefined || (this.#dirty && this.#retry === undefined);
  }

  /** Resolves when no pass runs and none is due, or the loop is waiting to retry (see status()). */
  settled(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops retrying and waits for the pass in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    await this.#running;
    this.#notifyIdle();
  }

  #kick(): void {
    if (this.#running || this.#closed) return;
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
      this.#notifyIdle();
    });
  }

  async #loop(): Promise<void> {
    while (this.#dirty && !this.#closed) {
      this.#dirty = false;
      const started = Date.now();
      try {
        await this.#run();
        this.#succeeded();
      } catch (err) {
        this.#failed(err, Date.now() - started);
        return;
      }
    }
  }

  #succeeded(): void {
    const was = this.#status;
    this.#backoff.reset();
    this.#downBackoff.reset();
    if (was.state === "ok") return;
    if (was.state === "retrying" || was.state === "lb-down") {
      this.#log.info({ failedForMs: Date.now() - was.since, failures: was.failures }, "target recovered");
    }
    this.#status = { state: "ok", since: Date.now(), failures: 0 };
  }

  #failed(err: unknown, passMs: number): void {
    const error = isLbwatchError(err)
      ? err
      : new LbwatchError("E_WRITE", `unexpected failure: ${String(err)}`, { cause: err });
    const state: LoopState = error instanceof LoadBalancerDown ? "lb-down" : "retrying";
    const capMs = Math.max(CHEAP_RETRY_MS, RETRY_COST_RATIO * passMs);
    const delayMs = (state === "lb-down" ? this.#downBackoff : this.#backoff).next(capMs);
    const was = this.#status;
    const now = Date.now();
    const changed = was.state !== state || was.lastError?.code !== error.code;
    this.#status = {
      state,
      since: changed && was.state !== state ? now : was.since,
      failures: was.failures + 1,
      lastError: { code: error.code, message: error.message, at: now },
      nextRetryAt: now + delayMs,
    };
    if (changed) {
      const fields = { ...failureFields(error), nextRetryMs: delayMs };
      if (state === "lb-down")
        this.#log.info(
          fields,
          "load balancer not running: waiting for it (dest is kept for it to start from)",
        );
      else this.#log.error(fields, "target not applied: retrying with backoff");
    } else this.#log.debug({ code: error.code, nextRetryMs: delayMs }, "still failing");
    if (this.#closed) return;
    this.#dirty = true;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#kick();
    }, delayMs);
  }

  #notifyIdle(): void {
    if (this.busy) return;
    for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }
}

/**
 * Log fields of a failure: a command's argv, exit code and output, else code and message. Never the
 * stack: an operator needs the cause, not lbwatch's call chain.
 */
export function failureFields(error: LbwatchError): Record<string, unknown> {
  const { code, message } = error;
  const fields: Record<string, unknown> = { code, error: message };
  for (const key of ["argv", "exitCode", "stderr", "timedOut"] as const) {
    if (key in error) fields[key] = (error as unknown as Record<string, unknown>)[key];
  }
  return fields;
}
