import { statSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { LbwatchError } from "../errors.js";
import { formatIPv6 } from "./inet.js";
import { loadAddon } from "./native.js";

/**
 * Network namespaces are named by the inode of their nsfs file: /proc/PID/ns/net and the bind mounts
 * `ip netns add` makes under /run/netns both stat to it, and it is what the BPF program reports.
 */

function procError(path: string, err: unknown, fix: string): LbwatchError {
  return new LbwatchError("E_PROC", `${path}: ${(err as Error).message} (${fix})`, { cause: err });
}

/**
 * A namespace of the host: PID 1's. When PID 1 holds capabilities we lack (a supervisor in a
 * sandbox), ptrace rules hide its ns links even from root; kthreadd (PID 2) is a kernel thread and
 * kernel threads always live in the initial namespaces, so it answers the same question.
 */
function initialNsInode(kind: "net" | "user"): number {
  let first: unknown;
  for (const path of [`/proc/1/ns/${kind}`, `/proc/2/ns/${kind}`]) {
    try {
      return statSync(path).ino;
    } catch (err) {
      first ??= err;
    }
  }
  throw procError(`/proc/1/ns/${kind}`, first, "needs a mounted /proc of the host PID namespace, as root");
}

/** The host's network namespace. */
export function hostNetnsInode(): number {
  return initialNsInode("net");
}

/** The initial user namespace: the one root's processes are in, which owns the host's namespaces. */
export function initialUsernsInode(): number {
  return initialNsInode("user");
}

/**
 * The user namespace owning the network namespace `pid` is in (ioctl NS_GET_USERNS, native/ns-owner.cc).
 * The answer describes the namespace file the addon opened: when that is no longer `netns` (the
 * process moved or exited and its pid was reused) it is an error, not an answer about another namespace.
 */
export function usernsOfNetns(pid: number, netns: number): number {
  const path = `/proc/${pid}/ns/net`;
  let owner: { inode: number; userns: number };
  try {
    owner = loadAddon().nsOwner(path);
  } catch (err) {
    if (err instanceof LbwatchError) throw err;
    throw procError(path, err, "the process may have exited, or reading it needs root");
  }
  if (owner.inode !== netns)
    throw procError(
      path,
      new Error(`now network namespace ${owner.inode}, not ${netns}`),
      "the process moved",
    );
  return owner.userns;
}

/** The network namespace of a process. Throws E_PROC when the process is gone or hidden from us. */
export async function netnsOfPid(pid: number | "self"): Promise<number> {
  const path = `/proc/${pid}/ns/net`;
  try {
    return (await stat(path)).ino;
  } catch (err) {
    throw procError(path, err, "the process may have exited, or reading it needs root");
  }
}

/** The network namespace behind a path such as /run/netns/NAME (from `ip netns add NAME`). */
export async function netnsInodeOfPath(path: string): Promise<number> {
  try {
    return (await stat(path)).ino;
  } catch (err) {
    throw procError(path, err, "name an existing namespace file, e.g. /run/netns/NAME from `ip netns list`");
  }
}

/** IPv4 addresses from fib_trie: each `|-- A.B.C.D` leaf followed by `/32 host LOCAL` is one of ours. */
export function parseFibTrieLocal(text: string): string[] {
  const found = new Set<string>();
  const lines = text.split("\n");
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i]?.includes("/32 host LOCAL")) continue;
    const m = /\|-- (\d+\.\d+\.\d+\.\d+)$/.exec(lines[i - 1] ?? "");
    if (m?.[1] && !m[1].startsWith("127.")) found.add(m[1]);
  }
  return [...found];
}

const SCOPE_HOST = 0x10;
const SCOPE_LINK = 0x20;

/**
 * IPv6 addresses from if_inet6 (`ADDRHEX IFINDEX PREFIXLEN SCOPE FLAGS DEV`, address in network order).
 * Host scope (::1) and link scope (fe80::/10) are left out: neither can be reached from another
 * namespace without a zone, so neither can be a load-balancer backend address.
 */
export function parseIfInet6(text: string): string[] {
  const found = new Set<string>();
  for (const line of text.split("\n")) {
    const [hex, , , scope] = line.trim().split(/\s+/);
    if (hex?.length !== 32 || scope === undefined) continue;
    const s = Number.parseInt(scope, 16);
    if (s === SCOPE_HOST || s === SCOPE_LINK) continue;
    found.add(formatIPv6(Buffer.from(hex, "hex")));
  }
  return [...found];
}

/**
 * Non-loopback interface addresses of the network namespace `pid` is in. Read from /proc/PID/net
 * (fib_trie and if_inet6) rather than `nsenter … ip -j addr`: no child process, no setns, so it works
 * from any thread, costs two small file reads, and needs no iproute2 at run time.
 */
export async function netnsAddresses(pid: number | "self"): Promise<{ v4: string[]; v6: string[] }> {
  const read = async (file: string, optional: boolean) => {
    const path = `/proc/${pid}/net/${file}`;
    try {
      return await readFile(path, "latin1");
    } catch (err) {
      // if_inet6 is absent when IPv6 is disabled: that means no IPv6 addresses.
      if (optional && (err as NodeJS.ErrnoException).code === "ENOENT") return "";
      throw procError(path, err, "the process may have exited; pass a live pid");
    }
  };
  const [fib, inet6] = await Promise.all([read("fib_trie", false), read("if_inet6", true)]);
  return { v4: parseFibTrieLocal(fib), v6: parseIfInet6(inet6) };
}
