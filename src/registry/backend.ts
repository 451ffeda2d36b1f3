import { flat } from "../flat-string.js";
import type { BackendClaim } from "../sources/source.js";
import { backendId, endpointOf } from "./backend-id.js";

/**
 * A backend: one (service, address, port) that a load balancer can connect to. Several claims may
 * stand behind it (SO_REUSEPORT siblings, or the same backend seen by two sources); the per-process
 * fields come from one of them, chosen the same way every time (lowest pid, then source, then claim
 * key) so equal state renders equal output.
 */
export interface Backend {
  /** Stable, derived from (address, port) only; see backend-id.ts. */
  id: string;
  service: string;
  /** Address the load balancer connects to (after hostAddress / netns translation by its source). */
  address: string;
  port: number;
  /** `address:port`, IPv6 in brackets. */
  endpoint: string;
  family: 4 | 6;
  /** The host it runs on (hostId). */
  host: string;
  pid: number;
  comm: string;
  uid: number;
  netns: number;
  backlog: number;
  cgroup?: string;
  /** The representative claim: its source id and key (a socket inode, an etcd key). */
  source: string;
  claim: string;
  /** Wall-clock ms when the first of its claims was seen. */
  since: number;
  /**
   * Routable: its service has no readiness gate, or its check passed (src/readiness/). A backend
   * waiting to be ready is known to targets but not in `backends` of the template context.
   */
  ready: boolean;
  /** A number from 1, unique among its service's backends while it lives (src/registry/slots.ts). */
  slot: number;
}

/** Identity within the registry: ids are unique within a service only. */
export const backendKey = (b: { service: string; id: string }): string => flat(b.service, "/", b.id);

/**
 * The backend `claim` of `source` describes, `since` the oldest of its claims, `slot` given by its
 * service's Slots. `was`: the same backend's earlier value, whose derived strings it takes over (the
 * registry keys by that id string: a new one per update would hold two copies).
 */
export function makeBackend(
  source: string,
  claim: BackendClaim,
  since: number,
  ready: boolean,
  slot: number,
  was?: Backend,
): Backend {
  const { service, family, address, port, host, pid, comm, uid, netns, backlog, cgroup } = claim;
  const backend: Backend = {
    id: was?.id ?? backendId(family, address, port),
    service,
    address,
    port,
    endpoint: was?.endpoint ?? endpointOf(family, address, port),
    family,
    host,
    pid,
    comm,
    uid,
    netns,
    backlog,
    source,
    claim: claim.key,
    since,
    ready,
    slot,
  };
  if (cgroup !== undefined) backend.cgroup = cgroup;
  return backend;
}

/** Equal in everything a consumer can see. */
export function sameBackend(a: Backend, b: Backend): boolean {
  return (Object.keys(a) as (keyof Backend)[]).every((field) => a[field] === b[field]);
}
