import { type Parsed, show } from "./problems.js";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Durations as consul-template and Go write them: "20ms", "1s", "1.5s", "1m", "1h", or several parts
 * ("1m30s"). A bare 0 means zero; any other bare number is refused because its unit would be a guess.
 */
export function parseDuration(value: unknown): Parsed<number> {
  if (value === 0 || value === "0") return { value: 0 };
  const expected = `${show(value)} is not a duration such as 20ms, 1s or 1m`;
  if (typeof value === "number") return { error: `${expected} (add a unit: ${value}ms or ${value}s)` };
  if (typeof value !== "string" || !/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(value)) return { error: expected };
  let ms = 0;
  for (const [, amount, , unit] of value.matchAll(/(\d+(\.\d+)?)(ms|s|m|h)/g)) {
    ms += Number(amount) * (UNIT_MS[unit ?? ""] ?? 0);
  }
  return { value: Math.round(ms) };
}
