/**
 * The JSON values of the v1 keys (keys.ts). Agents encode them; the etcd source decodes them as hostile
 * input: anything with write access to the prefix could have put any bytes there. Decoding is strict
 * (exact fields, exact types, bounded sizes) so a bad value is refused whole, never half-read.
 */
import { canonicalIp, unroutableReason } from "../config/ip-address.js";
import { isPlainObject, type Parsed } from "../config/problems.js";

export interface BackendValue {
  /** Where other hosts connect: canonical, routable unicast, IPv4 as IPv4. */
  address: string;
  port: number;
  family: 4 | 6;
  pid: number;
  comm: string;
  uid: number;
  netns: number;
  backlog: number;
  cgroup?: string;
  /** Wall-clock ms when the agent first published this backend. */
  since: number;
}

export interface HostValue {
  /** lbwatch version of the agent. */
  version: string;
  bootId: string;
  /** Wall-clock ms when the agent started. */
  startTime: number;
  /** Every address this host's backends may be published on (advertised and interface addresses). */
  addresses: string[];
}

const MAX_BACKEND_BYTES = 4096;
const MAX_HOST_BYTES = 65_536;
const MAX_ADDRESSES = 256;
/** Every field of a backend value, in the order encodeBackendValue writes them. */
export const BACKEND_FIELDS = [
  "address",
  "port",
  "family",
  "pid",
  "comm",
  "uid",
  "netns",
  "backlog",
  "cgroup",
  "since",
] as const satisfies readonly (keyof BackendValue)[];
const HOST_FIELDS = ["version", "bootId", "startTime", "addresses"] as const;

const isUint = (v: unknown, max: number): v is number =>
  Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= max;
const isText = (v: unknown, max: number, min = 1): v is string =>
  typeof v === "string" && v.length >= min && v.length <= max;

/** Why `text` is not a canonical, routable unicast address (of `family`, when given), or undefined. */
export function addressProblem(text: unknown, family?: 4 | 6): string | undefined {
  const ip = typeof text === "string" ? canonicalIp(text) : undefined;
  if (!ip || ip.address !== text) return "not a canonical IP address";
  if (family !== undefined && ip.family !== family) return `not an IPv${family} address`;
  return unroutableReason(ip);
}

function parseObject(bytes: Buffer, max: number, fields: readonly string[]): Parsed<Record<string, unknown>> {
  if (bytes.length > max) return { error: `longer than ${max} bytes` };
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    return { error: "not JSON" };
  }
  if (!isPlainObject(value)) return { error: "not a JSON object" };
  const unknown = Object.keys(value).find((k) => !fields.includes(k));
  if (unknown !== undefined) return { error: `unknown field ${JSON.stringify(unknown.slice(0, 64))}` };
  return { value };
}

export function decodeBackendValue(bytes: Buffer): Parsed<BackendValue> {
  const parsed = parseObject(bytes, MAX_BACKEND_BYTES, BACKEND_FIELDS);
  if ("error" in parsed) return parsed;
  const v = parsed.value;
  if (v.family !== 4 && v.family !== 6) return { error: "family must be 4 or 6" };
  const bad = addressProblem(v.address, v.family);
  if (bad) return { error: `address: ${bad}` };
  if (!isUint(v.port, 65535) || v.port === 0) return { error: "port must be 1-65535" };
  for (const field of ["pid", "uid", "backlog"] as const) {
    if (!isUint(v[field], 2 ** 32 - 1)) return { error: `${field} must be an integer 0-4294967295` };
  }
  if (!isUint(v.netns, Number.MAX_SAFE_INTEGER)) return { error: "netns must be an inode number" };
  // A process may set an empty name (prctl): that is still its backend.
  if (!isText(v.comm, 64, 0)) return { error: "comm must be a string of at most 64 characters" };
  if (v.cgroup !== undefined && !(isText(v.cgroup, 4096) && v.cgroup.startsWith("/"))) {
    return { error: "cgroup must be a path starting with /" };
  }
  if (!isUint(v.since, Number.MAX_SAFE_INTEGER)) return { error: "since must be a wall-clock time in ms" };
  return { value: v as unknown as BackendValue };
}

export function decodeHostValue(bytes: Buffer): Parsed<HostValue> {
  const parsed = parseObject(bytes, MAX_HOST_BYTES, HOST_FIELDS);
  if ("error" in parsed) return parsed;
  const v = parsed.value;
  if (!isText(v.version, 64)) return { error: "version must be a string" };
  if (!isText(v.bootId, 64)) return { error: "bootId must be a string" };
  if (!isUint(v.startTime, Number.MAX_SAFE_INTEGER)) return { error: "startTime must be a time in ms" };
  if (!Array.isArray(v.addresses) || v.addresses.length > MAX_ADDRESSES) {
    return { error: `addresses must be a list of at most ${MAX_ADDRESSES} addresses` };
  }
  for (const address of v.addresses) {
    const bad = addressProblem(address);
    if (bad) return { error: `addresses: ${JSON.stringify(String(address).slice(0, 64))}: ${bad}` };
  }
  return { value: v as unknown as HostValue };
}

/** Field order fixed, so equal values are equal bytes: a rewrite of the same backend changes nothing. */
export function encodeBackendValue(v: BackendValue): string {
  const { address, port, family, pid, comm, uid, netns, backlog, cgroup, since } = v;
  return JSON.stringify({ address, port, family, pid, comm, uid, netns, backlog, cgroup, since });
}

export function encodeHostValue(v: HostValue): string {
  const { version, bootId, startTime, addresses } = v;
  return JSON.stringify({ version, bootId, startTime, addresses });
}
