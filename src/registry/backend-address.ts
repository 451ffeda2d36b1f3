/**
 * Where the load balancer, running in the host's network namespace, must connect to reach a listener,
 * or why it must not. Reachability, not the listener's word, decides: any local user can make a
 * network namespace (unshare -U -r -n) and put any address on its loopback, so an address a listener
 * in another namespace binds is a backend only where the host's own route to it leads into that
 * namespace, or where its service names that namespace. README "Security" lists the rules.
 */
import { addressSortKey, canonicalIp, type IpAddress, isWildcard, unmapV4 } from "../config/ip-address.js";
import type { ServiceRule } from "../config/types.js";
import type { Listener } from "../probe/event.js";
import type { HostPath } from "../probe/host-route.js";
import type { NetnsFacts, NetnsInspector } from "../probe/netns-inspector.js";
import { portInto, unusableAddress } from "./reachability.js";

export interface AddressDeps {
  hostNetns: number;
  hostAddress: string;
  hostAddress6: string;
  /** Reads other namespaces and the host's routes (src/probe/netns-inspector.ts). */
  inspector: NetnsInspector;
}

export type AddressResult = { ip: IpAddress } | { refused: string };

/**
 * `read()` once per key; a failed answer, or one `keep` refuses, is dropped so that the next caller
 * asks again instead of inheriting a transient failure until the next resync.
 */
function cached<K, V>(
  map: Map<K, Promise<V>>,
  key: K,
  read: () => Promise<V>,
  keep: (value: V) => boolean = () => true,
): Promise<V> {
  const known = map.get(key);
  if (known) return known;
  const lookup = read();
  map.set(key, lookup);
  const forget = () => {
    if (map.get(key) === lookup) map.delete(key);
  };
  lookup.then((value) => keep(value) || forget(), forget);
  return lookup;
}

const USERNS_REFUSED =
  "its network namespace belongs to a user namespace other than the initial one (any user can make " +
  "such a namespace, with any address); set userns: allow on the service to accept it";

/** Candidate addresses of a wildcard listener, lowest first, so the choice does not depend on interface order. */
function candidates(facts: NetnsFacts, family: 4 | 6): IpAddress[] {
  const of = (list: string[], f: 4 | 6) =>
    list
      .map((text) => canonicalIp(text))
      .filter((ip): ip is IpAddress => ip?.family === f && unusableAddress(ip, true) === undefined)
      .sort((a, b) => (addressSortKey(a) < addressSortKey(b) ? -1 : 1));
  // A "::" socket also accepts IPv4 unless IPV6_V6ONLY is set, so an IPv4 address reaches it too.
  return family === 4
    ? of(facts.addresses.v4, 4)
    : [...of(facts.addresses.v6, 6), ...of(facts.addresses.v4, 4)];
}

export class BackendAddresses {
  readonly #deps: AddressDeps;
  readonly #host: { 4: IpAddress; 6: IpAddress };
  /**
   * What is known of namespaces until the next resync, by netns inode (routes by netns and address):
   * containers keep their addresses, and 10,000 listeners must not mean 10,000 reads.
   */
  readonly #cache = {
    userns: new Map<number, Promise<boolean>>(),
    facts: new Map<number, Promise<NetnsFacts>>(),
    routes: new Map<string, Promise<HostPath>>(),
  };

  constructor(deps: AddressDeps) {
    this.#deps = deps;
    const host = (text: string, family: 4 | 6) => canonicalIp(text) ?? { family, address: text };
    this.#host = { 4: host(deps.hostAddress, 4), 6: host(deps.hostAddress6, 6) };
  }

  /** The address `listener`, matched by `rule`, is reached on, or why it is no backend. */
  async resolve(listener: Listener, rule: ServiceRule): Promise<AddressResult> {
    const ip = unmapV4(canonicalIp(listener.addr) ?? { family: listener.family, address: listener.addr });
    const foreign = listener.netns !== this.#deps.hostNetns;
    if (!foreign && isWildcard(ip.address)) return { ip: this.#host[ip.family] };
    const unusable = isWildcard(ip.address) ? undefined : unusableAddress(ip, foreign);
    if (unusable) return { refused: `${ip.address} is ${unusable}` };
    if (!foreign) return { ip };
    if (listener.pid === 0)
      return { refused: "no readable process holds it, so its namespace cannot be inspected" };
    try {
      if (rule.userns !== "allow" && !(await this.#initialUserns(listener)))
        return { refused: USERNS_REFUSED };
      const facts = await this.#facts(listener);
      const named = rule.netns.kind === "inode" && rule.netns.inode === listener.netns;
      return isWildcard(ip.address)
        ? await this.#pickReachable(listener, facts, ip.family, named)
        : await this.#check(listener, facts, ip, named);
    } catch (err) {
      return { refused: `its network namespace cannot be inspected: ${(err as Error).message}` };
    }
  }

  /** Forget what is known of namespaces (on resync: a container may have new addresses or routes). */
  clear(): void {
    for (const map of Object.values(this.#cache)) map.clear();
  }

  async #pickReachable(listener: Listener, facts: NetnsFacts, family: 4 | 6, named: boolean) {
    const reasons: string[] = [];
    for (const ip of candidates(facts, family)) {
      const result = await this.#check(listener, facts, ip, named);
      if ("ip" in result) return result;
      reasons.push(result.refused);
    }
    if (reasons.length === 0) return { refused: "its network namespace has no address the host could use" };
    // A namespace may hold many addresses: the log line names a few.
    const more = reasons.length > 3 ? `; and ${reasons.length - 3} more` : "";
    return {
      refused: `no address of its network namespace is reached from the host: ${reasons.slice(0, 3).join("; ")}${more}`,
    };
  }

  /** A specific address in another namespace: on it (named namespace), or where the host's route leads in. */
  async #check(listener: Listener, facts: NetnsFacts, ip: IpAddress, named: boolean): Promise<AddressResult> {
    if (named) return { ip };
    const own = ip.family === 4 ? facts.addresses.v4 : facts.addresses.v6;
    // A socket may bind an address its namespace lacks (IP_FREEBIND): the host would reach someone else.
    if (!own.includes(ip.address))
      return { refused: `${ip.address} is not an address of its network namespace` };
    const path = await this.#route(listener.netns, ip);
    if ("none" in path) return { refused: `${ip.address}: ${path.none}` };
    if (portInto(path, facts.links)) return { ip };
    return {
      refused: `the host reaches ${ip.address} through ${path.dev}, which does not lead into its network namespace`,
    };
  }

  #initialUserns(listener: Listener): Promise<boolean> {
    const { pid, netns } = listener;
    return cached(this.#cache.userns, netns, () => this.#deps.inspector.ownedByInitialUserns(pid, netns));
  }

  #facts(listener: Listener): Promise<NetnsFacts> {
    const { pid, netns } = listener;
    // An empty answer is not kept: it may just be a netns whose veth is not up yet.
    return cached(
      this.#cache.facts,
      netns,
      () => this.#deps.inspector.facts(pid, netns),
      (found) => found.addresses.v4.length + found.addresses.v6.length > 0,
    );
  }

  #route(netns: number, ip: IpAddress): Promise<HostPath> {
    return cached(this.#cache.routes, `${netns} ${ip.address}`, () => this.#deps.inspector.hostPath(ip));
  }
}
