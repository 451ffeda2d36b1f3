/**
 * Issue 5: every contender against its own HAProxy 2.6 on loopback with the same backends, one after
 * the other in the same run: listen → first request served, close → last request sent (and out of
 * rotation), and failed client requests during a rolling restart of 5 backends at 200 req/s.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startBackend, waitListening } from "./lib/backends.js";
import type { BenchContext, Benchmark } from "./lib/bench.js";
import type { Child } from "./lib/children.js";
import { CONTENDERS, type ContenderSpec, startContender } from "./lib/contenders.js";
import { makeLayout } from "./lib/lb-layout.js";
import { round, type Summary, summarize } from "./lib/percentiles.js";
import { rollingRestart } from "./lib/rolling-restart.js";
import { routingTrials } from "./lib/routing-trials.js";

const brief = (s: Summary | undefined) =>
  s && { n: s.n, p50: round(s.p50, 1), p90: round(s.p90, 1), p99: round(s.p99, 1), max: round(s.max, 1) };

/** The floor variant only shows what the check and the quiescence cost in latency; it skips the restart. */
const latencyOnly = (spec: ContenderSpec) => spec.name.endsWith("-nocheck-wait1ms");

/**
 * LBWATCH_BENCH_TRACE=<dir>: each contender's trials (monotonic ns, as lbwatch's kernel timestamps)
 * and its controller's log lines (at debug level) go to <dir>/<contender>.trace.json, to see where a
 * trial's time went.
 */
async function writeTrace(name: string, trials: unknown, controllerLog: unknown): Promise<void> {
  const dir = process.env.LBWATCH_BENCH_TRACE;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}.trace.json`), `${JSON.stringify({ trials, controllerLog }, null, 1)}\n`);
}

async function runContender(spec: ContenderSpec, ctx: BenchContext, trials: number) {
  const layout = await makeLayout(join(ctx.scratch, "lb", spec.name), trials);
  await mkdir(layout.dir, { recursive: true });
  const web: Child[] = layout.webPorts.map(startBackend);
  await Promise.all(web.map(waitListening));
  const running = await startContender(spec, layout, 0, 30_000);
  try {
    const routing = await routingTrials(running, spec, layout.probePorts, layout.frontend);
    const restart = latencyOnly(spec)
      ? undefined
      : await rollingRestart(web, layout.webPorts, layout.frontend, spec);
    await writeTrace(spec.name, routing.trace, running.controller?.stderrLines());
    const troubled = routing.lost > 0 || (restart?.failed ?? 0) > 0;
    return {
      listenToServedMs: brief(summarize(routing.listenToServedMs)),
      closeToLastAttemptMs: brief(summarize(routing.closeToLastAttemptMs)),
      closeToOutOfRotationMs: brief(summarize(routing.closeToOutOfRotationMs)),
      lost: routing.lost,
      rollingRestart: restart,
      samples: { listenToServedMs: routing.listenToServedMs.map((v) => round(v, 2)) },
      // What the controller and HAProxy said last, when something went wrong.
      ...(troubled
        ? {
            stderrTail: {
              controller: running.controller?.stderrTail.slice(-1500),
              haproxy: running.haproxy.child.stderrTail.slice(-1500),
            },
          }
        : {}),
    };
  } finally {
    await running.stop();
    await Promise.all(web.map((w) => w.stop()));
  }
}

export const lbContenders: Benchmark = {
  name: "lb-contenders",
  async run(ctx: BenchContext) {
    const trials = ctx.quick ? 8 : 50;
    const contenders: Record<string, unknown> = {};
    for (const spec of CONTENDERS.filter((c) => !ctx.contenders || ctx.contenders.includes(c.name))) {
      ctx.log(`lb-contenders: ${spec.name}`);
      try {
        contenders[spec.name] = await runContender(spec, ctx, trials);
      } catch (err) {
        contenders[spec.name] = { error: err instanceof Error ? err.message : String(err) };
      }
      const { samples: _, ...shown } = contenders[spec.name] as Record<string, unknown>;
      ctx.log(`lb-contenders: ${spec.name} done`, shown);
    }
    return { trialsPerContender: trials, probeRatePerSec: 500, restartRatePerSec: 200, contenders };
  },
};
