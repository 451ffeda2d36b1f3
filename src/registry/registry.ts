/**
 * The registry: every backend lbwatch knows of and the claims behind it, in one place. Sources claim
 * backends (src/sources/source.ts); a backend is (service, address, port) and lives while at least one
 * claim of any source stands behind it, so SO_REUSEPORT siblings, a socket seen by both the snapshot
 * and the stream, and a backend reported by the local probe and by an agent count once.
 *
 * Claims are keyed by (source, key): a socket inode means something only on its own host. Every call
 * is synchronous and costs O(claims it names); `replace` (a source's full view) and `regate` (a config
 * reload) are the only O(all) ones.
 *
 * Readiness lives here too, as each backend's `ready`: a new backend of a gated service starts not
 * ready, and `markReady` (called by src/readiness/ when its check passed) turns it into an ordinary
 * `updated` change, so targets need nothing new to follow it. It stays ready while any claim stands
 * behind it; once the last one is gone, a backend that comes back waits again.
 */
import type { BackendClaim } from "../sources/source.js";
import { type Backend, makeBackend, sameBackend } from "./backend.js";
import { backendId } from "./backend-id.js";
import { Slots } from "./slots.js";

export interface RegistryChange {
  added: Backend[];
  removed: Backend[];
  /** Backends still up whose per-process fields (pid, comm, ...) changed: the new value. */
  updated: Backend[];
  /** The values `updated` replaced, in the same order (set by the registry, not kept by folds). */
  updatedFrom?: Backend[];
  /** Kernel time (ns) of the earliest event in the change; absent for snapshot-driven changes. */
  firstEventTs?: bigint;
}

export function isEmptyChange(change: RegistryChange): boolean {
  return change.added.length + change.removed.length + change.updated.length === 0;
}

export const emptyChange = (): RegistryChange => ({ added: [], removed: [], updated: [] });

/** One object per claim, in both maps below, so an update of the claim is seen by both. */
interface HeldClaim {
  source: string;
  claim: BackendClaim;
  entry: Entry;
}

interface Entry {
  /** Its `ready` is the entry's: it outlives the claims the rest is recomputed from. */
  backend: Backend;
  /**
   * Claims behind it: one, nearly always, held without an array (one costs ~56 bytes a backend);
   * none only between a withdrawal and the settle that removes the entry.
   */
  claims: HeldClaim | HeldClaim[] | undefined;
}

const NO_CLAIMS: readonly HeldClaim[] = Object.freeze([]);

function claimsOf(entry: Entry): readonly HeldClaim[] {
  const { claims } = entry;
  return claims === undefined ? NO_CLAIMS : Array.isArray(claims) ? claims : [claims];
}

function addClaim(entry: Entry, held: HeldClaim): void {
  const { claims } = entry;
  if (claims === undefined) entry.claims = held;
  else if (Array.isArray(claims)) claims.push(held);
  else entry.claims = [claims, held];
}

function removeClaim(entry: Entry, held: HeldClaim): void {
  const { claims } = entry;
  if (claims === held) entry.claims = undefined;
  else if (Array.isArray(claims)) {
    claims.splice(claims.indexOf(held), 1);
    if (claims.length === 1) entry.claims = claims[0];
  }
}

/** Claims compare equal when everything but `since` is: a resync re-reporting a socket changes nothing. */
function sameClaim(a: BackendClaim, b: BackendClaim): boolean {
  return (
    a.service === b.service &&
    a.address === b.address &&
    a.port === b.port &&
    a.family === b.family &&
    a.host === b.host &&
    a.pid === b.pid &&
    a.comm === b.comm &&
    a.uid === b.uid &&
    a.netns === b.netns &&
    a.backlog === b.backlog &&
    a.cgroup === b.cgroup
  );
}

