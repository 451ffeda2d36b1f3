import { readFile } from "node:fs/promises";
import type { Listener } from "../probe/event.js";

/** The cgroup v2 path in the text of /proc/PID/cgroup (the "0::/path" line). */
export function parseProcCgroup(text: string): string | undefined {
  const line = text.split("\n").find((l) => l.startsWith("0::"));
  return line?.slice(3);
}

export async function readCgroupPath(pid: number): Promise<string | undefined> {
  const text = await readFile(`/proc/${pid}/cgroup`, "utf8").catch(() => undefined);
  return text === undefined ? undefined : parseProcCgroup(text);
}

/**
 * cgroup id → path. Events carry the cgroup id (the cgroup directory's inode), rules name paths; the
 * path is read from /proc/PID/cgroup of the listener's process when first seen and kept per cgroup id.
 */
export class CgroupPaths {
  readonly #cache = new Map<bigint, string>();
  readonly #read: (pid: number) => Promise<string | undefined>;

  constructor(read: (pid: number) => Promise<string | undefined> = readCgroupPath) {
    this.#read = read;
  }

  async of(listener: Listener): Promise<string | undefined> {
    const known = this.#cache.get(listener.cgroupId);
    if (known !== undefined) return known;
    const path = await this.#read(listener.pid);
    // Id 0 means "unknown": it names no single cgroup, so its answer is not shared.
    if (path !== undefined && listener.cgroupId !== 0n) this.#cache.set(listener.cgroupId, path);
    return path;
  }
}
