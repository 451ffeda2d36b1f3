/**
 * What the etcd source believes is under `<prefix>/v1/`: the raw backend values and the decoded host
 * keys, and from them the claims it delivered. A backend is accepted only together with its host key
 * (the address must be one that host advertises), so a change of a host key re-judges that host's
 * backends. Every value is hostile: a bad one is ignored with one warning per key while it stays bad.
 */

import type { Parsed } from "../config/problems.js";
import { hostKey, type KeyLayout, parseKey } from "../etcd/keys.js";
import {
  BACKEND_FIELDS,
  type BackendValue,
  decodeBackendValue,
  decodeHostValue,
  type HostValue,
} from "../etcd/values.js";
import type { Logger } from "../log.js";
import { backendId } from "../registry/backend-id.js";
import type { BackendClaim } from "./source.js";

export interface KvEvent {
  type: "put" | "delete";
  key: string;
  value: Buffer;
}

export interface ViewChange {
  upserts: BackendClaim[];
  removals: string[];
}

export interface ViewOptions {
  layout: KeyLayout;
  services: Iterable<string>;
  /** This host's claims come from the local source: drop them here, so a backend counts once. */
  skipHost?: string;
  log: Logger;
}

const CLAIM_FIELDS = [
  "service",
  "host",
  ...BACKEND_FIELDS,
] as const satisfies readonly (keyof BackendClaim)[];

export function sameClaim(a: BackendClaim, b: BackendClaim): boolean {
  return CLAIM_FIELDS.every((field) => a[field] === b[field]);
}

/** Keys are attacker-sized: a log line gets their start. */
const logKey = (key: string) => (key.length > 200 ? `${key.slice(0, 200)}…` : key);

export class EtcdView {
  readonly #layout: KeyLayout;
  readonly #skipHost: string | undefined;
  readonly #log: Logger;
  #services: Set<string>;
  readonly #raw = new Map<string, Buffer>();
  readonly #hosts = new Map<string, Parsed<HostValue>>();
  readonly #byHost = new Map<string, Set<string>>();
  #claims = new Map<string, BackendClaim>();
  /** Keys warned about and still bad: the warning is not repeated until the key was good or gone. */
  readonly #warned = new Set<string>();
  readonly #unknownServices = new Set<string>();

  constructor(options: ViewOptions) {
    this.#layout = options.layout;
    this.#skipHost = options.skipHost;
    this.#log = options.log;
    this.#services = new Set(options.services);
  }

  get claims(): Iterable<BackendClaim> {
    return this.#claims.values();
  }

