/**
 * Where the load balancer, running in the host's network namespace, must connect to reach a listener.
 * A wildcard listener in the host netns is reached on hostAddress (hostAddress6 for "::"); a specific
 * address on itself; a listener in another netns (a container) on that netns's interface address,
 * read through a pid inside it; a loopback-only listener in another netns cannot be reached at all.
 */
import {
  addressSortKey,
  canonicalIp,
  type IpAddress,
  isLoopback,
  isWildcard,
  unmapV4,
} from "../config/ip-address.js";
import type { Listener } from "../probe/event.js";

export interface NetnsAddresses {
  v4: string[];
  v6: string[];
}

export interface AddressDeps {
  hostNetns: number;
  hostAddress: string;
  hostAddress6: string;
  /** Non-loopback interface addresses of the netns that `pid` is in (src/probe/netns.ts). */
  netnsAddresses(pid: number): Promise<NetnsAddresses>;
}

export type AddressResult = { ip: IpAddress } | { unreachable: string };

/** Lowest routable address of a family, so the choice does not depend on interface order. */
function pick(addresses: string[], family: 4 | 6): IpAddress | undefined {
  const usable = addresses
    .map((text) => canonicalIp(text))
    .filter(
      (ip): ip is IpAddress => ip?.family === family && !isLoopback(ip) && !ip.address.startsWith("fe80:"),
    );
  return usable.sort((a, b) => (addressSortKey(a) < addressSortKey(b) ? -1 : 1))[0];
}

export class BackendAddresses {
  readonly #deps: AddressDeps;
  readonly #host: { 4: IpAddress; 6: IpAddress };
  /** Per netns inode: containers keep their addresses, and 10,000 listeners must not mean 10,000 reads. */
  readonly #cache = new Map<number, Promise<NetnsAddresses>>();

  constructor(deps: AddressDeps) {
    this.#deps = deps;
    const host = (text: string, family: 4 | 6) => canonicalIp(text) ?? { family, address: text };
    this.#host = { 4: host(deps.hostAddress, 4), 6: host(deps.hostAddress6, 6) };
  }

  async resolve(listener: Listener): Promise<AddressResult> {
    const ip = unmapV4(canonicalIp(listener.addr) ?? { family: listener.family, address: listener.addr });
    if (listener.netns === this.#deps.hostNetns)
      return { ip: isWildcard(ip.address) ? this.#host[ip.family] : ip };
    if (isLoopback(ip)) return { unreachable: "loopback-only listener in another network namespace" };
    if (!isWildcard(ip.address)) return { ip };
    let addresses: NetnsAddresses;
    try {
      addresses = await this.#addressesOf(listener);
    } catch (err) {
      return { unreachable: `cannot read the addresses of its network namespace: ${(err as Error).message}` };
    }
    // A "::" socket also accepts IPv4 unless IPV6_V6ONLY is set, so an IPv4-only netns still reaches it.
    const chosen = ip.family === 4 ? pick(addresses.v4, 4) : (pick(addresses.v6, 6) ?? pick(addresses.v4, 4));
    return chosen ? { ip: chosen } : { unreachable: "its network namespace has no non-loopback address" };
  }

  /** Forget cached netns addresses (on resync: a container may have been given new ones). */
  clear(): void {
    this.#cache.clear();
  }

  #addressesOf(listener: Listener): Promise<NetnsAddresses> {
    const cached = this.#cache.get(listener.netns);
    if (cached) return cached;
    const lookup = this.#deps.netnsAddresses(listener.pid).then((found) => {
      // Only a useful answer is kept: an empty one may just be a netns whose veth is not up yet.
      if (found.v4.length + found.v6.length === 0) this.#cache.delete(listener.netns);
      return found;
    });
    lookup.catch(() => this.#cache.delete(listener.netns));
    this.#cache.set(listener.netns, lookup);
    return lookup;
  }
}
