/**
 * CPU time, RSS and wake-ups of a process (and its descendants) from /proc. utime/stime in
 * /proc/PID/stat are in USER_HZ ticks, which Linux fixes at 100 for user space on every architecture.
 *
 * A process tree's CPU is the sum over its live processes of their own time plus the time of the
 * children they reaped (cutime/cstime): a child that exits inside a window (a `haproxy -c`, an old
 * HAProxy worker) moves from "live" to its parent's cutime when reaped, so the sum never loses it.
 * It can still fall when a process exits unreaped by the tree (a daemon reparented to init): a
 * window whose sum fell is no measurement (cpuWindow says so).
 */
import { readdir, readFile } from "node:fs/promises";

const USER_HZ = 100;

export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** user + system CPU seconds of the whole thread group. */
  cpuSeconds: number;
  /** user + system CPU seconds of the children it reaped (and theirs, as they reaped them). */
  reapedCpuSeconds: number;
  rssPages: number;
}

/** Parses /proc/PID/stat; comm may hold spaces and parentheses, so fields are counted after the last ")". */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(")");
  const pid = Number.parseInt(text.slice(0, text.indexOf(" ")), 10);
  // After ")": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17) ... rss(24); index 0 is field 3.
  const f = text.slice(close + 2).split(" ");
  const field = (n: number) => Number(f[n - 3]);
  return {
    pid,
    comm: text.slice(text.indexOf("(") + 1, close),
    ppid: field(4),
    cpuSeconds: (field(14) + field(15)) / USER_HZ,
    reapedCpuSeconds: (field(16) + field(17)) / USER_HZ,
    rssPages: field(24),
  };
}

export async function procStat(pid: number | "self"): Promise<ProcStat> {
  return parseProcStat(await readFile(`/proc/${pid}/stat`, "utf8"));
}

/** Every process's stat, and who each one's children are. */
async function processTable(): Promise<Map<number, ProcStat[]>> {
  const children = new Map<number, ProcStat[]>();
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = await procStat(Number(name));
      const siblings = children.get(s.ppid);
      if (siblings) siblings.push(s);
      else children.set(s.ppid, [s]);
    } catch {
      // The process exited between readdir and read.
    }
  }
  return children;
}

/** root (read directly, so a missing root throws) and every live descendant. */
async function tree(root: number): Promise<ProcStat[]> {
  const [self, children] = await Promise.all([procStat(root), processTable()]);
  const found: ProcStat[] = [];
  const queue = [self];
  for (let s = queue.pop(); s; s = queue.pop()) {
    found.push(s);
    queue.push(...(children.get(s.pid) ?? []));
  }
  return found;
}

/** CPU seconds of pid and every descendant, live or reaped (HAProxy's master and its workers, say). */
export async function treeCpuSeconds(root: number): Promise<number> {
  return (await tree(root)).reduce((sum, s) => sum + s.cpuSeconds + s.reapedCpuSeconds, 0);
}

/** Live descendants of pid (a running `haproxy -c` of lbwatch, say), with their comm. */
export async function descendants(root: number): Promise<{ pid: number; comm: string }[]> {
  return (await tree(root)).slice(1).map(({ pid, comm }) => ({ pid, comm }));
}

export type CpuWindow = { cpuSecPerMin: number } | { error: string };

/**
 * CPU seconds per minute of each tree over windowMs. A tree whose total fell (a process left it
 * unreaped) or whose root exited gives an error, never a figure.
 */
export async function cpuWindow(
  roots: Record<string, number>,
  windowMs: number,
): Promise<Record<string, CpuWindow>> {
  const read = async () =>
    Object.fromEntries(
      await Promise.all(
        Object.entries(roots).map(
          async ([name, pid]) => [name, await treeCpuSeconds(pid).catch(() => Number.NaN)] as const,
        ),
      ),
    );
  const before = await read();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const after = await read();
  return Object.fromEntries(
    Object.keys(roots).map((name) => {
      const delta = (after[name] as number) - (before[name] as number);
      if (Number.isNaN(delta)) return [name, { error: "the process exited during the window" }];
      if (delta < 0)
        return [name, { error: `CPU total fell by ${-delta} s: a process left the tree unreaped` }];
      return [name, { cpuSecPerMin: Math.round(((delta * 60_000) / windowMs) * 100) / 100 }];
    }),
  );
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
