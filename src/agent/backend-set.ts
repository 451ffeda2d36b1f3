/**
 * The local source claims sockets; etcd holds backends. Several sockets can be one backend (SO_REUSEPORT
 * siblings, a socket seen by the snapshot and the probe), so claims are grouped by their etcd key, and
 * a key's value comes from the sibling with the lowest pid, then the lowest claim key, as the registry
 * does: it does not depend on arrival order, so a restarted agent computes the same value.
 */
import { backendKey, type KeyLayout } from "../etcd/keys.js";
import type { BackendValue } from "../etcd/values.js";
import { backendId } from "../registry/backend-id.js";
import type { BackendClaim } from "../sources/source.js";

function representative(claims: Iterable<BackendClaim>): BackendClaim | undefined {
  let best: BackendClaim | undefined;
  for (const c of claims) {
    if (!best || c.pid < best.pid || (c.pid === best.pid && c.key < best.key)) best = c;
  }
  return best;
}

export function backendValueOf(claim: BackendClaim): BackendValue {
  const { address, port, family, pid, comm, uid, netns, backlog, cgroup, since } = claim;
  return {
    address,
    port,
    family,
    pid,
    comm,
    uid,
    netns,
    backlog,
    since,
    ...(cgroup === undefined ? {} : { cgroup }),
  };
}

export class BackendSet {
  readonly #layout: KeyLayout;
  readonly #hostId: string;
  readonly #claims = new Map<string, { claim: BackendClaim; key: string }>();
  readonly #byKey = new Map<string, Map<string, BackendClaim>>();

  constructor(layout: KeyLayout, hostId: string) {
    this.#layout = layout;
    this.#hostId = hostId;
  }

  keyOf(claim: BackendClaim): string {
    return backendKey(
      this.#layout,
      claim.service,
      this.#hostId,
      backendId(claim.family, claim.address, claim.port),
    );
  }

  /** Every etcd key some claim makes. */
  keys(): IterableIterator<string> {
    return this.#byKey.keys();
  }

  value(key: string): BackendValue | undefined {
    const claims = this.#byKey.get(key);
    const best = claims && representative(claims.values());
    return best && backendValueOf(best);
  }

  /** Applies a change; returns the etcd keys whose value may differ now. */
  update(upserts: Iterable<BackendClaim>, removals: Iterable<string>): Set<string> {
    const touched = new Set<string>();
    for (const claimKey of removals) this.#remove(claimKey, touched);
    for (const claim of upserts) {
      this.#remove(claim.key, touched);
      const key = this.keyOf(claim);
      this.#claims.set(claim.key, { claim, key });
      let group = this.#byKey.get(key);
      if (!group) {
        group = new Map();
        this.#byKey.set(key, group);
      }
      group.set(claim.key, claim);
      touched.add(key);
    }
    return touched;
  }

  replace(claims: Iterable<BackendClaim>): Set<string> {
    const touched = new Set(this.#byKey.keys());
    this.#claims.clear();
    this.#byKey.clear();
    for (const key of this.update(claims, [])) touched.add(key);
    return touched;
  }

  #remove(claimKey: string, touched: Set<string>): void {
    const entry = this.#claims.get(claimKey);
    if (!entry) return;
    this.#claims.delete(claimKey);
    const group = this.#byKey.get(entry.key);
    group?.delete(claimKey);
    if (group?.size === 0) this.#byKey.delete(entry.key);
    touched.add(entry.key);
  }
}
