/**
 * The one lease all of an agent's keys live under: while the agent renews it, its backends stay; when
 * the host dies or is cut off, etcd expires it and every key of the host goes at once. Renewal is a
 * keep-alive every third of the TTL (as etcd's own Go client does), so two can be missed before the
 * lease expires. After a failed renewal the keeper retries sooner, and it tells the publisher when
 * what it wrote may no longer be there: the lease expired ("lost") or etcd answers again after
 * failures ("reconnect"); the publisher then rewrites its whole set.
 */
import type { Etcd3 } from "etcd3";
import { Backoff } from "../etcd/backoff.js";
import { errorText } from "../etcd/client.js";
import type { Logger } from "../log.js";

export type LeaseReset = "lost" | "reconnect";

export interface LeaseKeeperOptions {
  client: Etcd3;
  ttlSeconds: number;
  log: Logger;
  onReset(reason: LeaseReset): void;
}

export interface AcquiredLease {
  id: string;
  /** The keys etcd holds under the candidate lease, adopted or not (another TTL): what may be stale. */
  keys: string[];
  /** An earlier lease (this agent's, or a previous run's) that still lives. */
  adopted: boolean;
}

export class LeaseKeeper {
  readonly #options: LeaseKeeperOptions;
  readonly #intervalMs: number;
  readonly #backoff: Backoff;
  #id: string | undefined;
  #failing = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: LeaseKeeperOptions) {
    this.#options = options;
    this.#intervalMs = (options.ttlSeconds * 1000) / 3;
    this.#backoff = new Backoff({ firstMs: 200, maxMs: this.#intervalMs });
  }

  get id(): string | undefined {
    return this.#id;
  }

  /**
   * The lease to write under: `candidate` (default: the current one) when it still lives with this
   * TTL, so that a restarted agent keeps its predecessor's keys instead of rewriting them; else a new one.
   * An adopted lease is renewed at once: it may have less left than the first interval (the
   * predecessor renewed up to an interval before it stopped, and the restart took time), and etcd
   * reports what is left in whole seconds, so a living lease with under one second shows TTL 0
   * (a missing one shows -1).
   */
  async acquire(candidate = this.#id): Promise<AcquiredLease> {
    const { client, ttlSeconds } = this.#options;
    let keys: string[] = [];
    if (candidate !== undefined) {
      const res = await client.leaseClient.leaseTimeToLive({ ID: candidate, keys: true });
      const lives = Number(res.TTL) >= 0;
      keys = lives ? res.keys.map((k) => k.toString("utf8")) : [];
      if (lives && Number(res.grantedTTL) === ttlSeconds && (await this.#keepAliveOnce(candidate)) > 0) {
        this.#id = candidate;
        return { id: candidate, keys, adopted: true };
      }
    }
    const granted = await client.leaseClient.leaseGrant({ TTL: ttlSeconds });
    this.#id = granted.ID;
    return { id: granted.ID, keys, adopted: false };
  }

  start(): void {
    this.#schedule(this.#intervalMs);
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #schedule(ms: number): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), ms);
  }

  async #tick(): Promise<void> {
    const id = this.#id;
    if (id === undefined) return this.#schedule(this.#intervalMs);
    try {
      const ttl = await this.#keepAliveOnce(id);
      if (this.#closed) return;
      this.#backoff.reset();
      if (ttl <= 0) {
        // Expired while unreachable: the publisher grants a new lease and writes everything again.
        this.#id = undefined;
        this.#failing = false;
        this.#options.log.warn({ lease: id }, "etcd lease expired: publishing everything again");
        this.#options.onReset("lost");
      } else if (this.#failing) {
        this.#failing = false;
        this.#options.log.info({ lease: id, ttl }, "etcd lease renewed again");
        this.#options.onReset("reconnect");
      }
      this.#schedule(this.#intervalMs);
    } catch (err) {
      if (this.#closed) return;
      if (!this.#failing)
        this.#options.log.warn({ lease: id, error: errorText(err) }, "etcd lease renewal failed");
      this.#failing = true;
      this.#schedule(this.#backoff.next());
    }
  }

  /** One renewal on its own short stream; resolves with the TTL etcd granted (0: the lease is gone). */
  async #keepAliveOnce(id: string): Promise<number> {
    const deadline = Date.now() + this.#intervalMs;
    const stream = await this.#options.client.leaseClient.leaseKeepAlive({ deadline });
    return new Promise<number>((resolve, reject) => {
      stream.on("data", (res) => {
        resolve(Number(res.TTL));
        stream.end();
      });
      stream.on("error", reject);
      stream.on("end", () => reject(new Error("keep-alive stream ended without an answer")));
      stream.write({ ID: id });
    });
  }
}
