import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { parseDocument } from "yaml";
import { LbwatchError } from "../errors.js";
import { MAX_MS, parseDuration } from "./duration.js";
import { parseHttp } from "./http.js";
import { canonicalIp } from "./ip-address.js";
import { checkMapping, keyPath, Problems, show } from "./problems.js";
import { parseServices } from "./services.js";
import { parseSources } from "./sources.js";
import { parseTargets } from "./targets.js";
import type { Config, WaitConfig } from "./types.js";
import { readUsers } from "./users.js";

const TOP_KEYS = [
  "hostAddress",
  "hostAddress6",
  "wait",
  "resync",
  "sources",
  "services",
  "targets",
  "http",
] as const;
export const DEFAULTS = {
  hostAddress: "127.0.0.1",
  hostAddress6: "::1",
  wait: { minMs: 20, maxMs: 500 },
  resyncMs: 60_000,
} as const;

/** hostAddress stands in for 0.0.0.0 and hostAddress6 for "::": each must be of its listeners' family. */
function parseHostAddress(value: unknown, family: 4 | 6, problems: Problems): string {
  const path = family === 4 ? "hostAddress" : "hostAddress6";
  const fallback = family === 4 ? DEFAULTS.hostAddress : DEFAULTS.hostAddress6;
  if (value === undefined) return fallback;
  const ip = typeof value === "string" ? canonicalIp(value) : undefined;
  if (ip?.family === family) return ip.address;
  problems.add(path, `${show(value)} is not an IPv${family} address`);
  return fallback;
}

/** `wait: {min, max}`; without max, max is the default or min, whichever is larger. */
function parseWait(value: unknown, problems: Problems): WaitConfig {
  if (value === undefined) return { ...DEFAULTS.wait };
  const raw = checkMapping(value, ["min", "max"], "wait", problems);
  const take = (key: "min" | "max") =>
    raw?.[key] === undefined
      ? undefined
      : problems.take(keyPath("wait", key), parseDuration(raw[key], MAX_MS.wait));
  const minMs = take("min") ?? DEFAULTS.wait.minMs;
  const maxMs = take("max") ?? Math.max(DEFAULTS.wait.maxMs, minMs);
  if (minMs > maxMs) problems.add("wait", `min (${minMs}ms) must not be more than max (${maxMs}ms)`);
  return { minMs, maxMs };
}

export async function parseYaml(file: string): Promise<unknown> {
  const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
    throw new LbwatchError("E_CONFIG", `${file}: cannot read the config file (${err.code ?? err.message})`, {
      cause: err,
    });
  });
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const where = e.linePos ? `:${e.linePos[0].line}:${e.linePos[0].col}` : "";
      return `${file}${where}: ${e.message.split("\n")[0]?.replace(/ at line \d+, column \d+:?$/, "")}`;
    });
    throw new LbwatchError("E_CONFIG", lines.join("\n"));
  }
  return doc.toJS() ?? {};
}

/**
 * Reads, checks and resolves a config file once, at the edge: every problem is collected and thrown as
 * one E_CONFIG error with a line per problem; what comes back is trusted by the rest of lbwatch.
 */
export async function loadConfig(file: string): Promise<Config> {
  const path = resolve(file);
  const problems = new Problems();
  const raw = checkMapping(await parseYaml(path), TOP_KEYS, "", problems) ?? {};
  const hostAddress = parseHostAddress(raw.hostAddress, 4, problems);
  const hostAddress6 = parseHostAddress(raw.hostAddress6, 6, problems);
  const wait = parseWait(raw.wait, problems);
  const resyncMs =
    raw.resync === undefined
      ? DEFAULTS.resyncMs
      : (problems.take("resync", parseDuration(raw.resync, MAX_MS.resync)) ?? 0);
  const services = await parseServices(raw.services, problems, await readUsers());
  const targets = await parseTargets(raw.targets, dirname(path), problems);
  const sources = await parseSources(raw.sources, dirname(path), problems);
  const http = await parseHttp(raw.http, problems);
  problems.throwIfAny();
  return {
    file: path,
    hostAddress,
    hostAddress6,
    wait,
    resyncMs,
    services,
    targets,
    sources,
    ...(http ? { http } : {}),
  };
}

/** Valid but risky settings, one line each, for `lbwatch check` and the start of `lbwatch run`. */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  const fromEtcd = config.sources.some((s) => s.kind === "etcd");
  for (const rule of config.services) {
    if (rule.ports.length === 0) {
      if (!fromEtcd)
        warnings.push(
          `services.${rule.name}: has no ports and no etcd source feeds it: it never has backends`,
        );
    } else if (rule.uid === undefined && rule.cgroup === undefined) {
      const ports = rule.ports.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(", ");
      warnings.push(
        `services.${rule.name}: matches by port alone: any local user could register a backend by listening ` +
          `on ${ports}; add a uid or cgroup filter`,
      );
    }
  }
  config.targets.forEach((target, i) => {
    if (target.check && !target.check.some((arg) => arg.includes("{staged}"))) {
      warnings.push(`targets[${i}].check: has no "{staged}" argument, so it does not check the new file`);
    }
    if (!target.reload && !target.haproxy) {
      warnings.push(
        `targets[${i}]: has no reload or haproxy key: nothing tells the load balancer about a change`,
      );
    }
  });
  return warnings;
}
