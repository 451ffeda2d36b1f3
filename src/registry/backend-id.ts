/**
 * Backend ids name servers in HAProxy (`server <id>`) and nginx, so they may hold only [A-Za-z0-9_],
 * must not change across renders or restarts, and depend on the address and port alone.
 *
 *   IPv4 127.0.0.1:8001 → b127_0_0_1_8001   ("b", the four octets and the port, joined by "_")
 *   IPv6 [::1]:80       → b6__1_80          ("b6", the address with ":" as "_", "_", the port)
 *
 * IPv4 and IPv6 ids cannot collide: an IPv4 id is "b" followed by exactly five non-empty decimal
 * fields, while an IPv6 id after its leading "b" has either nine fields (eight groups and the port)
 * or an empty field where "::" was; the canonical address text keeps each id unique within a family.
 * Addresses come canonical (RFC 5952) and IPv4-mapped ones already as IPv4 (see backend-address.ts).
 */
import { flat } from "../flat-string.js";

export function backendId(family: 4 | 6, address: string, port: number): string {
  if (family === 4) return flat("b", address.replaceAll(".", "_"), "_", port);
  return flat("b6", address.replaceAll(":", "_"), "_", port);
}

/** `address:port`, with IPv6 in brackets as URLs and load balancer configs expect. */
export function endpointOf(family: 4 | 6, address: string, port: number): string {
  return family === 6 ? flat("[", address, "]:", port) : flat(address, ":", port);
}
