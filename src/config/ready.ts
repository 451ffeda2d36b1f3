/**
 * `services.NAME.ready`: the readiness gate of a service (README "Configuration"). Exactly one check
 * kind, `http` or `exec`; `exec` is an argv list, never a shell, in which `{address}` and `{port}` are
 * the only placeholders.
 */
import { MAX_MS, parseDuration } from "./duration.js";
import { checkMapping, keyPath, type Problems, show } from "./problems.js";
import { parseArgv } from "./targets.js";
import type { ReadyCheck, ReadyGate, StatusRange } from "./types.js";

const READY_KEYS = ["http", "exec", "stdout", "timeout", "interval", "deadline"] as const;
const HTTP_KEYS = ["path", "expect", "host"] as const;
export const READY_DEFAULTS = {
  path: "/",
  expect: [{ from: 200, to: 399 }] as StatusRange[],
  timeoutMs: 1000,
  intervalMs: 1000,
  deadlineMs: 60_000,
};
/** A request target: printable ASCII without spaces, from the root (Node refuses anything else too). */
const PATH = /^\/[\x21-\x7e]*$/;
/** A Host header value: a name or address with an optional port, nothing a header could be split on. */
const HOST = /^[A-Za-z0-9._:[\]-]+$/;
const STATUS = /^(\d{3})(?:-(\d{3}))?$/;

/** "200-399", "200", "200,204,300-399": inclusive ranges of HTTP status codes. */
function parseExpect(value: unknown, path: string, problems: Problems): StatusRange[] | undefined {
  const text = typeof value === "number" ? String(value) : value;
  const fail = () => {
    problems.add(path, `${show(value)} is not a status range such as "200-399", "200" or "200,204"`);
    return undefined;
  };
  if (typeof text !== "string" || text === "") return fail();
  const ranges: StatusRange[] = [];
  for (const part of text.split(",")) {
    const m = STATUS.exec(part.trim());
    if (!m) return fail();
    const from = Number(m[1]);
    const to = Number(m[2] ?? m[1]);
    if (from < 100 || to > 599 || from > to) return fail();
    ranges.push({ from, to });
  }
  return ranges;
}

function parseHttp(value: unknown, path: string, problems: Problems): ReadyCheck | undefined {
  const raw = value === null ? {} : checkMapping(value, HTTP_KEYS, path, problems);
  if (!raw) return undefined;
  const check: ReadyCheck = { kind: "http", path: READY_DEFAULTS.path, expect: READY_DEFAULTS.expect };
  if (raw.path !== undefined) {
    if (typeof raw.path === "string" && PATH.test(raw.path)) check.path = raw.path;
    else problems.add(keyPath(path, "path"), `${show(raw.path)} is not a request path such as /healthz`);
  }
  if (raw.expect !== undefined) {
    const expect = parseExpect(raw.expect, keyPath(path, "expect"), problems);
    if (expect) check.expect = expect;
  }
  if (raw.host !== undefined) {
    if (typeof raw.host === "string" && HOST.test(raw.host)) check.host = raw.host;
    else problems.add(keyPath(path, "host"), `${show(raw.host)} is not a host name such as web.example.com`);
  }
  return check;
}

function duration(
  raw: Record<string, unknown>,
  key: "timeout" | "interval" | "deadline",
  path: string,
  problems: Problems,
  fallback: number,
  maxMs: number,
): number {
  if (raw[key] === undefined) return fallback;
  const ms = problems.take(keyPath(path, key), parseDuration(raw[key], maxMs));
  if (ms === 0) problems.add(keyPath(path, key), "must be more than 0");
  return ms || fallback;
}

export function parseReady(value: unknown, path: string, problems: Problems): ReadyGate | undefined {
  const raw = checkMapping(value, READY_KEYS, path, problems);
  if (!raw) return undefined;
  const kinds = (["http", "exec"] as const).filter((k) => raw[k] !== undefined);
  if (kinds.length !== 1) {
    problems.add(
      path,
      kinds.length === 0
        ? 'needs a check: http: { path: /healthz } or exec: [redis-cli, -p, "{port}", ping]'
        : "has both http and exec: give exactly one",
    );
    return undefined;
  }
  let check: ReadyCheck | undefined;
  if (raw.http !== undefined) {
    check = parseHttp(raw.http, keyPath(path, "http"), problems);
    if (raw.stdout !== undefined) problems.add(keyPath(path, "stdout"), "applies to exec only");
  } else {
    const argv = parseArgv(raw.exec, keyPath(path, "exec"), problems, '[redis-cli, -p, "{port}", ping]');
    if (argv) {
      check = { kind: "exec", argv };
      if (typeof raw.stdout === "string") check.stdout = raw.stdout;
      else if (raw.stdout !== undefined)
        problems.add(keyPath(path, "stdout"), `${show(raw.stdout)} is not a string such as PONG`);
    }
  }
  const gate = {
    timeoutMs: duration(raw, "timeout", path, problems, READY_DEFAULTS.timeoutMs, MAX_MS.commandTimeout),
    intervalMs: duration(raw, "interval", path, problems, READY_DEFAULTS.intervalMs, MAX_MS.commandTimeout),
    deadlineMs: duration(raw, "deadline", path, problems, READY_DEFAULTS.deadlineMs, MAX_MS.resync),
  };
  return check && { check, ...gate };
}
