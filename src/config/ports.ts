import { type Parsed, show } from "./problems.js";
import type { PortRange } from "./types.js";

function portNumber(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : undefined;
}

/** One entry of a `ports` list: a port (9000 or "9000") or an inclusive range ("8000-8099"). */
export function parsePortSpec(value: unknown): Parsed<PortRange> {
  const text = typeof value === "number" ? String(value) : value;
  const notPort = { error: `${show(value)} is not a port or range (1-65535, e.g. 9000 or 8000-8099)` };
  if (typeof text !== "string") return notPort;
  const parts = text.split("-").map((part) => part.trim());
  if (parts.length > 2) return notPort;
  const from = portNumber(parts[0] ?? "");
  const to = parts.length === 2 ? portNumber(parts[1] ?? "") : from;
  if (from === undefined || to === undefined) return notPort;
  if (from > to)
    return { error: `${show(value)} is an empty range: write the lower port first (${to}-${from})` };
  return { value: { from, to } };
}

export function portInRanges(port: number, ranges: readonly PortRange[]): boolean {
  return ranges.some((range) => port >= range.from && port <= range.to);
}