/** Socket inodes sort numerically, etcd keys as text: the order must not depend on arrival. */
function compareKeys(a: string, b: string): number {
  if (a.length !== b.length && /^\d+$/.test(a) && /^\d+$/.test(b)) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The claim that speaks for a backend: lowest pid, then source, then key. */
function representative(claims: readonly HeldClaim[]): HeldClaim {
  let best: HeldClaim | undefined;
  for (const held of claims) {
    if (
      !best ||
      held.claim.pid < best.claim.pid ||
      (held.claim.pid === best.claim.pid &&
        (held.source < best.source ||
          (held.source === best.source && compareKeys(held.claim.key, best.claim.key) < 0)))
    ) {
      best = held;
    }
  }
  return best as HeldClaim;
}

/** Whether a service has a readiness gate. */
export type Gated = (service: string) => boolean;

export class Registry {
  /** Backends by service, then id: keyed by the backend's own id string, not one more per backend. */
  readonly #entries = new Map<string, Map<string, Entry>>();
  #size = 0;
  /** Each source's claims by key. */
  readonly #bySource = new Map<string, Map<string, HeldClaim>>();
  readonly #slots = new Map<string, Slots>();
  #gated: Gated;

  constructor(gated: Gated = () => false) {
    this.#gated = gated;
  }

  /** Claims added or changed and keys withdrawn by one source. */
  update(
    source: string,
    upserts: readonly BackendClaim[],
    removals: readonly string[],
    firstEventTs?: bigint,
  ): RegistryChange {
    const change = emptyChange();
    const touched = new Map<Entry, Backend | undefined>();
    for (const key of removals) this.#withdraw(source, key, touched);
    for (const claim of upserts) this.#claim(source, claim, touched);
    this.#settle(touched, change);
    if (firstEventTs !== undefined && !isEmptyChange(change)) change.firstEventTs = firstEventTs;
    return change;
  }

  /** A source's full view: what it no longer claims is withdrawn, the rest upserted. */
  replace(source: string, claims: Iterable<BackendClaim>): RegistryChange {
    const change = emptyChange();
    const touched = new Map<Entry, Backend | undefined>();
    const stale = new Set(this.#bySource.get(source)?.keys());
    for (const claim of claims) {
      stale.delete(claim.key);
      this.#claim(source, claim, touched);
    }
    for (const key of stale) this.#withdraw(source, key, touched);
    this.#settle(touched, change);
    return change;
  }

  /** A waiting backend passed its readiness check: it becomes routable (an `updated` change). */
  markReady(service: string, id: string, firstEventTs?: bigint): RegistryChange {
    const change = emptyChange();
    const entry = this.#entries.get(service)?.get(id);
    if (!entry || entry.backend.ready) return change;
    const before = entry.backend;
    entry.backend = { ...before, ready: true };
    change.updated.push(entry.backend);
    change.updatedFrom = [before];
    if (firstEventTs !== undefined) change.firstEventTs = firstEventTs;
    return change;
  }

  /**
   * The gated services changed (config reload). Backends of a service that lost its gate are ready
   * now; those of a service that gained one stay as they are: they are already serving.
   */
  regate(gated: Gated): RegistryChange {
    this.#gated = gated;
    const change = emptyChange();
    const from: Backend[] = [];
    for (const backend of this.backends()) {
      if (backend.ready || gated(backend.service)) continue;
      from.push(backend);
      change.updated.push(...this.markReady(backend.service, backend.id).updated);
    }
    if (from.length > 0) change.updatedFrom = from;
    return change;
  }

  /** A source that goes away for good (config reload removed it): all its claims are withdrawn. */
  drop(source: string): RegistryChange {
    return this.replace(source, []);
  }

  *backends(): IterableIterator<Backend> {
    for (const entries of this.#entries.values()) for (const entry of entries.values()) yield entry.backend;
  }

  get(service: string, id: string): Backend | undefined {
    return this.#entries.get(service)?.get(id)?.backend;
  }

  /** Number of backends. */
  get size(): number {
    return this.#size;
  }

  /** Number of claims a source holds. */
  claimCount(source: string): number {
    return this.#bySource.get(source)?.size ?? 0;
  }

  /** `touched` remembers each entry's backend before this call (undefined: the entry is new). */
  #claim(source: string, claim: BackendClaim, touched: Map<Entry, Backend | undefined>): void {
    let claims = this.#bySource.get(source);
    if (!claims) {
      claims = new Map();
      this.#bySource.set(source, claims);
    }
    const held = claims.get(claim.key);
    const { service } = claim;
    const id = backendId(claim.family, claim.address, claim.port);
    if (held && held.entry.backend.service === service && held.entry.backend.id === id) {
      if (sameClaim(held.claim, claim)) return;
      held.claim = { ...claim, since: held.claim.since };
      if (!touched.has(held.entry)) touched.set(held.entry, held.entry.backend);
      return;
    }
    // A known key that now describes another backend: its earlier claim is over (a lost close).
    if (held) this.#withdraw(source, claim.key, touched);
    let entries = this.#entries.get(service);
    if (!entries) {
      entries = new Map();
      this.#entries.set(service, entries);
    }
    let entry = entries.get(id);
    if (!entry) {
      let slots = this.#slots.get(service);
      if (!slots) {
        slots = new Slots();
        this.#slots.set(service, slots);
      }
      const backend = makeBackend(source, claim, claim.since, !this.#gated(service), slots.take());
      entry = { backend, claims: undefined };
      // The backend's id string, which it holds anyway.
      entries.set(backend.id, entry);
      this.#size++;
      touched.set(entry, undefined);
    } else if (!touched.has(entry)) touched.set(entry, entry.backend);
    const next: HeldClaim = { source, claim, entry };
    claims.set(claim.key, next);
    addClaim(entry, next);
  }

  #withdraw(source: string, key: string, touched: Map<Entry, Backend | undefined>): void {
    const claims = this.#bySource.get(source);
    const held = claims?.get(key);
    if (!claims || !held) return;
    claims.delete(key);
    if (claims.size === 0) this.#bySource.delete(source);
    if (!touched.has(held.entry)) touched.set(held.entry, held.entry.backend);
    removeClaim(held.entry, held);
  }

  /** Recomputes each touched entry once and records what changed about it. */
  #settle(touched: Map<Entry, Backend | undefined>, change: RegistryChange): void {
    for (const [entry, before] of touched) {
      const held = claimsOf(entry);
      if (held.length === 0) {
        const { service, id, slot } = entry.backend;
        const entries = this.#entries.get(service);
        entries?.delete(id);
        if (entries?.size === 0) this.#entries.delete(service);
        this.#size--;
        const slots = this.#slots.get(service);
        slots?.give(slot);
        if (slots?.size === 0) this.#slots.delete(service);
        if (before) change.removed.push(before);
        continue;
      }
      const rep = representative(held);
      let since = Number.POSITIVE_INFINITY;
      for (const h of held) since = Math.min(since, h.claim.since);
      const { ready, slot } = entry.backend;
      const next = makeBackend(rep.source, rep.claim, since, ready, slot, entry.backend);
      if (!before) {
        entry.backend = next;
        change.added.push(next);
      } else if (!sameBackend(before, next)) {
        entry.backend = next;
        change.updated.push(next);
        change.updatedFrom ??= [];
        change.updatedFrom.push(before);
      }
    }
  }
}
