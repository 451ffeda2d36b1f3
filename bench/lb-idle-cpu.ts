/**
 * Issue 5, idle cost: CPU seconds per minute with 10, 1,000 and 10,000 idle listeners that are all
 * backends of one service, once everything is routed and nothing changes. For lbwatch and the poller
 * that is the controller process (with its children); for health checks it is HAProxy doing them.
 * HAProxy's own CPU is reported for every contender, so the check cost can be read against it.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { startBackend, startIdleListeners, waitListening } from "./lib/backends.js";
import type { BenchContext, Benchmark } from "./lib/bench.js";
import { CONTENDERS, startContender } from "./lib/contenders.js";
import { treeCpuSeconds } from "./lib/cpu-time.js";
import { sleep } from "./lib/helpers.js";
import { makeLayout } from "./lib/lb-layout.js";
import { round } from "./lib/percentiles.js";

/** lbwatch-reload idles like lbwatch-api (no events, no applies), and the wait variant likewise. */
const IDLE_CONTENDERS = CONTENDERS.filter(
  (c) => c.name !== "lbwatch-reload" && !c.name.endsWith("-nocheck-wait1ms"),
);

export const lbIdleCpu: Benchmark = {
  name: "lb-idle-cpu",
  async run(ctx: BenchContext) {
    const counts = ctx.quick ? [10, 10_000] : [10, 1000, 10_000];
    const windowMs = ctx.quick ? 2000 : 5000;
    const rows: Record<string, unknown>[] = [];
    for (const count of counts) {
      const layout = await makeLayout(join(ctx.scratch, "idle", String(count)), 1);
      await mkdir(layout.dir, { recursive: true });
      const idle = await startIdleListeners(count, layout.idlePort);
      const web = layout.webPorts.map(startBackend);
      await Promise.all(web.map(waitListening));
      try {
        for (const spec of IDLE_CONTENDERS.filter(
          (c) => !ctx.contenders || ctx.contenders.includes(c.name),
        )) {
          const row: Record<string, unknown> = { listeners: count, contender: spec.name };
          try {
            const running = await startContender(spec, layout, count, 90_000);
            try {
              // Let start-up work (first apply, checks' initial spread) settle.
              await sleep(1000);
              const pids = { controller: running.controller?.pid, haproxy: running.haproxy.child.pid };
              const cpu = async () => ({
                controller: pids.controller ? await treeCpuSeconds(pids.controller) : 0,
                haproxy: await treeCpuSeconds(pids.haproxy),
              });
              const before = await cpu();
              await sleep(windowMs);
              const after = await cpu();
              const perMin = (a: number, b: number) => round(((a - b) * 60_000) / windowMs, 2);
              row.controllerCpuSecPerMin = perMin(after.controller, before.controller);
              row.haproxyCpuSecPerMin = perMin(after.haproxy, before.haproxy);
              // The cost the contender adds: its controller, or for health checks HAProxy itself.
              row.cpuSecPerMin = spec.kind === "hc" ? row.haproxyCpuSecPerMin : row.controllerCpuSecPerMin;
            } finally {
              await running.stop();
            }
          } catch (err) {
            row.error = err instanceof Error ? err.message : String(err);
          }
          ctx.log("lb-idle-cpu", row);
          rows.push(row);
        }
      } finally {
        await Promise.all([...idle, ...web].map((c) => c.stop()));
      }
    }
    return { windowSeconds: windowMs / 1000, rows };
  },
};
