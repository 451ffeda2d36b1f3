/**
 * The servers of a running HAProxy that lbwatch changes through the Runtime API. An apply takes gone
 * servers out of the rotation (maintenance) and adds and enables new ones at once. Deleting a gone
 * server must wait for its last connection, so it happens in the background, retried with backoff for
 * a bounded time, and never holds up the next apply. Every command goes through one queue, so a
 * deletion never interleaves with an apply; a server that comes back while its old self still waits
 * in maintenance is enabled again instead of being added a second time (HAProxy refuses duplicates).
 */
import { LbwatchError } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { RuntimeApi, ServerState } from "./runtime-api.js";
import { type ServerLine, sameServer } from "./server-lines.js";

/** HAProxy's admin-state bit for forced maintenance. */
const FORCED_MAINT = 0x01;
/** First retry of the pending deletions; doubled after each round that left some, up to the max. */
const RETRY_FIRST_MS = 10;
const RETRY_MAX_MS = 1000;
/** Long enough for in-flight requests and HAProxy's idle-connection purge; then it is left to a reload. */
const DRAIN_LIMIT_MS = 60_000;

export interface ServerChange {
  added: readonly ServerLine[];
  removed: readonly ServerLine[];
}

interface Draining {
  server: ServerLine;
  /** Date.now() after which lbwatch stops trying: the server stays in maintenance until a reload. */
  giveUpAt: number;
}

const keyOf = (s: ServerLine) => `${s.proxy}/${s.name}`;

export class LiveServers {
  readonly #api: RuntimeApi;
  readonly #log: Logger;
  readonly #drainLimitMs: number;
  /** Gone servers in maintenance whose deletion is still due, by proxy/name. */
  readonly #draining = new Map<string, Draining>();
  #queue: Promise<unknown> = Promise.resolve();
  #retry: NodeJS.Timeout | undefined;
  #retryMs = RETRY_FIRST_MS;

  constructor(api: RuntimeApi, log: Logger, options: { drainLimitMs?: number } = {}) {
    this.#api = api;
    this.#log = log;
    this.#drainLimitMs = options.drainLimitMs ?? DRAIN_LIMIT_MS;
  }

  /**
   * Routes the change now and checks the result in `show servers state`. Rejects with E_HAPROXY_API
   * when HAProxy refused a command or shows something else: a reload from the file is then due.
   */
  apply(change: ServerChange): Promise<void> {
    return this.#serial(async () => {
      for (const s of change.removed) {
        await this.#api.setMaintenance(s.proxy, s.name);
        this.#draining.set(keyOf(s), { server: s, giveUpAt: Date.now() + this.#drainLimitMs });
      }
      for (const s of change.added) await this.#add(s);
      verify(await this.#api.serversState(), change, this.#api.socketPath);
      if (change.removed.length > 0) this.#scheduleDeletions(true);
    });
  }

  /** Servers in maintenance waiting to be deleted, as proxy/name. */
  get draining(): string[] {
    return [...this.#draining.keys()];
  }

  /** A reload starts workers from the file, which no longer has the servers waiting for deletion. */
  forget(): void {
    this.#draining.clear();
    this.#stopRetrying();
  }

  async #add(s: ServerLine): Promise<void> {
    const old = this.#draining.get(keyOf(s));
    if (old) {
      this.#draining.delete(keyOf(s));
      if (sameServer(old.server, s)) return this.#enable(s);
      if (!(await this.#api.deleteServer(s.proxy, s.name))) {
        throw new LbwatchError(
          "E_HAPROXY_API",
          `${this.#api.socketPath}: server ${keyOf(s)} came back with another address or options while its old self still has connections`,
        );
      }
    }
    await this.#api.addServer(s.proxy, s.name, s.address, s.options);
    await this.#enable(s);
  }

  /** As from the config file: checks run when the line asks for them, and a `disabled` server waits. */
  async #enable(s: ServerLine): Promise<void> {
    if (s.options.includes("check")) await this.#api.enableHealth(s.proxy, s.name);
    if (s.options.includes("agent-check")) await this.#api.enableAgent(s.proxy, s.name);
    if (!s.options.includes("disabled")) await this.#api.enableServer(s.proxy, s.name);
  }

  /** `soon`: a server was just put in maintenance, so start again from the shortest delay. */
  #scheduleDeletions(soon: boolean): void {
    if (soon) {
      this.#stopRetrying();
      this.#retryMs = RETRY_FIRST_MS;
    } else this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
    if (this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#serial(() => this.#deleteDrained()).catch((err: unknown) =>
        this.#log.error({ err }, "deleting drained servers failed"),
      );
    }, this.#retryMs);
    // Pending deletions must not keep a stopping lbwatch alive: the next reload drops those servers.
    this.#retry.unref();
  }

  /** One round over the pending deletions, inside the queue (an apply may have re-enabled some). */
  async #deleteDrained(): Promise<void> {
    let waiting = false;
    for (const [key, { server, giveUpAt }] of this.#draining) {
      if (Date.now() >= giveUpAt) continue;
      let deleted: boolean;
      try {
        deleted = await this.#api.deleteServer(server.proxy, server.name);
      } catch (err) {
        // Already gone (a reload lbwatch did not do) or refused for good: nothing left to retry.
        this.#draining.delete(key);
        this.#log.debug({ server: key, err }, "drained server not deleted");
        continue;
      }
      if (deleted) {
        this.#draining.delete(key);
        this.#log.debug({ server: key }, "drained server deleted");
      } else if (Date.now() + this.#retryMs >= giveUpAt) {
        this.#log.warn(
          { server: key, drainLimitMs: this.#drainLimitMs },
          "server still has connections: left in maintenance (no new traffic) until the next reload",
        );
      } else waiting = true;
    }
    if (waiting) this.#scheduleDeletions(false);
  }

  #stopRetrying(): void {
    clearTimeout(this.#retry);
    this.#retry = undefined;
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/** `show servers state` must list every added server (ready unless `disabled`), no removed one in rotation. */
function verify(state: ServerState[], change: ServerChange, socketPath: string): void {
  const byKey = new Map(state.map((s) => [`${s.backend}/${s.name}`, s]));
  const wrong: string[] = [];
  for (const s of change.added) {
    const found = byKey.get(keyOf(s));
    if (!found) wrong.push(`${keyOf(s)} is missing`);
    else if (!s.options.includes("disabled") && (found.adminState & FORCED_MAINT) !== 0) {
      wrong.push(`${keyOf(s)} is still in maintenance`);
    }
  }
  for (const s of change.removed) {
    const found = byKey.get(keyOf(s));
    if (found && (found.adminState & FORCED_MAINT) === 0) wrong.push(`${keyOf(s)} is still in rotation`);
  }
  if (wrong.length > 0) {
    throw new LbwatchError(
      "E_HAPROXY_API",
      `${socketPath}: after applying, show servers state says ${wrong.join("; ")}`,
    );
  }
}
