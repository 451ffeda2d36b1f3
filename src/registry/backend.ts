import { addressSortKey, type IpAddress } from "../config/ip-address.js";
import type { Listener } from "../probe/event.js";
import { backendId, endpointOf } from "./backend-id.js";

/**
 * A backend: one (service, address, port) that a load balancer can connect to. Several sockets may
 * stand behind it (SO_REUSEPORT siblings); the per-process fields come from one of them, chosen the
 * same way every time (lowest pid, then lowest socket inode) so equal state renders equal output.
 */
export interface Backend {
  /** Stable, derived from (address, port) only; see backend-id.ts. */
  id: string;
  service: string;
  /** Address the load balancer connects to (after hostAddress / netns translation). */
  address: string;
  port: number;
  /** `address:port`, IPv6 in brackets. */
  endpoint: string;
  family: 4 | 6;
  pid: number;
  comm: string;
  uid: number;
  netns: number;
  backlog: number;
  sock: number;
}

/** Backends by service, then family, numeric address and port: one order whatever the arrival order. */
export function sortBackends(backends: Iterable<Backend>): Backend[] {
  const keyed = Array.from(backends, (b) => ({
    key: `${b.service}\0${addressSortKey(b)}${b.port.toString(16).padStart(4, "0")}`,
    backend: b,
  }));
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((entry) => entry.backend);
}

/** The backend for (service, address, port) as `socket`, its representative sibling, describes it. */
export function makeBackend(
  { service, ip, port }: { service: string; ip: IpAddress; port: number },
  socket: Listener,
): Backend {
  return {
    id: backendId(ip.family, ip.address, port),
    service,
    address: ip.address,
    port,
    endpoint: endpointOf(ip.family, ip.address, port),
    family: ip.family,
    pid: socket.pid,
    comm: socket.comm,
    uid: socket.uid,
    netns: socket.netns,
    backlog: socket.backlog,
    sock: socket.sock,
  };
}
