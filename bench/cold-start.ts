/**
 * Issue 13, cold start: N listeners already up, HAProxy started with their services' backends empty,
 * then `lbwatch run` started: the time from its start until `show servers state` shows all N ready
 * (read once `show stat` counts N in rotation, polled every 20 ms, every 250 ms above 20,000:
 * contenders.ts, waitRouted), with lbwatch's own log times of its phases, its
 * CPU and RSS at that point and HAProxy's CPU. Two layouts: all N in one backend, and N spread over
 * backends of 1,000. HAProxy 2.6 itself adds (and parses) the servers of one backend in O(n²), so the
 * one-backend case stops at 10,000 (100,000 in one backend: `haproxy -c` alone took 6 minutes here).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startBackend, startIdleListeners, waitListening } from "./lib/backends.js";
import type { BenchContext, Benchmark } from "./lib/bench.js";
import type { Line } from "./lib/children.js";
import { CONTENDERS, startContender } from "./lib/contenders.js";
import { procStat, rssBytes, treeCpuSeconds } from "./lib/cpu-time.js";
import { sleep } from "./lib/helpers.js";
import { IDLE_PER_SERVICE, makeLayout } from "./lib/lb-layout.js";
import { round } from "./lib/percentiles.js";

const API = CONTENDERS.find((c) => c.name === "lbwatch-api");
/** What lbwatch logs once its first full reconcile added what the HAProxy it just met lacked. */
const ADDED = "HAProxy (re)started: brought up to the desired servers";

/**
 * LBWATCH_BENCH_TRACE=<dir>: lbwatch's log lines (at debug level, with each line's ms from its start)
 * go to <dir>/cold-start.<n>-<per backend>.log.json, to see where its start-up goes.
 */
async function writeTrace(name: string, lines: readonly Line[], startedAt: number): Promise<void> {
  const dir = process.env.LBWATCH_BENCH_TRACE;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  const log = lines.map((l) => ({ ms: typeof l.time === "number" ? l.time - startedAt : undefined, ...l }));
  await writeFile(join(dir, `cold-start.${name}.log.json`), `${JSON.stringify(log, null, 1)}\n`);
}

/** Wall-clock ms (pino's `time`) of lbwatch's first line with this message, from its start. */
function phaseMs(lines: readonly Line[], msg: string, startedAt: number): number | undefined {
  const line = lines.find((l) => l.msg === msg);
  return typeof line?.time === "number" ? line.time - startedAt : undefined;
}

async function once(ctx: BenchContext, n: number, perService: number) {
  if (!API) throw new Error("no lbwatch-api contender");
  // One probe port: lbwatch refuses a service without ports.
  const layout = await makeLayout(join(ctx.scratch, "cold", `${n}-${perService}`), 1, n, perService);
  await mkdir(layout.dir, { recursive: true });
  const idle = await startIdleListeners(layout);
  const web = layout.webPorts.map(startBackend);
  await Promise.all(web.map(waitListening));
  try {
    const running = await startContender(API, layout, 120_000 + n * 3);
    // When lbwatch was started (readyMs counts from there), the origin of its log's phases too.
    const startedAt = Date.now() - running.readyMs;
    try {
      const pid = running.controller?.pid as number;
      const lines = running.controller?.stderrLines() ?? [];
      // HAProxy may show every server before lbwatch has read the last answer and logged it.
      for (let t = 0; t < 30 && !lines.some((l) => l.msg === ADDED); t++) await sleep(100);
      await writeTrace(`${n}-${perService}`, lines, startedAt);
      return {
        servers: n + layout.webPorts.length,
        backends: layout.idlePorts.length,
        readyMs: running.readyMs,
        lbwatchPhasesMs: {
          snapshotMerged: phaseMs(lines, "initial snapshot merged", startedAt),
          serversAdded: phaseMs(lines, ADDED, startedAt),
        },
        lbwatchCpuSeconds: round((await procStat(pid)).cpuSeconds, 2),
        lbwatchRssMiB: round((await rssBytes(pid)) / 2 ** 20, 1),
        haproxyCpuSeconds: round(await treeCpuSeconds(running.haproxy.child.pid), 2),
      };
    } finally {
      await running.stop();
    }
  } finally {
    await Promise.all([...idle, ...web].map((c) => c.stop()));
  }
}

export const coldStart: Benchmark = {
  name: "cold-start",
  async run(ctx: BenchContext) {
    const cases: [number, number][] =
      ctx.mode === "quick"
        ? [
            [1000, 1000],
            [10_000, IDLE_PER_SERVICE],
          ]
        : [
            [1000, 1000],
            [10_000, 10_000],
            [10_000, IDLE_PER_SERVICE],
            ...(ctx.mode === "full" ? ([[100_000, IDLE_PER_SERVICE]] as [number, number][]) : []),
          ];
    const rows: Record<string, unknown>[] = [];
    for (const [n, perService] of cases) {
      const row = { listeners: n, perBackend: perService };
      try {
        Object.assign(row, await once(ctx, n, perService));
      } catch (err) {
        Object.assign(row, { error: err instanceof Error ? err.message : String(err) });
      }
      ctx.log("cold-start", row);
      rows.push(row);
    }
    return { rows };
  },
};
