/**
 * The etcd keys shared by `sources[i].etcd` (lbwatch run) and `etcd` (lbwatch agent): where etcd is
 * and which prefix holds lbwatch's keys.
 */
import { keyPath, type Problems, show } from "./problems.js";

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
export function parseEndpoints(value: unknown, path: string, problems: Problems): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    problems.add(path, 'must be a non-empty list of client URLs such as ["http://10.0.0.1:2379"]');
    return [];
  }
  const endpoints = value.map((entry, i) => parseEndpoint(entry, keyPath(path, i), problems));
  return endpoints.filter((e): e is string => e !== undefined);
}

export function parsePrefix(value: unknown, path: string, problems: Problems): string {
  if (value === undefined) return DEFAULT_PREFIX;
  if (typeof value === "string" && PREFIX.test(value) && value.length <= 200) return value;
  problems.add(
    path,
    `${show(value)} is not a key prefix such as /lbwatch ("/" and names of letters, digits, _ . -, no trailing "/")`,
  );
  return DEFAULT_PREFIX;
}