  /** A full listing replaces everything; returns how many delivered claims it proved wrong. */
  reset(kvs: Iterable<{ key: Buffer; value: Buffer }>): { count: number; keys: string[]; sample: string[] } {
    this.#raw.clear();
    this.#hosts.clear();
    this.#byHost.clear();
    const listed = new Set<string>();
    for (const kv of kvs) {
      const key = kv.key.toString("utf8");
      listed.add(key);
      this.#store({ type: "put", key, value: kv.value });
    }
    for (const key of this.#warned) if (!listed.has(key)) this.#warned.delete(key);
    const previous = this.#claims;
    this.#claims = new Map();
    for (const key of this.#raw.keys()) {
      const claim = this.#judge(key);
      if (claim) this.#claims.set(key, claim);
    }
    const wrong = [...previous.keys()].filter((key) => {
      const now = this.#claims.get(key);
      return !now || !sameClaim(now, previous.get(key) as BackendClaim);
    });
    for (const key of this.#claims.keys()) if (!previous.has(key)) wrong.push(key);
    return { count: wrong.length, keys: wrong, sample: wrong.slice(0, 10) };
  }

  /** One watch response: every event applied first, then the backends they touch re-judged. */
  apply(events: Iterable<KvEvent>): ViewChange {
    const touched = new Set<string>();
    for (const event of events) for (const key of this.#store(event)) touched.add(key);
    const change: ViewChange = { upserts: [], removals: [] };
    for (const key of touched) {
      const claim = this.#raw.has(key) ? this.#judge(key) : undefined;
      const before = this.#claims.get(key);
      if (claim && !(before && sameClaim(before, claim))) {
        this.#claims.set(key, claim);
        change.upserts.push(claim);
      } else if (!claim && before) {
        this.#claims.delete(key);
        change.removals.push(key);
      }
    }
    return change;
  }

  /** The config named other services: re-judge everything; the caller replaces. */
  setServices(services: Iterable<string>): void {
    this.#services = new Set(services);
    this.#unknownServices.clear();
    this.#claims = new Map();
    for (const key of this.#raw.keys()) {
      const claim = this.#judge(key);
      if (claim) this.#claims.set(key, claim);
    }
  }

  /** Records one event; returns the backend keys whose claim may have changed. */
  #store(event: KvEvent): Iterable<string> {
    const parsed = parseKey(this.#layout, event.key);
    if (event.type === "delete") this.#warned.delete(event.key);
    if (parsed.kind === "unknown") {
      if (event.type === "put") this.#warn(event.key, `unexpected key: ${parsed.why}`);
      return [];
    }
    if (parsed.kind === "host") {
      if (event.type === "delete") this.#hosts.delete(parsed.hostId);
      else {
        const host = decodeHostValue(event.value);
        this.#hosts.set(parsed.hostId, host);
        if ("error" in host) this.#warn(event.key, host.error);
        else this.#warned.delete(event.key);
      }
      return this.#byHost.get(parsed.hostId) ?? [];
    }
    let keys = this.#byHost.get(parsed.hostId);
    if (event.type === "delete") {
      this.#raw.delete(event.key);
      keys?.delete(event.key);
      if (keys?.size === 0) this.#byHost.delete(parsed.hostId);
    } else {
      this.#raw.set(event.key, event.value);
      if (!keys) {
        keys = new Set();
        this.#byHost.set(parsed.hostId, keys);
      }
      keys.add(event.key);
    }
    return [event.key];
  }

  /** The claim a stored backend key makes, or undefined (with its one warning when it is bad). */
  #judge(key: string): BackendClaim | undefined {
    const parsed = parseKey(this.#layout, key);
    if (parsed.kind !== "backend" || parsed.hostId === this.#skipHost) return undefined;
    const decoded = decodeBackendValue(this.#raw.get(key) as Buffer);
    if ("error" in decoded) return this.#warn(key, decoded.error);
    const value: BackendValue = decoded.value;
    if (!this.#services.has(parsed.service)) return this.#unknownService(parsed.service, key);
    const host = this.#hosts.get(parsed.hostId);
    const hostKeyText = hostKey(this.#layout, parsed.hostId);
    if (!host) return this.#warn(key, `no host key ${hostKeyText}`);
    if ("error" in host) return this.#warn(key, `its host key ${hostKeyText} is bad`);
    if (!host.value.addresses.includes(value.address)) {
      return this.#warn(key, `address ${value.address} is not one host ${parsed.hostId} advertises`);
    }
    const id = backendId(value.family, value.address, value.port);
    if (parsed.id !== id) return this.#warn(key, `backend id ${parsed.id} does not match the value (${id})`);
    this.#warned.delete(key);
    const { cgroup, ...facts } = value;
    return {
      key,
      service: parsed.service,
      host: parsed.hostId,
      ...facts,
      ...(cgroup === undefined ? {} : { cgroup }),
    };
  }

  #warn(key: string, reason: string): undefined {
    if (this.#warned.has(key)) return undefined;
    this.#warned.add(key);
    this.#log.warn({ key: logKey(key), reason }, "ignoring a bad value under the etcd prefix");
    return undefined;
  }

  /** Another load balancer's service, most likely: said once per service, not once per backend. */
  #unknownService(service: string, key: string): undefined {
    if (this.#unknownServices.has(service)) return undefined;
    this.#unknownServices.add(service);
    this.#log.warn(
      { service: logKey(service), example: logKey(key) },
      "ignoring backends of a service this config does not name",
    );
    return undefined;
  }
}
