/**
 * The agent's side of etcd: a SourceSink fed by the local source, which keeps under one lease
 *
 *   <prefix>/v1/backends/<service>/<hostId>/<backend id>   one per backend it may publish
 *   <prefix>/v1/hosts/<hostId>                             version, boot id, start time, addresses
 *
 * At the first full view, and whenever the lease was lost, etcd came back or a write failed, it reads
 * what etcd holds, adopts the lease of the keys it finds when that lease still lives (a restarted
 * agent), and writes the difference in one transaction guarded by the host key's revision: unchanged
 * backends are not written, stale ones are deleted. Between those, each change is written as it comes,
 * batched per event-loop turn. Writes are serial; a failure waits a jittered backoff.
 *
 * A backend is published only on an address the host key advertises: a listener bound to an address
 * other hosts cannot reach is left out, with one warning, rather than refused later by every reader.
 */
import type { Etcd3 } from "etcd3";
import type { EtcdConnection } from "../config/types.js";
import { Backoff } from "../etcd/backoff.js";
import { errorText } from "../etcd/client.js";
import { EtcdFailureLog } from "../etcd/failure-log.js";
import { hostKey, keyLayout } from "../etcd/keys.js";
import { type BackendValue, encodeHostValue, type HostValue } from "../etcd/values.js";
import type { Logger } from "../log.js";
import type { BackendClaim, ReplaceInfo, SourceSink } from "../sources/source.js";
import { BackendSet } from "./backend-set.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { commit, MAX_TXN_OPS, planBackends, putOp, readStored } from "./write-plan.js";

export interface PublisherOptions {
  client: Etcd3;
  /** What the client was made from: its prefix holds the keys; the rest explains failures. */
  etcd: EtcdConnection;
  hostId: string;
  ttlSeconds: number;
  /** The host key's value now; read at every write, so an address added since is advertised. */
  host(): HostValue;
  log: Logger;
  /** etcd's --max-txn-ops, when the cluster raised it. */
  maxTxnOps?: number;
}

export type PublisherState = "starting" | "ok" | "stale" | "closed";

export interface PublisherStatus {
  state: PublisherState;
  detail?: string;
  lease?: string;
  /** Backend keys etcd holds for this host, as far as the publisher knows. */
  published: number;
  /** Keys changed locally and not yet written. */
  pending: number;
}

export class Publisher implements SourceSink {
  readonly #o: PublisherOptions;
  readonly #hostKey: string;
  readonly #set: BackendSet;
  readonly #keeper: LeaseKeeper;
  readonly #backoff = new Backoff({ firstMs: 200, maxMs: 5000 });
  #published = new Map<string, BackendValue>();
  #hostPublished: string | undefined;
  #addresses = new Set<string>();
  readonly #dirty = new Set<string>();
  /** Keys left out because their address is not advertised: warned about once. */
  readonly #unpublishable = new Set<string>();
  #ready = false;
  #needSync = true;
  #scheduled = false;
  #running: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #state: PublisherState = "starting";
  #detail: string | undefined;
  #idle: (() => void)[] = [];
  readonly #failures: EtcdFailureLog;

