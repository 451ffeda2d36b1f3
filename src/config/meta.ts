/**
 * `services.NAME.meta`: free-form settings that templates read as `meta` (README "Configuration").
 * lbwatch gives them no meaning; it only checks that they are plain YAML data a template can reach
 * and print: strings (one line each), finite numbers, booleans, mappings and lists, within bounds, so
 * that no value can be a function, a prototype trick or a billion laughs. Templates quote what they
 * print (haproxyQuote, nginxQuote, bareWords).
 */
import { keyPath, type Problems, show } from "./problems.js";
import type { Meta, MetaValue } from "./types.js";

export const META_LIMITS = { depth: 8, values: 1000, stringLength: 4096 } as const;
/** Reachable from a template as `meta.key` (or `meta.[key-with-dashes]`). */
const KEY = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
/** C0 controls, DEL and C1 controls: nothing a config line may hold. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A mapping as YAML makes one: not a Date, a Map or anything else with a prototype of its own. */
function isMapping(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

interface Walk {
  problems: Problems;
  values: number;
}

function value(raw: unknown, path: string, depth: number, walk: Walk): MetaValue | undefined {
  walk.values++;
  if (walk.values === META_LIMITS.values + 1) {
    walk.problems.add(path, `meta holds more than ${META_LIMITS.values} values: keep it small`);
  }
  if (typeof raw === "string") {
    if (raw.length > META_LIMITS.stringLength) {
      walk.problems.add(path, `is longer than ${META_LIMITS.stringLength} characters`);
      return undefined;
    }
    if (CONTROL.test(raw)) {
      walk.problems.add(path, "holds a control character (a newline, a tab...): meta strings are one line");
      return undefined;
    }
    return raw;
  }
  if (typeof raw === "boolean") return raw;
  if (typeof raw === "number") {
    if (Number.isFinite(raw)) return raw;
    walk.problems.add(path, `${show(raw)} is not a finite number`);
    return undefined;
  }
  if (depth >= META_LIMITS.depth && (Array.isArray(raw) || isMapping(raw))) {
    walk.problems.add(path, `is nested more than ${META_LIMITS.depth} levels deep`);
    return undefined;
  }
  if (Array.isArray(raw)) {
    const items = raw.map((item, i) => value(item, keyPath(path, i), depth + 1, walk));
    return items.every((item) => item !== undefined) ? Object.freeze(items as MetaValue[]) : undefined;
  }
  if (isMapping(raw)) return mapping(raw, path, depth + 1, walk);
  walk.problems.add(
    path,
    raw === null || raw === undefined
      ? "has no value: give a string, number, boolean, mapping or list, or remove the key"
      : `${show(raw)} is not a string, number, boolean, mapping or list`,
  );
  return undefined;
}

function mapping(raw: Record<string, unknown>, path: string, depth: number, walk: Walk): Meta | undefined {
  const entries: [string, MetaValue][] = [];
  let ok = true;
  for (const [key, item] of Object.entries(raw)) {
    const at = keyPath(path, key);
    if (!KEY.test(key) || key === "__proto__") {
      walk.problems.add(
        at,
        "is not a usable key: letters, digits, '_' and '-', starting with a letter or '_', at most 64",
      );
      ok = false;
      continue;
    }
    const parsed = value(item, at, depth, walk);
    if (parsed === undefined) ok = false;
    else entries.push([key, parsed]);
  }
  // fromEntries defines own properties: a key called "constructor" is an ordinary key.
  return ok ? Object.freeze(Object.fromEntries(entries)) : undefined;
}

export function parseMeta(raw: unknown, path: string, problems: Problems): Meta | undefined {
  if (!isMapping(raw)) {
    problems.add(path, 'must be a mapping of names to values, e.g. { mode: tcp, bind: "127.0.0.1:6379" }');
    return undefined;
  }
  return mapping(raw, path, 1, { problems, values: 0 });
}
