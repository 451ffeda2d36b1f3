/**
 * Canonical text form of socket addresses, shared by the /proc parser and the ring-buffer event decoder
 * so that a snapshot and an event for the same socket always print the same `addr`.
 *
 * IPv6 is printed exactly as glibc's inet_ntop (hence node:net and `ss`) prints it: RFC 5952 (lowercase,
 * the longest run of two or more zero groups becomes "::", the first run on a tie), IPv4-mapped as
 * "::ffff:a.b.c.d" and the deprecated IPv4-compatible form as "::a.b.c.d". Hand-written rather than
 * `new net.SocketAddress()` because the event decoder calls it for every event.
 */

/** Dotted quad of the 4 bytes (network order) at `offset`. */
export function formatIPv4(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

/** inet_ntop text of the 16 bytes (network order) at `offset`. */
export function formatIPv6(bytes: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++)
    groups.push(((bytes[offset + 2 * i] ?? 0) << 8) | (bytes[offset + 2 * i + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 1; // a single zero group is never compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && groups[5] === 0xffff))) {
    return `::${bestLen === 5 ? "ffff:" : ""}${formatIPv4(bytes, offset + 12)}`;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}

/** Text of an address of either family: 4 bytes for family 4, 16 for family 6. */
export function formatInet(family: 4 | 6, bytes: Uint8Array, offset = 0): string {
  return family === 4 ? formatIPv4(bytes, offset) : formatIPv6(bytes, offset);
}
