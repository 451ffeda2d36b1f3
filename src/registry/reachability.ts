/**
 * The rules that decide whether an address can be a backend, as pure functions of what the host
 * knows (src/probe/netns-inspector.ts gathers it). README "Security" states them for the operator.
 */
import type { IpAddress } from "../config/ip-address.js";
import type { HostPath } from "../probe/host-route.js";
import type { NetnsLink } from "../probe/netns-links.js";

function v4Octets(address: string): number[] {
  return address.split(".").map(Number);
}

/** First 16-bit group of a canonical IPv6 text ("::1" → 0). */
function v6FirstGroup(address: string): number {
  return address.startsWith("::") ? 0 : Number.parseInt(address.split(":")[0] ?? "0", 16);
}

/**
 * What makes `ip` unusable as a backend address anywhere, or undefined. Loopback counts only in
 * another network namespace (`foreign`): the host's own loopback is where the load balancer runs.
 */
export function unusableAddress(ip: IpAddress, foreign: boolean): string | undefined {
  if (ip.family === 4) {
    const [a = 0, b = 0] = v4Octets(ip.address);
    if (a === 0) return "unspecified";
    if (a === 127) return foreign ? "the loopback of another network namespace" : undefined;
    if (a === 169 && b === 254) return "link-local";
    if (a >= 224 && a <= 239) return "multicast";
    if (ip.address === "255.255.255.255") return "broadcast";
    return undefined;
  }
  const first = v6FirstGroup(ip.address);
  if (ip.address === "::") return "unspecified";
  if (ip.address === "::1") return foreign ? "the loopback of another network namespace" : undefined;
  if (first >= 0xfe80 && first <= 0xfebf) return "link-local";
  if (first >= 0xff00) return "multicast";
  return undefined;
}

const crossVeth = (link: NetnsLink) => link.kind === "veth" && link.peerNetnsid !== undefined;

/**
 * The host port that leads into the namespace whose links are `links`: a host veth whose peer is in
 * another namespace, and inside, a veth with the index the host port names as its peer, naming the
 * host port's index back, its own peer also elsewhere. Indexes are per namespace, so only both
 * directions together tell a veth pair from two interfaces that share numbers by chance.
 */
export function portInto(
  path: Extract<HostPath, { ports: unknown }>,
  links: readonly NetnsLink[],
): NetnsLink | undefined {
  return path.ports.find(
    (port) =>
      crossVeth(port) &&
      links.some(
        (link) => crossVeth(link) && link.ifindex === port.peerIndex && link.peerIndex === port.ifindex,
      ),
  );
}
