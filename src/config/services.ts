import { globSyntaxError } from "./glob-syntax.js";
import { canonicalIp } from "./ip-address.js";
import { parseMeta } from "./meta.js";
import { parseNetnsFilter } from "./netns-filter.js";
import { parsePortSpec } from "./ports.js";
import { checkMapping, isPlainObject, keyPath, type Problems, show } from "./problems.js";
import { parseReady } from "./ready.js";
import type { PortRange, ServiceRule } from "./types.js";

const SERVICE_KEYS = ["ports", "uid", "comm", "cgroup", "netns", "userns", "addr", "ready", "meta"] as const;
/** Service names end up as HAProxy backend and nginx upstream names: keep them plain. */
const SERVICE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** A list of entries, each parsed by `item`; a scalar where a list belongs is a problem, not a guess. */
function parseList<T>(
  value: unknown,
  path: string,
  problems: Problems,
  example: string,
  item: (entry: unknown, path: string) => T | undefined,
): T[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    problems.add(path, `must be a non-empty list such as ${example}`);
    return undefined;
  }
  const parsed = value.map((entry, i) => item(entry, keyPath(path, i)));
  return parsed.every((entry) => entry !== undefined) ? (parsed as T[]) : undefined;
}

function parseUid(entry: unknown, path: string, problems: Problems, users: Map<string, number>) {
  if (typeof entry === "number" && Number.isInteger(entry) && entry >= 0 && entry < 2 ** 32) return entry;
  if (typeof entry === "string" && users.has(entry)) return users.get(entry);
  problems.add(
    path,
    typeof entry === "string" ? `no user named ${show(entry)} in /etc/passwd` : `${show(entry)} is not a uid`,
  );
  return undefined;
}

async function parseService(
  name: string,
  value: unknown,
  path: string,
  problems: Problems,
  users: Map<string, number>,
): Promise<ServiceRule | undefined> {
  if (!SERVICE_NAME.test(name)) {
    problems.add(
      path,
      "service names may hold only letters, digits, '_', '.' and '-' (used as backend names)",
    );
  }
  const raw = checkMapping(value, SERVICE_KEYS, path, problems);
  if (!raw) return undefined;
  const rule: ServiceRule = { name, ports: [], netns: { kind: "any" } };
  // Without ports a service matches no local listener: one fed by agents through etcd needs none.
  const ports =
    raw.ports === undefined
      ? []
      : parseList<PortRange>(raw.ports, keyPath(path, "ports"), problems, "[8000-8099, 9000]", (e, p) =>
          problems.take(p, parsePortSpec(e)),
        );
  if (ports) rule.ports = ports;
  if (raw.uid !== undefined) {
    rule.uid = parseList(raw.uid, keyPath(path, "uid"), problems, "[1000, www-data]", (e, p) =>
      parseUid(e, p, problems, users),
    );
  }
  if (raw.comm !== undefined) {
    rule.comm = parseList(raw.comm, keyPath(path, "comm"), problems, '[python3, "node*"]', (e, p) => {
      if (typeof e !== "string" || e === "") {
        problems.add(p, `${show(e)} is not a process name or glob`);
        return undefined;
      }
      const error = globSyntaxError(e);
      if (error) problems.add(p, `${show(e)} is not a valid glob: ${error}`);
      return error ? undefined : e;
    });
  }
  if (raw.cgroup !== undefined) {
    if (typeof raw.cgroup === "string" && raw.cgroup.startsWith("/")) {
      // A prefix compares by whole path components; a trailing slash would only get in the way.
      rule.cgroup = raw.cgroup.length > 1 ? raw.cgroup.replace(/\/+$/, "") : raw.cgroup;
    } else {
      problems.add(
        keyPath(path, "cgroup"),
        `${show(raw.cgroup)} is not a cgroup path such as /system.slice/web.service`,
      );
    }
  }
  const netns = problems.take(keyPath(path, "netns"), await parseNetnsFilter(raw.netns));
  if (netns) rule.netns = netns;
  if (raw.userns === "allow") rule.userns = "allow";
  else if (raw.userns !== undefined && raw.userns !== "refuse") {
    problems.add(
      keyPath(path, "userns"),
      `${show(raw.userns)} is not allow or refuse (allow: also network namespaces made in other user namespaces)`,
    );
  }
  if (raw.addr !== undefined) {
    rule.addr = parseList(raw.addr, keyPath(path, "addr"), problems, "[0.0.0.0, 127.0.0.1]", (e, p) => {
      const ip = typeof e === "string" ? canonicalIp(e) : undefined;
      if (!ip) problems.add(p, `${show(e)} is not an IP address`);
      return ip?.address;
    });
  }
  if (raw.ready !== undefined) {
    const ready = parseReady(raw.ready, keyPath(path, "ready"), problems);
    if (ready) rule.ready = ready;
  }
  if (raw.meta !== undefined) {
    const meta = parseMeta(raw.meta, keyPath(path, "meta"), problems);
    if (meta) rule.meta = meta;
  }
  return rule;
}

/** `services:` — a mapping of name → rule; order is kept because the first matching rule wins. */
export async function parseServices(value: unknown, problems: Problems, users: Map<string, number>) {
  if (!isPlainObject(value) || Object.keys(value).length === 0) {
    problems.add(
      "services",
      "must be a mapping of at least one service name to its rule, e.g. web: {ports: [8000-8099]}",
    );
    return [];
  }
  const rules: ServiceRule[] = [];
  // One after another, so that problems are listed in file order.
  for (const [name, raw] of Object.entries(value)) {
    const rule = await parseService(name, raw, keyPath("services", name), problems, users);
    if (rule) rules.push(rule);
  }
  return rules;
}
