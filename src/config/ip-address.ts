/**
 * Canonical IP address text, identical to what src/probe/inet.ts prints for kernel addresses (RFC 5952,
 * IPv4-mapped as "::ffff:a.b.c.d"), so config values compare equal to listener addresses as strings.
 */
import { isIPv4, isIPv6 } from "node:net";

export interface IpAddress {
  family: 4 | 6;
  address: string;
}

const MAPPED_HEX = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/;

/** The canonical form of an address text, or undefined when it is not an IPv4 or IPv6 address. */
export function canonicalIp(text: string): IpAddress | undefined {
  if (isIPv4(text)) return { family: 4, address: text };
  if (!isIPv6(text) || text.includes("%")) return undefined;
  // The WHATWG URL serializer already applies RFC 5952 compression and lowercase; only the
  // IPv4-mapped form differs (it prints hex groups), so that one is rewritten to dotted form.
  const hex = new URL(`http://[${text}]/`).hostname.slice(1, -1);
  const mapped = MAPPED_HEX.exec(hex);
  if (!mapped) return { family: 6, address: hex };
  const high = Number.parseInt(mapped[1] ?? "0", 16);
  const low = Number.parseInt(mapped[2] ?? "0", 16);
  return { family: 6, address: `::ffff:${high >> 8}.${high & 255}.${low >> 8}.${low & 255}` };
}

/** "::ffff:10.0.0.1" → 10.0.0.1 as family 4; any other address unchanged. */
export function unmapV4(ip: IpAddress): IpAddress {
  if (ip.family === 6 && ip.address.startsWith("::ffff:") && ip.address.includes(".")) {
    return { family: 4, address: ip.address.slice(7) };
  }
  return ip;
}

export function isWildcard(address: string): boolean {
  return address === "0.0.0.0" || address === "::";
}

export function isLoopback(ip: IpAddress): boolean {
  return ip.family === 4 ? ip.address.startsWith("127.") : ip.address === "::1";
}

function v6Groups(address: string): number[] {
  const parse = (part: string) =>
    part === ""
      ? []
      : part.split(":").flatMap((group) => {
          if (!group.includes(".")) return [Number.parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split(".").map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = "", tail] = address.split("::");
  const front = parse(head);
  const back = tail === undefined ? [] : parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** The 32-bit value of a dotted quad, without the allocations of split/map: renders sort many. */
function v4Value(address: string): number {
  let value = 0;
  let octet = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 46 /* . */) {
      value = value * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + (c - 48);
  }
  return value * 256 + octet;
}

/**
 * A fixed-width text that sorts addresses by family, then numerically (10.0.0.9 before 10.0.0.10),
 * so renders list backends in the same order whatever order they arrived in.
 */
export function addressSortKey(ip: IpAddress): string {
  if (ip.family === 4) return `4${v4Value(ip.address).toString(16).padStart(8, "0")}`;
  return `6${v6Groups(ip.address)
    .map((g) => g.toString(16).padStart(4, "0"))
    .join("")}`;
}

/**
 * Why another host could not use `ip` as a backend address, or undefined when it is a routable unicast
 * address: unspecified, loopback, link-local, multicast, broadcast/reserved, or IPv4-mapped (which a
 * claim carries as plain IPv4). Addresses published through etcd come from other hosts: hostile input.
 */
export function unroutableReason(ip: IpAddress): string | undefined {
  if (ip.family === 4) {
    const first = Number(ip.address.slice(0, ip.address.indexOf(".")));
    if (first === 0) return "unspecified";
    if (first === 127) return "loopback";
    if (ip.address.startsWith("169.254.")) return "link-local";
    if (first >= 224 && first <= 239) return "multicast";
    if (first >= 240) return "broadcast or reserved";
    return undefined;
  }
  const [high = 0] = v6Groups(ip.address);
  if (ip.address === "::") return "unspecified";
  if (ip.address === "::1") return "loopback";
  if ((high & 0xffc0) === 0xfe80) return "link-local";
  if ((high & 0xff00) === 0xff00) return "multicast";
  if (ip.address.startsWith("::ffff:")) return "IPv4-mapped (write it as IPv4)";
  return undefined;
}
