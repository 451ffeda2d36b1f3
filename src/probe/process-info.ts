import { readFile, stat } from "node:fs/promises";

/** What a listen event says about the calling process, read back from /proc for a snapshot. */
export interface ProcessInfo {
  comm: string;
  /** Real uid and gid, as bpf_get_current_uid_gid() reports them. */
  uid: number;
  gid: number;
  /** cgroup v2 id: the inode of the process's cgroup directory, as bpf_get_current_cgroup_id(). */
  cgroupId: bigint;
}

/** Where cgroup2 is mounted (/sys/fs/cgroup on unified hosts, /sys/fs/cgroup/unified on hybrid ones). */
async function cgroup2Mount(): Promise<string | undefined> {
  const mountinfo = await readFile("/proc/self/mountinfo", "utf8");
  for (const line of mountinfo.split("\n")) {
    // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS... - FSTYPE SOURCE SUPEROPTS
    const [pre, post] = line.split(" - ");
    if (post?.startsWith("cgroup2 ")) return pre?.split(" ")[4];
  }
  return undefined;
}

/**
 * Reads comm, status and cgroup of pids, caching the cgroup2 mount and each cgroup path's id so a
 * snapshot of thousands of listeners stats each cgroup directory once.
 */
export class ProcessInfoReader {
  readonly #cgroupIds = new Map<string, Promise<bigint>>();
  #mount: Promise<string | undefined> | undefined;

  /** Undefined when the process exited or hides its details from us. */
  async read(pid: number): Promise<ProcessInfo | undefined> {
    try {
      const [comm, status, cgroup] = await Promise.all([
        readFile(`/proc/${pid}/comm`, "utf8"),
        readFile(`/proc/${pid}/status`, "utf8"),
        readFile(`/proc/${pid}/cgroup`, "utf8"),
      ]);
      return {
        comm: comm.replace(/\n$/, ""),
        uid: statusField(status, "Uid"),
        gid: statusField(status, "Gid"),
        cgroupId: await this.#cgroupId(cgroup),
      };
    } catch {
      return undefined;
    }
  }

  #cgroupId(cgroupFile: string): Promise<bigint> {
    // The unified hierarchy's line is "0::/path".
    const path = /^0::(\/.*)$/m.exec(cgroupFile)?.[1];
    if (path === undefined) return Promise.resolve(0n);
    let id = this.#cgroupIds.get(path);
    if (!id) {
      this.#mount ??= cgroup2Mount().catch(() => undefined);
      id = this.#mount.then(async (mount) =>
        mount === undefined
          ? 0n
          : ((await stat(`${mount}${path}`, { bigint: true }).catch(() => undefined))?.ino ?? 0n),
      );
      this.#cgroupIds.set(path, id);
    }
    return id;
  }
}

/** The first (real) id of a "Uid:" or "Gid:" line of /proc/PID/status. */
function statusField(status: string, name: "Uid" | "Gid"): number {
  const m = new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status);
  return m ? Number(m[1]) : 0;
}
