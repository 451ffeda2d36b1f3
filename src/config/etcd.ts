/**
 * The etcd keys shared by `sources[i].etcd` (lbwatch run) and `etcd` (lbwatch agent): where etcd is,
 * which prefix holds lbwatch's keys, and how to connect (TLS, a user).
 */
import { parseEtcdAuth, parseEtcdTls } from "./etcd-credentials.js";
import { canonicalIp, isLoopback } from "./ip-address.js";
import { keyPath, type Problems, show } from "./problems.js";
import type { EtcdConnection } from "./types.js";

/** The keys of an etcd connection; the agent adds `ttl`. */
export const ETCD_KEYS = ["endpoints", "prefix", "tls", "auth"] as const;

export const DEFAULT_PREFIX = "/lbwatch";
/** "/" and name segments: the key layout (src/etcd/keys.ts) appends "/v1/…" to it. */
const PREFIX = /^(\/[A-Za-z0-9_.-]+)+$/;

function parseEndpoint(value: unknown, path: string, problems: Problems): string | undefined {
  const example = "such as http://10.0.0.1:2379";
  let url: URL | undefined;
  try {
    url = typeof value === "string" ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    problems.add(path, `${show(value)} is not an etcd client URL ${example}`);
    return undefined;
  }
  // gRPC would take a missing port as 443, and etcd3 would pass a path or credentials to it as a host.
  if (url.port === "" || (url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    problems.add(path, `${show(value)}: write only scheme, host and port, ${example}`);
    return undefined;
  }
  if (url.username || url.password) {
    problems.add(path, `${show(value)}: credentials in the URL are not supported`);
    return undefined;
  }
  return `${url.protocol}//${url.host}`;
}

/** `endpoints: [http://10.0.0.1:2379, …]`: a non-empty list of client URLs. */
function parseEndpoints(value: unknown, path: string, problems: Problems): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    problems.add(path, 'must be a non-empty list of client URLs such as ["http://10.0.0.1:2379"]');
    return [];
  }
  const endpoints = value.map((entry, i) => parseEndpoint(entry, keyPath(path, i), problems));
  return endpoints.filter((e): e is string => e !== undefined);
}

function parsePrefix(value: unknown, path: string, problems: Problems): string {
  if (value === undefined) return DEFAULT_PREFIX;
  if (typeof value === "string" && PREFIX.test(value) && value.length <= 200) return value;
  problems.add(
    path,
    `${show(value)} is not a key prefix such as /lbwatch ("/" and names of letters, digits, _ . -, no trailing "/")`,
  );
  return DEFAULT_PREFIX;
}

/** Only a URL's host that cannot leave the machine; "localhost" as well, as etcd's own docs use it. */
function onLoopback(endpoint: string): boolean {
  const host = new URL(endpoint).hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "localhost") return true;
  const ip = canonicalIp(host);
  return ip !== undefined && isLoopback(ip);
}

/**
 * The keys of ETCD_KEYS in `raw` (a mapping the caller checked), at `path`; files are relative to
 * `base`, the config file's directory. Both schemes at once are refused: the client library takes
 * one for every member.
 */
export async function parseEtcdConnection(
  raw: Record<string, unknown>,
  path: string,
  base: string,
  problems: Problems,
): Promise<EtcdConnection> {
  const endpoints = parseEndpoints(raw.endpoints, keyPath(path, "endpoints"), problems);
  const plain = endpoints.filter((e) => e.startsWith("http:"));
  if (plain.length > 0 && plain.length < endpoints.length) {
    problems.add(keyPath(path, "endpoints"), "mixes http:// and https://: give every member the same scheme");
  }
  const tls =
    raw.tls === undefined ? undefined : await parseEtcdTls(raw.tls, base, keyPath(path, "tls"), problems);
  if (tls && plain.length > 0) {
    problems.add(keyPath(path, "tls"), `is set but ${plain.join(", ")} is plain text: use https://`);
  }
  const auth =
    raw.auth === undefined ? undefined : await parseEtcdAuth(raw.auth, base, keyPath(path, "auth"), problems);
  // Over http:// the password crosses the network in clear; on loopback it never leaves the host,
  // which is how a local etcd (or a test) often runs.
  const exposed = plain.filter((e) => !onLoopback(e));
  if (raw.auth !== undefined && exposed.length > 0) {
    problems.add(
      keyPath(path, "auth"),
      `would send the password in clear to ${exposed.join(", ")}: use https:// (plain http:// only on loopback)`,
    );
  }
  return {
    endpoints,
    prefix: parsePrefix(raw.prefix, keyPath(path, "prefix"), problems),
    ...(tls ? { tls } : {}),
    ...(auth ? { auth } : {}),
  };
}
