/**
 * Servers lbwatch took out of rotation and will delete. HAProxy refuses `del server` while a server
 * has connections, so deletion waits for its last one: first tried 500 ms after the maintenance,
 * then backing off to once every 2 s, for up to 60 s; a server still busy after that stays in
 * maintenance (it gets no traffic) until the next reload drops it. The first try waits because
 * HAProxy 2.6 can crash on a `del server` racing the last streams of a server just put in
 * maintenance (haproxy/haproxy#2323, #2378; seen in this project's benchmarks), and a server in
 * maintenance costs nothing but its slot. Rounds never hold up an apply: the owner runs them in its
 * own queue, and asks which servers are due only once the round's turn has come there. A server
 * re-enabled while the round waited is not due any more: HAProxy would refuse its deletion, and a
 * refusal (which says lbwatch's view of HAProxy is wrong) costs a full reconcile.
 *
 * A server lbwatch stops trying to delete (the time limit, a refusal) stays on the list: its
 * maintenance is still lbwatch's, and HAProxy shows lbwatch's maintenance and an operator's as the
 * same bit, so forgetting it would turn it into an operator's and keep the server out when its
 * backend comes back. Only what runs takes a server off: deleted, gone, set ready by lbwatch, or not
 * in maintenance any more when a full reconcile reads HAProxy (`retain`).
 */
import type { Logger } from "../../log.js";
import type { ServerRef } from "./runtime-commands.js";

const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 2000;
/** Long enough for in-flight requests and HAProxy's idle-connection purge; then it is left to a reload. */
export const DRAIN_LIMIT_MS = 60_000;

export type DeleteOutcome = "deleted" | "busy" | "gone" | "refused";

interface Draining {
  ref: ServerRef;
  /** Its maintenance is this recent until then (a round may run sooner for an older one). */
  notBefore: number;
  giveUpAt: number;
  /** Still to be deleted by the rounds; false once given up (kept in maintenance). */
  deleting: boolean;
}

export class DrainQueue {
  readonly #remove: (due: () => ServerRef[]) => Promise<DeleteOutcome[]>;
  readonly #log: Logger;
  readonly #limitMs: number;
  readonly #onChange: (keys: () => Iterable<string>) => void;
  readonly #servers = new Map<string, Draining>();
  /** How many of #servers the rounds still delete: no timer runs for the given-up ones alone. */
  #deleting = 0;
  #timer: NodeJS.Timeout | undefined;
  /** When #timer fires. */
  #timerAt = Number.POSITIVE_INFINITY;
  #inRound = false;
  #delayMs = RETRY_FIRST_MS;

  /**
   * `remove` calls `due` inside the owner's queue, deletes the servers it returns and says how each
   * went; `onChange` hears (as a getter, read when needed) the keys being drained whenever they
   * change (src/targets/haproxy/drain-record.ts).
   */
  constructor(
    remove: (due: () => ServerRef[]) => Promise<DeleteOutcome[]>,
    log: Logger,
    onChange: (keys: () => Iterable<string>) => void = () => {},
    limitMs = DRAIN_LIMIT_MS,
  ) {
    this.#remove = remove;
    this.#log = log;
    this.#onChange = onChange;
    this.#limitMs = limitMs;
  }

  readonly #keys = () => this.#servers.keys();

  has(key: string): boolean {
    return this.#servers.has(key);
  }

  keys(): Iterable<string> {
    return this.#servers.keys();
  }