  constructor(options: PublisherOptions) {
    this.#o = options;
    this.#failures = new EtcdFailureLog({
      connection: options.etcd,
      access: "readwrite",
      log: options.log,
      meanwhile: "local changes wait; the lease expires after ttl",
    });
    const layout = keyLayout(options.etcd.prefix);
    this.#hostKey = hostKey(layout, options.hostId);
    this.#set = new BackendSet(layout, options.hostId);
    this.#keeper = new LeaseKeeper({
      client: options.client,
      ttlSeconds: options.ttlSeconds,
      log: options.log,
      onReset: () => {
        this.#needSync = true;
        clearTimeout(this.#retryTimer);
        this.#retryTimer = undefined;
        this.#schedule();
      },
    });
  }

  replace(claims: Iterable<BackendClaim>, _info: ReplaceInfo): void {
    for (const key of this.#set.replace(claims)) this.#dirty.add(key);
    this.#ready = true;
    this.#schedule();
  }

  update(upserts: readonly BackendClaim[], removals: readonly string[]): void {
    for (const key of this.#set.update(upserts, removals)) this.#dirty.add(key);
    this.#schedule();
  }

  /** Resolves once etcd holds exactly the current set (for tests and benchmarks). */
  idle(): Promise<void> {
    if (this.#clean()) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops writing and renewing; does not revoke: the backends still run, and a restart must not flap. */
  async close(): Promise<void> {
    this.#state = "closed";
    clearTimeout(this.#retryTimer);
    this.#keeper.close();
    await this.#running;
  }

  status(): PublisherStatus {
    return {
      state: this.#state,
      ...(this.#detail === undefined ? {} : { detail: this.#detail }),
      ...(this.#keeper.id === undefined ? {} : { lease: this.#keeper.id }),
      published: this.#published.size,
      pending: this.#dirty.size,
    };
  }

  #clean(): boolean {
    return this.#state === "ok" && !this.#running && !this.#needSync && this.#dirty.size === 0;
  }

  #schedule(): void {
    if (this.#scheduled || this.#state === "closed") return;
    this.#scheduled = true;
    // One write per event-loop turn: every change the local source delivers in this turn goes in it.
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#running || this.#retryTimer || !this.#ready || this.#state === "closed") return;
      this.#running = this.#loop().finally(() => {
        this.#running = undefined;
      });
    });
  }

  async #loop(): Promise<void> {
    try {
      while (this.#state !== "closed" && (this.#needSync || this.#dirty.size > 0)) {
        if (this.#needSync) await this.#sync();
        else await this.#flush();
      }
      if (this.#state === "closed") return;
      this.#backoff.reset();
      this.#setState("ok");
      for (const resolve of this.#idle.splice(0)) resolve();
    } catch (err) {
      if (this.#state === "closed") return;
      this.#needSync = true;
      this.#setState("stale", errorText(err));
      void this.#failures.failed(err);
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = undefined;
        this.#schedule();
      }, this.#backoff.next());
    }
  }

  /** What etcd should hold for a key: its claims' value, if its address is one this host advertises. */
  #desired(key: string): BackendValue | undefined {
    const value = this.#set.value(key);
    if (!value || this.#addresses.has(value.address)) {
      this.#unpublishable.delete(key);
      return value;
    }
    if (!this.#unpublishable.has(key)) {
      this.#unpublishable.add(key);
      this.#o.log.warn(
        { key, address: value.address, advertised: [...this.#addresses] },
        "not publishing a backend on an address this host does not advertise",
      );
    }
    return undefined;
  }

  /** The host key's value now; when its addresses changed, every backend is judged again. */
  #hostText(): string {
    const host = this.#o.host();
    const text = encodeHostValue(host);
    if (text !== this.#hostPublished) {
      const addresses = new Set(host.addresses);
      if ([...addresses].join() !== [...this.#addresses].join()) {
        for (const key of [...this.#published.keys(), ...this.#set.keys()]) this.#dirty.add(key);
      }
      this.#addresses = addresses;
    }
    return text;
  }

  async #flush(): Promise<void> {
    const lease = this.#keeper.id;
    if (lease === undefined) {
      this.#needSync = true;
      return;
    }
    const hostText = this.#hostText();
    const keys = [...this.#dirty];
    this.#dirty.clear();
    const plan = planBackends(
      keys,
      (key) => this.#desired(key),
      (key) => {
        const value = this.#published.get(key);
        return value && { value, lease };
      },
      lease,
    );
    if (hostText !== this.#hostPublished) plan.ops.unshift(putOp(this.#hostKey, hostText, lease));
    try {
      await commit(this.#o.client.kv, plan.ops, [], this.#o.maxTxnOps ?? MAX_TXN_OPS);
    } catch (err) {
      for (const key of keys) this.#dirty.add(key);
      throw err;
    }
    this.#hostPublished = hostText;
    for (const [key, value] of plan.next) {
      if (value) this.#published.set(key, value);
      else this.#published.delete(key);
    }
  }

  async #sync(): Promise<void> {
    const kv = this.#o.client.kv;
    const [hostKv] = (await kv.range({ key: Buffer.from(this.#hostKey) })).kvs;
    const previous = hostKv && hostKv.lease !== "0" ? hostKv.lease : undefined;
    const lease = await this.#keeper.acquire(this.#keeper.id ?? previous);
    this.#keeper.start();
    const hostText = this.#hostText();
    const keys = new Set([...this.#set.keys(), ...lease.keys.filter((k) => k !== this.#hostKey)]);
    const stored = await readStored(kv, [...keys], this.#o.maxTxnOps);
    this.#dirty.clear();
    const plan = planBackends(
      keys,
      (key) => this.#desired(key),
      (key) => stored.get(key),
      lease.id,
    );
    if (hostKv?.value.toString("utf8") !== hostText || hostKv.lease !== lease.id) {
      plan.ops.unshift(putOp(this.#hostKey, hostText, lease.id));
    }
    // Guarded by the host key: another agent writing as this hostId makes the sync start over.
    const guard = { key: Buffer.from(this.#hostKey), target: "Mod" as const, result: "Equal" as const };
    await commit(kv, plan.ops, [{ ...guard, mod_revision: hostKv?.mod_revision ?? 0 }], this.#o.maxTxnOps);
    this.#needSync = false;
    this.#hostPublished = hostText;
    this.#published = new Map();
    for (const [key, value] of plan.next) if (value) this.#published.set(key, value);
    this.#o.log.info(
      { lease: lease.id, adopted: lease.adopted, backends: this.#published.size, writes: plan.ops.length },
      "published the whole set",
    );
  }

  #setState(state: PublisherState, detail?: string): void {
    const before = this.#state;
    this.#state = state;
    this.#detail = detail;
    if (state === before) return;
    if (before === "stale") {
      this.#failures.recovered();
      this.#o.log.info({ lease: this.#keeper.id }, "etcd reachable again: published");
    }
  }
}
