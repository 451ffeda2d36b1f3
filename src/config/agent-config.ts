/**
 * `lbwatch agent -c agent.yaml`: checked once at the edge, every problem reported at once with its key
 * path (as load-config.ts does for `run`), E_CONFIG → exit 2.
 *
 *   hostId: web-3                 # default: /etc/machine-id
 *   advertiseAddress: 10.0.0.3    # default: the address of the default route's interface
 *   etcd: { endpoints: ["https://10.0.0.1:2379"], prefix: /lbwatch, ttl: 10s, tls: {…}, auth: {…} }
 *   services:
 *     web: { ports: [8000-8099], uid: [1000] }
 */
import { dirname, resolve } from "node:path";
import { defaultRouteAddress } from "../agent/host-addresses.js";
import { HOST_ID } from "../etcd/keys.js";
import { MAX_MS, parseDuration } from "./duration.js";
import { ETCD_KEYS, parseEtcdConnection } from "./etcd.js";
import { canonicalIp, unroutableReason } from "./ip-address.js";
import { DEFAULTS, parseYaml } from "./load-config.js";
import { checkMapping, isPlainObject, keyPath, Problems, show } from "./problems.js";
import { parseServices } from "./services.js";
import type { EtcdConnection, ServiceRule } from "./types.js";
import { readUsers } from "./users.js";

export interface AgentEtcdConfig extends EtcdConnection {
  /** Lease TTL: how long the backends of a dead or cut-off host stay. */
  ttlSeconds: number;
}

export interface AgentConfig {
  file: string;
  /** Undefined: /etc/machine-id, read at start. */
  hostId?: string;
  /** Where other hosts reach this host's 0.0.0.0 listeners. */
  advertiseAddress: string;
  /** The same for "::" listeners; undefined: they are published on advertiseAddress (they accept IPv4). */
  advertiseAddress6?: string;
  etcd: AgentEtcdConfig;
  resyncMs: number;
  services: ServiceRule[];
}

const AGENT_KEYS = ["hostId", "advertiseAddress", "advertiseAddress6", "etcd", "resync", "services"] as const;
const AGENT_ETCD_KEYS = [...ETCD_KEYS, "ttl"] as const;
const DEFAULT_TTL_SECONDS = 10;
/** etcd raises shorter leases to about 1.5 election timeouts anyway, and keep-alives go every ttl/3. */
const MIN_TTL_SECONDS = 2;

async function parseAdvertise(
  value: unknown,
  family: 4 | 6,
  problems: Problems,
): Promise<string | undefined> {
  const path = family === 4 ? "advertiseAddress" : "advertiseAddress6";
  if (value === undefined) {
    const found = await defaultRouteAddress(family);
    if (found === undefined && family === 4) {
      problems.add(path, "no default route with an IPv4 address on this host: set advertiseAddress");
    }
    return found;
  }
  const ip = typeof value === "string" ? canonicalIp(value) : undefined;
  if (ip?.family !== family) {
    problems.add(path, `${show(value)} is not an IPv${family} address`);
    return undefined;
  }
  const why = unroutableReason(ip);
  if (why !== undefined) problems.add(path, `${ip.address} is ${why}: other hosts cannot reach it there`);
  return ip.address;
}

async function parseEtcd(value: unknown, base: string, problems: Problems): Promise<AgentEtcdConfig> {
  const raw = checkMapping(value, AGENT_ETCD_KEYS, "etcd", problems) ?? {};
  let ttlSeconds = DEFAULT_TTL_SECONDS;
  if (raw.ttl !== undefined) {
    const ms = problems.take("etcd.ttl", parseDuration(raw.ttl, MAX_MS.wait));
    if (ms !== undefined && (ms % 1000 !== 0 || ms < MIN_TTL_SECONDS * 1000)) {
      problems.add(
        "etcd.ttl",
        `${show(raw.ttl)}: must be whole seconds, at least ${MIN_TTL_SECONDS}s (etcd leases count seconds)`,
      );
    } else if (ms !== undefined) ttlSeconds = ms / 1000;
  }
  return { ...(await parseEtcdConnection(raw, "etcd", base, problems)), ttlSeconds };
}

export async function loadAgentConfig(file: string): Promise<AgentConfig> {
  const path = resolve(file);
  const problems = new Problems();
  const raw = checkMapping(await parseYaml(path), AGENT_KEYS, "", problems) ?? {};
  if (raw.hostId !== undefined && !(typeof raw.hostId === "string" && HOST_ID.test(raw.hostId))) {
    problems.add(
      "hostId",
      `${show(raw.hostId)} is not a host id: letters, digits, _ . - (at most 253), e.g. web-3`,
    );
  }
  const advertiseAddress = (await parseAdvertise(raw.advertiseAddress, 4, problems)) ?? "";
  const advertiseAddress6 = await parseAdvertise(raw.advertiseAddress6, 6, problems);
  const etcd = await parseEtcd(raw.etcd, dirname(path), problems);
  const resyncMs =
    raw.resync === undefined
      ? DEFAULTS.resyncMs
      : (problems.take("resync", parseDuration(raw.resync, MAX_MS.resync)) ?? 0);
  const services = await parseServices(raw.services, problems, await readUsers());
  // \`run\` accepts a service without ports (fed by agents); an agent would publish nothing for it.
  for (const [name, rule] of Object.entries(isPlainObject(raw.services) ? raw.services : {})) {
    if (isPlainObject(rule) && rule.ports === undefined) {
      problems.add(
        keyPath(keyPath("services", name), "ports"),
        "required for an agent: the ports it publishes",
      );
    }
  }
  problems.throwIfAny();
  return {
    file: path,
    ...(typeof raw.hostId === "string" ? { hostId: raw.hostId } : {}),
    advertiseAddress,
    ...(advertiseAddress6 === undefined ? {} : { advertiseAddress6 }),
    etcd,
    resyncMs,
    services,
  };
}
