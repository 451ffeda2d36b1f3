import { stat } from "node:fs/promises";
import { type Parsed, show } from "./problems.js";
import type { NetnsFilter } from "./types.js";

const EXPECTED = "any, host, a path such as /run/netns/blue, or a namespace inode number";

/**
 * `netns: any | host | /run/netns/NAME | inode`. A path is resolved to its namespace inode now, at load,
 * because listeners carry inodes; it must be a network namespace file (same filesystem as our own).
 */
export async function parseNetnsFilter(value: unknown): Promise<Parsed<NetnsFilter>> {
  if (value === undefined || value === "any") return { value: { kind: "any" } };
  if (value === "host") return { value: { kind: "host" } };
  if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) {
    return { value: { kind: "inode", inode: value, source: String(value) } };
  }
  if (typeof value !== "string" || !value.startsWith("/"))
    return { error: `${show(value)} is not ${EXPECTED}` };
  const [target, own] = await Promise.all([
    stat(value).catch(() => undefined),
    stat("/proc/self/ns/net").catch(() => undefined),
  ]);
  if (!target)
    return { error: `${value} does not exist (create it with "ip netns add", or use ${EXPECTED})` };
  if (own && target.dev !== own.dev) return { error: `${value} is not a network namespace file` };
  return { value: { kind: "inode", inode: target.ino, source: value } };
}
