/**
 * bench/cluster.ts at scale: a synthetic fleet (bench/cluster-fleet.ts: the agent's publishing code,
 * one lease per host, no probes) standing for many hosts, against the lab's lbwatch run and HAProxy.
 * What it costs the controller: time until HAProxy runs every backend, its RSS, its CPU per 1,000
 * remote changes, and how long after the fleet's leases expire every backend is out of rotation.
 */
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { isRoutable } from "../src/targets/haproxy/runtime-answers.js";
import type { ClusterLab } from "../test/helpers/cluster-lab.js";
import { serversState } from "../test/helpers/haproxy.js";
import { FLEET_SCRIPT, type FleetArgs } from "./cluster-fleet.js";
import { rssBytes } from "./lib/cpu-time.js";
import { round } from "./lib/percentiles.js";

const MiB = 2 ** 20;
const USER_HZ = 100;
/** The agents' default TTL: 1,000 hosts renew every 3.3 s (300 keep-alives/s). */
export const FLEET_TTL_SECONDS = 10;
const POLL_MS = 100;

interface Cpu {
  /** The process's own CPU seconds. */
  own: number;
  /** Its children's it has reaped: lbwatch's `haproxy -c` checks of the file it writes behind. */
  children: number;
}

async function cpuOf(pid: number): Promise<Cpu> {
  const text = await readFile(`/proc/${pid}/stat`, "utf8");
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // Fields 14-17 (utime, stime, cutime, cstime); index 0 here is field 3.
  const field = (n: number) => Number(f[n - 3]) / USER_HZ;
  return { own: field(14) + field(15), children: field(16) + field(17) };
}

const cpuSince = (a: Cpu, b: Cpu, scale = 1) => ({
  own: round((b.own - a.own) * scale, 3),
  children: round((b.children - a.children) * scale, 3),
});

async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

/** Routable servers of the fleet's backends (be_fleet<j>) in HAProxy. */
async function fleetServers(lab: ClusterLab): Promise<number> {
  const all = await serversState(lab.haproxy.statsSocket);
  return all.filter((s) => s.backend.startsWith("be_fleet") && isRoutable(s)).length;
}

async function until(what: () => Promise<boolean>, withinMs: number, label: string): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < withinMs) {
    if (await what()) return performance.now() - t0;
    await sleep(POLL_MS);
  }
  throw new Error(`${label}: not within ${withinMs} ms`);
}

export interface FleetResult {
  hosts: number;
  backendsPerHost: number;
  backends: number;
  /** Fleet start → etcd holds every host's set (the publishers' own figure). */
  publishMs: number;
  /** Fleet start → HAProxy runs every backend (polled every 100 ms). */
  convergeMs: number;
  /** etcd held everything → HAProxy ran everything. */
  convergeAfterPublishedMs: number;
  controllerCpuSecondsToConverge: { own: number; children: number };
  controllerRssMiB: number;
  controllerPeakRssMiB: number;
  controllerRssBeforeMiB: number;
  fleetProcessRssMiB: number;
  churn: { changes: number; seconds: number; controllerCpuSecondsPer1000: { own: number; children: number } };
  /** The fleet SIGKILLed: every backend out of rotation, against the fleet's ttl. */
  massExpiry: { ttlSeconds: number; allOutMs: number };
}

export async function fleetScale(
  lab: ClusterLab,
  options: { hosts: number; perHost: number; churnChanges: number },
): Promise<FleetResult> {
  const args: FleetArgs = {
    endpoints: lab.etcd.endpoints,
    prefix: lab.prefix,
    hosts: options.hosts,
    perHost: options.perHost,
    ttlSeconds: FLEET_TTL_SECONDS,
    addresses: lab.net.hosts.map((h) => h.address),
    firstPort: 20_000,
  };
  const total = options.hosts * options.perHost;
  const pid = lab.run.pid;
  const rssBefore = await rssBytes(pid);
  const cpu0 = await cpuOf(pid);
  const t0 = performance.now();
  const fleet = execa(process.execPath, ["--import", "tsx", FLEET_SCRIPT, JSON.stringify(args)], {
    reject: false,
    stdin: "pipe",
    stderr: "inherit",
  });
  const lines: Record<string, number | string>[] = [];
  createInterface({ input: fleet.stdout as NodeJS.ReadableStream }).on("line", (l) =>
    lines.push(JSON.parse(l)),
  );
  const said =
    (event: string, count = 1) =>
    async () =>
      lines.filter((l) => l.event === event).length >= count || fleet.exitCode !== null;
  try {
    await until(
      async () => (await said("published")()) && (await fleetServers(lab)) === total,
      180_000,
      "converge",
    );
    const convergeMs = performance.now() - t0;
    const publishMs = Number(lines.find((l) => l.event === "published")?.ms ?? Number.NaN);
    const cpu1 = await cpuOf(pid);
    const rss = await rssBytes(pid);
    const fleetRss = await rssBytes(fleet.pid ?? 0);

    // Changes: each withdraws or restores one backend of the next host; 2 rounds bring the set back.
    const c0 = await cpuOf(pid);
    const tc = performance.now();
    for (const [round_, expected] of [
      [1, total - options.churnChanges],
      [2, total],
    ] as const) {
      fleet.stdin?.write(`churn ${options.churnChanges}\n`);
      await until(said("churned", round_), 60_000, "churn");
      await until(async () => (await fleetServers(lab)) === expected, 60_000, "churn converge");
    }
    const churnSeconds = (performance.now() - tc) / 1000;
    const c1 = await cpuOf(pid);
    const peak = await peakRss(pid);

    fleet.kill("SIGKILL");
    await fleet;
    const allOutMs = await until(
      async () => (await fleetServers(lab)) === 0,
      FLEET_TTL_SECONDS * 1000 + 30_000,
      "expiry",
    );
    return {
      hosts: options.hosts,
      backendsPerHost: options.perHost,
      backends: total,
      publishMs: round(publishMs, 0),
      convergeMs: round(convergeMs, 0),
      convergeAfterPublishedMs: round(convergeMs - publishMs, 0),
      controllerCpuSecondsToConverge: cpuSince(cpu0, cpu1),
      controllerRssMiB: round(rss / MiB, 1),
      controllerPeakRssMiB: round(peak / MiB, 1),
      controllerRssBeforeMiB: round(rssBefore / MiB, 1),
      fleetProcessRssMiB: round(fleetRss / MiB, 1),
      churn: {
        changes: 2 * options.churnChanges,
        seconds: round(churnSeconds, 2),
        controllerCpuSecondsPer1000: cpuSince(c0, c1, 1000 / (2 * options.churnChanges)),
      },
      massExpiry: { ttlSeconds: FLEET_TTL_SECONDS, allOutMs: round(allOutMs, 0) },
    };
  } finally {
    fleet.kill("SIGKILL");
    await fleet;
  }
}
