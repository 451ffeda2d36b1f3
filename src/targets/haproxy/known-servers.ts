/**
 * What lbwatch knows a HAProxy runs, by backend/name: from `show servers state` at a full reconcile,
 * then from the acks of its own commands. It also counts servers per backend, so that the live path
 * can tell, in O(1), whether reading one backend's state is cheap.
 */
import { type RunningServer, serverKey } from "./live-plan.js";

export class KnownServers implements ReadonlyMap<string, RunningServer> {
  #servers = new Map<string, RunningServer>();
  #perBackend = new Map<string, number>();
  /** Servers of a service share their options: one array for each distinct list, not one per server. */
  #options = new Map<string, readonly string[]>();

  /** Replaces everything (a full read). */
  reset(servers: Iterable<RunningServer> = []): void {
    this.#servers = new Map();
    this.#perBackend = new Map();
    this.#options = new Map();
    for (const s of servers) this.set(s);
  }

  set(server: RunningServer): void {
    const key = serverKey(server);
    if (server.options) server.options = this.#shared(server.options);
    if (!this.#servers.has(key)) this.#perBackend.set(server.backend, this.countIn(server.backend) + 1);
    this.#servers.set(key, server);
  }

  delete(key: string): boolean {
    const server = this.#servers.get(key);
    if (!server) return false;
    this.#servers.delete(key);
    this.#perBackend.set(server.backend, this.countIn(server.backend) - 1);
    return true;
  }

  #shared(options: readonly string[]): readonly string[] {
    const text = options.join(" ");
    const known = this.#options.get(text);
    if (known) return known;
    this.#options.set(text, options);
    return options;
  }

  countIn(backend: string): number {
    return this.#perBackend.get(backend) ?? 0;
  }

  get size(): number {
    return this.#servers.size;
  }

  get(key: string): RunningServer | undefined {
    return this.#servers.get(key);
  }

  has(key: string): boolean {
    return this.#servers.has(key);
  }

  forEach(fn: (value: RunningServer, key: string, map: ReadonlyMap<string, RunningServer>) => void): void {
    for (const [key, value] of this.#servers) fn(value, key, this);
  }

  entries(): MapIterator<[string, RunningServer]> {
    return this.#servers.entries();
  }

  keys(): MapIterator<string> {
    return this.#servers.keys();
  }

  values(): MapIterator<RunningServer> {
    return this.#servers.values();
  }

  [Symbol.iterator](): MapIterator<[string, RunningServer]> {
    return this.#servers[Symbol.iterator]();
  }
}
