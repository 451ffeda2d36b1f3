/**
 * The kernel's own accounting of a BPF program (run_cnt, run_time_ns from `bpftool prog show`), which
 * the kernel keeps only while the sysctl kernel.bpf_stats_enabled is 1: turned on around one
 * measurement and restored after it, since it slows every BPF program on the machine a little.
 */
import { readFile, writeFile } from "node:fs/promises";
import { execa } from "execa";

const SYSCTL = "/proc/sys/kernel/bpf_stats_enabled";

export interface ProgRuns {
  /** Calls of the program (every traced TCP state change, for lbwatch's tracepoint programs). */
  runs: number;
  /** Kernel time spent in the program, including the stats accounting itself. */
  ns: number;
}

interface BpftoolProg {
  id: number;
  name?: string;
  run_cnt?: number;
  run_time_ns?: number;
}

async function progs(): Promise<BpftoolProg[]> {
  const { stdout } = await execa("bpftool", ["prog", "show", "--json"]);
  return JSON.parse(stdout) as BpftoolProg[];
}

/** Ids of the loaded BPF programs: taken before attaching, to tell ours from other processes' later. */
export async function progIds(): Promise<Set<number>> {
  return new Set((await progs()).map((p) => p.id));
}

/**
 * Runs `work` with bpf_stats on and returns the calls and time of the programs named `name` that were
 * not in `before` (the ones this process attached), summed.
 */
export async function measureRuns(
  name: string,
  before: Set<number>,
  work: () => Promise<void>,
): Promise<ProgRuns> {
  const previous = (await readFile(SYSCTL, "utf8")).trim();
  await writeFile(SYSCTL, "1");
  try {
    const ours = async () => (await progs()).filter((p) => p.name === name && !before.has(p.id));
    const start = await ours();
    await work();
    const end = await ours();
    const total = (list: BpftoolProg[], key: "run_cnt" | "run_time_ns") =>
      list.reduce((sum, p) => sum + (p[key] ?? 0), 0);
    return {
      runs: total(end, "run_cnt") - total(start, "run_cnt"),
      ns: total(end, "run_time_ns") - total(start, "run_time_ns"),
    };
  } finally {
    await writeFile(SYSCTL, previous);
  }
}
