/**
 * Collects every problem found in a config file so that one run reports them all, one line each,
 * `key.path: what is wrong and how to fix it`, instead of stopping at the first.
 */
import { LbwatchError } from "../errors.js";

export type Parsed<T> = { value: T } | { error: string };

export class Problems {
  readonly lines: string[] = [];

  add(path: string, message: string): void {
    this.lines.push(path ? `${path}: ${message}` : message);
  }

  /** Records the error of a failed parse and returns undefined, or returns the parsed value. */
  take<T>(path: string, parsed: Parsed<T>): T | undefined {
    if ("error" in parsed) {
      this.add(path, parsed.error);
      return undefined;
    }
    return parsed.value;
  }

  throwIfAny(): void {
    if (this.lines.length > 0) throw new LbwatchError("E_CONFIG", this.lines.join("\n"));
  }
}

/** `services.web` + `ports` → `services.web.ports`; `targets` + 0 → `targets[0]`. */
export function keyPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

/** A value quoted as the user wrote it, for messages. */
export function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Checks that `value` is a mapping whose keys are all in `known`; an unknown key is reported with the
 * closest known key as a suggestion (typos are the usual cause). Returns the mapping, or undefined.
 */
export function checkMapping(
  value: unknown,
  known: readonly string[],
  path: string,
  problems: Problems,
): Record<string, unknown> | undefined {
  if (!isPlainObject(value)) {
    problems.add(path, `must be a mapping with keys ${known.join(", ")}`);
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const hint = closest(key, known);
    const fix = hint ? `did you mean "${hint}"?` : `known keys: ${known.join(", ")}`;
    problems.add(keyPath(path, key), `unknown key; ${fix}`);
  }
  return value;
}

/** The candidate within a small edit distance of `word`, if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
