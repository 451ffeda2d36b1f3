/**
 * Where other hosts reach this one: the address of the interface the default route leaves through
 * (the agent's default advertiseAddress), and every routable address of this network namespace's
 * interfaces (what the host key advertises, so a listener bound to one of them may be published).
 * Read from /proc/net/route, /proc/net/ipv6_route and getifaddrs (os.networkInterfaces).
 */
import { readFile } from "node:fs/promises";
import { networkInterfaces } from "node:os";
import { addressSortKey, canonicalIp, type IpAddress, unroutableReason } from "../config/ip-address.js";

const RTF_UP = 0x1;

/** Routable unicast addresses of `iface` (every interface when undefined), sorted, canonical. */
export function interfaceAddresses(iface?: string): IpAddress[] {
  const found: IpAddress[] = [];
  for (const [name, entries] of Object.entries(networkInterfaces())) {
    if (iface !== undefined && name !== iface) continue;
    for (const entry of entries ?? []) {
      const ip = canonicalIp(entry.address);
      if (ip && unroutableReason(ip) === undefined) found.push(ip);
    }
  }
  const unique = new Map(found.map((ip) => [ip.address, ip]));
  return [...unique.values()].sort((a, b) => (addressSortKey(a) < addressSortKey(b) ? -1 : 1));
}

/** The interface of the default route with the lowest metric, from /proc/net/route or ipv6_route text. */
export function defaultRouteInterface(text: string, family: 4 | 6): string | undefined {
  let best: { iface: string; metric: number } | undefined;
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    // IPv4: Iface Destination Gateway Flags RefCnt Use Metric Mask …; IPv6: dest plen src plen hop metric ref use flags iface.
    const [iface, dest, mask, metricText, flags] =
      family === 4 ? [f[0], f[1], f[7], f[6], f[3]] : [f[9], f[0], f[1], f[5], f[8]];
    const isDefault =
      family === 4 ? dest === "00000000" && mask === "00000000" : /^0{32}$/.test(dest ?? "") && mask === "00";
    if (!isDefault || !iface || iface === "lo") continue;
    if ((Number.parseInt(flags ?? "0", 16) & RTF_UP) === 0) continue;
    const metric = Number.parseInt(metricText ?? "", family === 4 ? 10 : 16);
    if (!best || metric < best.metric) best = { iface, metric };
  }
  return best?.iface;
}

/** The lowest routable address of `family` on the default route's interface, if there is one. */
export async function defaultRouteAddress(family: 4 | 6): Promise<string | undefined> {
  const file = family === 4 ? "/proc/net/route" : "/proc/net/ipv6_route";
  const text = await readFile(file, "utf8").catch(() => "");
  const iface = defaultRouteInterface(text, family);
  if (iface === undefined) return undefined;
  return interfaceAddresses(iface).find((ip) => ip.family === family)?.address;
}
