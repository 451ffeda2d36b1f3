/**
 * The raw surface of native/build/Release/lbwatch.node, typed here and used only by src/probe/
 * (listen-probe.ts, attach.ts and netns.ts) and, for tuneMalloc and trimMalloc,
 * src/cli/tune-malloc.ts. Nothing else should import this file.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { LbwatchError } from "../errors.js";
import type { HookName } from "./event.js";

export interface NativeOpenOptions {
  objectPath: string;
  hook: HookName;
  /** Ring buffer size in bytes: a power of two and a multiple of the page size. */
  ringBytes: number;
}

export interface NativeStats {
  /** Records handed to JS since open. */
  events: number;
  /** Sum over CPUs of failed ring reservations since open. */
  drops: number;
  hook: HookName;
}

/** Thrown by `new Probe()` and passed to onError: an errno error like Node's own. */
export interface NativeError extends Error {
  /** errno name: "EPERM", "ENOENT", ... */
  code: string;
  errno: number;
  /** Set when opening: the hook that failed, the step ("load", "attach lbwatch_tp_btf", ...) and libbpf's log tail. */
  hook?: HookName;
  step?: string;
  libbpfLog?: string;
}

export type BatchCallback = (records: Buffer, count: number, drops: number) => void;

export interface NativeProbe {
  /** Starts the uv_poll on the ring; onBatch gets every waiting record at once. Keeps the loop alive until close(). */
  start(onBatch: BatchCallback, onError: (err: NativeError) => void): void;
  stats(): NativeStats;
  /** Detaches the programs, frees the ring and closes the object. Idempotent. */
  close(): void;
}

export type NativeFieldName =
  | "ts"
  | "cgroup_id"
  | "sock"
  | "netns"
  | "pid"
  | "tid"
  | "uid"
  | "gid"
  | "backlog"
  | "port"
  | "family"
  | "type"
  | "oldstate"
  | "newstate"
  | "pad"
  | "addr"
  | "comm";

/** sizeof/offsetof of struct lbwatch_event as the C compiler laid it out, and its type constants. */
export interface NativeLayout {
  size: number;
  fields: Record<NativeFieldName, { offset: number; size: number }>;
  listen: number;
  close: number;
}

/** A namespace file and the user namespace owning it, both as inodes (as /proc/PID/ns/* stat to). */
export interface NativeNsOwner {
  inode: number;
  userns: number;
}

export interface NativeAddon {
  Probe: new (options: NativeOpenOptions) => NativeProbe;
  layout: NativeLayout;
  /** Opens `path` (e.g. /proc/PID/ns/net), fstats it and asks ioctl(NS_GET_USERNS). Throws a NativeError. */
  nsOwner(path: string): NativeNsOwner;
  /** mallopt(3) M_MMAP_THRESHOLD and M_TRIM_THRESHOLD; false when glibc refused the value. */
  tuneMalloc(mmapThresholdBytes: number): boolean;
  /** malloc_trim(3): true when pages went back to the kernel. */
  trimMalloc(): boolean;
}

/** The package root: two levels above this file both as src/probe/*.ts (tsx) and dist/probe/*.js. */
export const packageRoot = fileURLToPath(new URL("../../", import.meta.url));

export const defaultObjectPath = `${packageRoot}bpf/lbwatch.bpf.o`;

const addonPaths = ["native/build/Release/lbwatch.node", "native/build/Debug/lbwatch.node"].map(
  (p) => `${packageRoot}${p}`,
);

let addon: NativeAddon | undefined;

/** Loads the addon once; E_ADDON names every path tried and why each failed. */
export function loadAddon(): NativeAddon {
  if (addon) return addon;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const path of addonPaths) {
    if (!existsSync(path)) {
      tried.push(`${path}: not found`);
      continue;
    }
    try {
      addon = require(path) as NativeAddon;
      return addon;
    } catch (err) {
      tried.push(`${path}: ${(err as Error).message}`);
    }
  }
  throw new LbwatchError(
    "E_ADDON",
    `the lbwatch native addon could not be loaded; tried:\n  ${tried.join("\n  ")}\n` +
      "Build it with `make build` (or `npm ci`, which runs node-gyp in native/).",
  );
}