  add(key: string, ref: ServerRef): void {
    this.#forget(key);
    const now = Date.now();
    this.#servers.set(key, {
      ref,
      notBefore: now + RETRY_FIRST_MS,
      giveUpAt: now + this.#limitMs,
      deleting: true,
    });
    this.#deleting++;
    this.#onChange(this.#keys);
    this.#armAt(now + RETRY_FIRST_MS);
  }

  /** Back in the desired set (or gone by other means): no longer to delete. */
  delete(key: string): void {
    if (this.#forget(key)) this.#onChange(this.#keys);
  }

  /** What runs, read whole: only the servers `inMaintenance` says are still in maintenance stay. */
  retain(inMaintenance: (key: string) => boolean): void {
    let changed = false;
    for (const key of [...this.#servers.keys()]) {
      if (!inMaintenance(key)) changed = this.#forget(key) || changed;
    }
    if (changed) this.#onChange(this.#keys);
  }

  /** lbwatch stops: the record keeps the list for its successor. */
  clear(): void {
    const had = this.#servers.size > 0;
    this.#servers.clear();
    this.#deleting = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (had) this.#onChange(this.#keys);
  }

  #forget(key: string): boolean {
    const d = this.#servers.get(key);
    if (!d) return false;
    if (d.deleting) this.#deleting--;
    this.#servers.delete(key);
    return true;
  }

  #stopDeleting(d: Draining): void {
    if (!d.deleting) return;
    d.deleting = false;
    this.#deleting--;
  }

  /**
   * A round at `at`, unless one is due sooner. A removal never pushes an armed round out: under a
   * stream of removals less than 500 ms apart, none would run and HAProxy would keep every one.
   * After a round the next comes 500 ms later at the earliest, with everything due by then.
   */
  #armAt(at: number): void {
    if (this.#deleting === 0 || this.#inRound || at >= this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Number.POSITIVE_INFINITY;
        this.#round().catch((err: unknown) => this.#log.debug({ err }, "server deletions failed: retrying"));
      },
      Math.max(0, at - Date.now()),
    );
    // Pending deletions must not keep a stopping lbwatch alive: the next reload drops those servers.
    this.#timer.unref();
  }

  #backOff(): void {
    this.#delayMs = Math.min(this.#delayMs * 2, RETRY_MAX_MS);
    this.#armAt(Date.now() + this.#delayMs);
  }

  async #round(): Promise<void> {
    let due: [string, Draining][] = [];
    // One round at a time: a second would delete the first one's servers again. The end of this one
    // arms the next for whatever came meanwhile.
    this.#inRound = true;
    const outcomes = await this.#remove(() => {
      due = this.#due();
      return due.map(([, d]) => d.ref);
    })
      .finally(() => {
        this.#inRound = false;
      })
      .catch((err: unknown) => {
        this.#backOff();
        throw err;
      });
    let busy = false;
    let changed = false;
    due.forEach(([key, d], i) => {
      // Only the outcomes of deletions sent: the list may change while HAProxy answers.
      if (this.#servers.get(key) !== d) return;
      const outcome = outcomes[i];
      if (outcome === "busy") busy = true;
      else if (outcome === "refused") this.#stopDeleting(d);
      else changed = this.#forget(key) || changed;
    });
    if (changed) this.#onChange(this.#keys);
    if (busy) this.#backOff();
    else this.#delayMs = RETRY_FIRST_MS;
    // The rest (due while this round ran, or later) go at their own time, but in one round with all
    // due by then: a round takes the target's queue, which live changes under churn are waiting for.
    const tried = new Set(due.map(([, d]) => d));
    let next = Number.POSITIVE_INFINITY;
    for (const d of this.#servers.values())
      if (d.deleting && !tried.has(d)) next = Math.min(next, d.notBefore);
    this.#armAt(Math.max(next, Date.now() + RETRY_FIRST_MS));
  }

  /** The servers to delete now; those past the limit are given up (kept in maintenance). */
  #due(): [string, Draining][] {
    const now = Date.now();
    const due: [string, Draining][] = [];
    for (const [key, d] of this.#servers) {
      if (!d.deleting || d.notBefore > now) continue;
      if (d.giveUpAt > now) {
        due.push([key, d]);
        continue;
      }
      this.#stopDeleting(d);
      this.#log.warn(
        { server: key, drainLimitMs: this.#limitMs },
        "server still has connections: left in maintenance (no new traffic) until the next reload",
      );
    }
    return due;
  }
}
