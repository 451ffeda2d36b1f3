/**
 * The service registry: every listening socket lbwatch knows of, keyed by socket identity (inode), and
 * the backends they make. A backend is (service, address, port); SO_REUSEPORT siblings and the same
 * socket seen by both the snapshot and the stream share one backend, which goes away only when its
 * last socket closes. Calls are applied one at a time in call order, although address and cgroup
 * lookups are asynchronous.
 */
import type { Config } from "../config/types.js";
import type { Logger } from "../log.js";
import type { ListenEvent, Listener } from "../probe/event.js";
import { type Backend, makeBackend } from "./backend.js";
import { type AddressDeps, BackendAddresses } from "./backend-address.js";
import { CgroupPaths } from "./cgroup-path.js";
import { Classifier, type Placement } from "./classify.js";

export interface RegistryChange {
  added: Backend[];
  removed: Backend[];
  /** Backends still up whose per-process fields (pid, comm, ...) changed because a sibling came or went. */
  updated?: Backend[];
  /** Kernel time (ns) of the earliest event in the change; absent for snapshot-driven changes. */
  firstEventTs?: bigint;
}

export interface RegistryDeps extends Pick<AddressDeps, "hostNetns" | "inspector"> {
  log: Logger;
  /** cgroup v2 path of a pid; defaults to reading /proc/PID/cgroup. */
  cgroupPath?: (pid: number) => Promise<string | undefined>;
}

/** True when a change needs no render. */
export function isEmptyChange(change: RegistryChange): boolean {
  return change.added.length + change.removed.length + (change.updated?.length ?? 0) === 0;
}

type Change = RegistryChange & { updated: Backend[] };

/** A backend and the sockets behind it (usually one; several for SO_REUSEPORT siblings). */
interface Entry {
  key: string;
  backend: Backend;
  socks: Listener[];
}

/** Every listening socket (matched or not: rules may change) and the backends the matched ones make. */
class State {
  readonly held = new Map<number, { listener: Listener; entry: Entry | undefined }>();
  readonly entries = new Map<string, Entry>();

  attach(listener: Listener, placement: Placement | undefined, change: Change): void {
    let entry = placement && this.entries.get(placement.key);
    if (entry) {
      entry.socks.push(listener);
      refresh(entry, change);
    } else if (placement) {
      entry = { key: placement.key, backend: makeBackend(placement, listener), socks: [listener] };
      this.entries.set(placement.key, entry);
      change.added.push(entry.backend);
    }
    this.held.set(listener.sock, { listener, entry });
  }

  detach(sock: number, change: Change): void {
    const entry = this.held.get(sock)?.entry;
    this.held.delete(sock);
    if (!entry) return;
    entry.socks = entry.socks.filter((l) => l.sock !== sock);
    if (entry.socks.length > 0) {
      refresh(entry, change);
      return;
    }
    this.entries.delete(entry.key);
    change.removed.push(entry.backend);
  }
}

/** The sibling that speaks for a backend: lowest pid, then lowest socket inode, whatever the arrival order. */
function representative(socks: Listener[]): Listener {
  return socks.reduce((best, l) =>
    l.pid < best.pid || (l.pid === best.pid && l.sock < best.sock) ? l : best,
  );
}

function sameBackend(a: Backend, b: Backend): boolean {
  return (Object.keys(a) as (keyof Backend)[]).every((field) => a[field] === b[field]);
}

function refresh(entry: Entry, change: Change): void {
  const { service, family, address, port } = entry.backend;
  const backend = makeBackend({ service, ip: { family, address }, port }, representative(entry.socks));
  if (sameBackend(backend, entry.backend)) return;
  entry.backend = backend;
  change.updated.push(backend);
}

function sameSocket(a: Listener, b: Listener): boolean {
  return a.addr === b.addr && a.port === b.port && a.netns === b.netns && a.family === b.family;
}

const newChange = (): Change => ({ added: [], removed: [], updated: [] });

export class Registry {
  readonly #deps: RegistryDeps;
  readonly #cgroups: CgroupPaths;
  #classifier: Classifier;
  #state = new State();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(config: Config, deps: RegistryDeps) {
    this.#deps = deps;
    this.#cgroups = new CgroupPaths(deps.cgroupPath);
    this.#classifier = this.#classifierFor(config);
  }

  /** One kernel event. A listen of a socket already held (snapshot and stream overlap) changes nothing. */
  applyEvent(ev: ListenEvent): Promise<RegistryChange> {
    return this.#serial(async () => {
      const change = newChange();
      const held = this.#state.held.get(ev.sock);
      if (ev.type === "listen" && held && sameSocket(held.listener, ev)) return change;
      // A listen on a held inode with another address means its close was lost: replace it.
      if (held) this.#state.detach(ev.sock, change);
      if (ev.type === "listen") this.#state.attach(ev, await this.#classifier.place(ev), change);
      if (!isEmptyChange(change)) change.firstEventTs = ev.ts;
      return change;
    });
  }

  /**
   * Replaces everything with a fresh snapshot (after lost events, or every `resync`) and returns the
   * difference: its size is how many backends were wrong. Netns addresses are read again.
   */
  reconcile(snapshot: Listener[]): Promise<RegistryChange> {
    return this.#serial(() => {
      this.#classifier.forgetAddresses();
      return this.#rebuild(snapshot);
    });
  }

  /** A reloaded config: every held listener is placed again under the new rules and addresses. */
  setRules(config: Config): Promise<RegistryChange> {
    return this.#serial(() => {
      this.#classifier = this.#classifierFor(config);
      return this.#rebuild(Array.from(this.#state.held.values(), (held) => held.listener));
    });
  }

  /** Current backends, unordered (render/context.ts sorts). */
  backends(): Backend[] {
    return Array.from(this.#state.entries.values(), (entry) => entry.backend);
  }

  /** Number of listening sockets held, matched or not. */
  get size(): number {
    return this.#state.held.size;
  }

  async #rebuild(listeners: Iterable<Listener>): Promise<RegistryChange> {
    const next = new State();
    const unused = newChange();
    for (const listener of listeners) {
      if (!next.held.has(listener.sock))
        next.attach(listener, await this.#classifier.place(listener), unused);
    }
    const change = newChange();
    for (const [key, entry] of this.#state.entries) {
      const now = next.entries.get(key);
      if (!now) change.removed.push(entry.backend);
      else if (!sameBackend(now.backend, entry.backend)) change.updated.push(now.backend);
    }
    for (const [key, entry] of next.entries) {
      if (!this.#state.entries.has(key)) change.added.push(entry.backend);
    }
    this.#state = next;
    return change;
  }

  #classifierFor(config: Config): Classifier {
    const addresses = new BackendAddresses({ ...this.#deps, ...config });
    return new Classifier(config.services, this.#deps.hostNetns, addresses, this.#cgroups, this.#deps.log);
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
