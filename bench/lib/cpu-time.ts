/**
 * CPU time, RSS and wake-ups of a process (and its descendants) from /proc. utime/stime in
 * /proc/PID/stat are in USER_HZ ticks, which Linux fixes at 100 for user space on every architecture.
 */
import { readdir, readFile } from "node:fs/promises";

const USER_HZ = 100;

export interface ProcStat {
  pid: number;
  ppid: number;
  /** user + system CPU seconds of the whole thread group. */
  cpuSeconds: number;
  rssPages: number;
}

/** Parses /proc/PID/stat; comm may hold spaces and parentheses, so fields are counted after the last ")". */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(")");
  const pid = Number.parseInt(text.slice(0, text.indexOf(" ")), 10);
  // After ")": state(3) ppid(4) ... utime(14) stime(15) ... rss(24); index 0 here is field 3.
  const f = text.slice(close + 2).split(" ");
  const field = (n: number) => Number(f[n - 3]);
  return {
    pid,
    ppid: field(4),
    cpuSeconds: (field(14) + field(15)) / USER_HZ,
    rssPages: field(24),
  };
}

export async function procStat(pid: number | "self"): Promise<ProcStat> {
  return parseProcStat(await readFile(`/proc/${pid}/stat`, "utf8"));
}

/** CPU seconds of pid plus every live descendant (HAProxy's master and its workers, say). */
export async function treeCpuSeconds(root: number): Promise<number> {
  const stats: ProcStat[] = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      stats.push(await procStat(Number(name)));
    } catch {
      // The process exited between readdir and read.
    }
  }
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  let total = 0;
  const queue = stats.filter((s) => s.pid === root);
  for (let s = queue.pop(); s; s = queue.pop()) {
    total += s.cpuSeconds;
    queue.push(...(children.get(s.pid) ?? []));
  }
  return total;
}

/** Resident set size in bytes, from VmRSS (kB). */
export async function rssBytes(pid: number | "self"): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
  return Number(kb ?? 0) * 1024;
}

/** Context switches of every thread: a process that never wakes up does not add to this. */
export async function contextSwitches(pid: number): Promise<number> {
  let total = 0;
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    try {
      const status = await readFile(`/proc/${pid}/task/${tid}/status`, "utf8");
      for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm)) total += Number(m[1]);
    } catch {
      // Thread exited.
    }
  }
  return total;
}
