import { type Parsed, show } from "./problems.js";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Longest accepted values, in ms. Node clamps any timer over 2^31-1 ms (24.8 days) to 1 ms, so an
 * unbounded duration would turn a rare timer into a busy loop; these stay far below that and above
 * anything useful: a burst wait or a command that takes an hour is already a broken setup.
 */
export const MAX_MS = {
  wait: 3_600_000,
  resync: 7 * 24 * 3_600_000,
  commandTimeout: 3_600_000,
} as const;

/** 168h, 1h, 1m30s: the largest units first, as the config would spell it. */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0";
  let rest = ms;
  let text = "";
  for (const [unit, size] of Object.entries(UNIT_MS).reverse()) {
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text;
}

/**
 * Durations as consul-template and Go write them: "20ms", "1s", "1.5s", "1m", "1h", or several parts
 * ("1m30s"). A bare 0 means zero; any other bare number is refused because its unit would be a guess.
 * Anything over `maxMs` is refused, also numbers too large for a double (they read as Infinity).
 */
export function parseDuration(value: unknown, maxMs: number): Parsed<number> {
  if (value === 0 || value === "0") return { value: 0 };
  const expected = `${show(value)} is not a duration such as 20ms, 1s or 1m`;
  if (typeof value === "number") return { error: `${expected} (add a unit: ${value}ms or ${value}s)` };
  if (typeof value !== "string" || !/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(value)) return { error: expected };
  let ms = 0;
  for (const [, amount, , unit] of value.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) {
    ms += Number(amount) * (UNIT_MS[unit ?? ""] ?? 0);
  }
  if (!(ms <= maxMs)) return { error: `${show(value)} is more than the maximum, ${formatDuration(maxMs)}` };
  return { value: Math.round(ms) };
}
