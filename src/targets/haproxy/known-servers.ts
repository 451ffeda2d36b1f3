/**
 * What lbwatch knows a HAProxy runs, by backend/name: from `show servers state` at a full reconcile,
 * then from the acks of its own commands. It also counts servers per backend, so that the live path
 * can tell, in O(1), whether reading one backend's state is cheap.
 *
 * It holds a record per server of a 100,000-server HAProxy, so each is stored in one fixed shape
 * (objects spread from `show servers state` rows got a hidden class each, ~320 bytes) and keeps no
 * slice of the answer it was read from (a 16-character name sliced from it kept all 13 MB alive).
 */
import { detached, flat } from "../../flat-string.js";
import type { RunningServer } from "./live-plan.js";

export class KnownServers implements ReadonlyMap<string, RunningServer> {
  #servers = new Map<string, RunningServer>();
  #perBackend = new Map<string, number>();
  /** Servers of a service share their options: one array for each distinct list, not one per server. */
  #options = new Map<string, readonly string[]>();
  /** A few backends hold every server: one string each. */
  #backends = new Map<string, string>();

  /** Replaces everything (a full read). */
  reset(servers: Iterable<RunningServer> = []): void {
    this.#servers = new Map();
    this.#perBackend = new Map();
    this.#options = new Map();
    this.#backends = new Map();
    for (const s of servers) this.set(s);
  }

  /** Stores a copy of `server` (what `get` returns from then on, for the caller to update). */
  set(server: RunningServer): void {
    const backend = this.#backendName(server.backend);
    // Flat, so that the name below can be a slice of it.
    const key = flat(backend, "/", server.name);
    const record: RunningServer = {
      backend,
      name: key.slice(backend.length + 1),
      address: detached(server.address),
      port: server.port,
      adminState: server.adminState,
      options: server.options && this.#shared(server.options),
    };
    if (!this.#servers.has(key)) this.#perBackend.set(backend, this.countIn(backend) + 1);
    this.#servers.set(key, record);
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

  #backendName(name: string): string {
    let known = this.#backends.get(name);
    if (known === undefined) {
      known = detached(name);
      this.#backends.set(known, known);
    }
    return known;
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
