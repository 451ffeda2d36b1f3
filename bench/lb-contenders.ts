/**
 * Issues 5 and 13: every contender against its own HAProxy 2.6 on loopback with the same backends,
 * one after the other in the same run, in each scenario (bench/lib/scenarios.ts): listen → served and
 * routed, close → unrouted and last request; idle CPU once everything is routed; failed client
 * requests during a rolling restart of 5 backends at 200 req/s (quiet only). The aims of issue 13
 * are checked against lbwatch-api's figures (bench/lib/aims.ts).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { checkAims } from "./lib/aims.js";
import { startBackend, startIdleListeners, waitListening } from "./lib/backends.js";
import type { BenchContext, Benchmark } from "./lib/bench.js";
import type { Child } from "./lib/children.js";
import { startChurn } from "./lib/churn.js";
import { CONTENDERS, type ContenderSpec, type Running, startContender } from "./lib/contenders.js";
import { rssBytes } from "./lib/cpu-time.js";
import { haproxyPaths } from "./lib/haproxy.js";
import { idleCpu, settle } from "./lib/idle-window.js";
import { type Layout, makeLayout } from "./lib/lb-layout.js";
import { round, type Summary, summarize } from "./lib/percentiles.js";
import { rollingRestart } from "./lib/rolling-restart.js";
import { routingTrials } from "./lib/routing-trials.js";
import { type Scenario, scenarios } from "./lib/scenarios.js";

const brief = (s: Summary | undefined) =>
  s && { n: s.n, p50: round(s.p50, 1), p90: round(s.p90, 1), p99: round(s.p99, 1), max: round(s.max, 1) };
const MiB = (bytes: number) => round(bytes / 2 ** 20, 1);

/**
 * LBWATCH_BENCH_TRACE=<dir>: each run's trials (monotonic ns, as lbwatch's kernel timestamps) and its
 * controller's log lines (at debug level) go to <dir>/<scenario>.<contender>.trace.json.
 */
async function writeTrace(name: string, trials: unknown, controllerLog: unknown): Promise<void> {
  const dir = process.env.LBWATCH_BENCH_TRACE;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${name}.trace.json`), `${JSON.stringify({ trials, controllerLog }, null, 1)}\n`);
}

/** Starting N servers through HAProxy 2.6 is slow in HAProxy itself; allow for it. */
const readyTimeoutMs = (s: Scenario) => 60_000 + s.otherBackends * 2;

async function measure(
  running: Running,
  spec: ContenderSpec,
  scenario: Scenario,
  layout: Layout,
  web: Child[],
) {
  const out: Record<string, unknown> = { readyMs: running.readyMs };
  const pid = running.controller?.pid;
  if (scenario.idleWindowMs) {
    out.settleMs = await settle(running, layout, 120_000, spec.kind === "lbwatch");
    out.idle = await idleCpu(running, scenario.idleWindowMs);
  }
  if (pid) out.controllerRssMiB = { ready: MiB(await rssBytes(pid)) };
  const churn = scenario.churnPerSec ? await startChurn(layout, scenario.churnPerSec, 600_000) : undefined;
  const routing = await routingTrials(running, spec, layout.probePorts, layout.frontend).finally(async () => {
    if (churn) out.churn = await churn.stop();
  });
  if (pid) (out.controllerRssMiB as Record<string, number>).afterTrials = MiB(await rssBytes(pid));
  const restart = scenario.restart
    ? await rollingRestart(web, layout.webPorts, layout.frontend, spec)
    : undefined;
  await writeTrace(`${scenario.name}.${spec.name}`, routing.trace, running.controller?.stderrLines());
  // HAProxy 2.6 itself may die under the Runtime API (a worker's SIGSEGV): say so beside the figures.
  if (running.haproxy.child.exited) {
    const alerts = running.haproxy.child.stderrTail.split("\n").filter((l) => l.includes("[ALERT]"));
    out.haproxyExited = alerts.slice(-3).join(" ");
  }
  const troubled = routing.lost > 0 || (restart?.failed ?? 0) > 0;
  return {
    ...out,
    listenToServedMs: brief(summarize(routing.listenToServedMs)),
    listenToRoutedMs: brief(summarize(routing.listenToRoutedMs)),
    closeToUnroutedMs: brief(summarize(routing.closeToUnroutedMs)),
    closeToLastAttemptMs: brief(summarize(routing.closeToLastAttemptMs)),
    lost: routing.lost,
    ...(restart ? { rollingRestart: restart } : {}),
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
}

async function runScenario(scenario: Scenario, ctx: BenchContext) {
  const layout = await makeLayout(
    join(ctx.scratch, "lb", scenario.name),
    scenario.trials,
    scenario.otherBackends,
  );
  const idle = await startIdleListeners(layout);
  const web: Child[] = layout.webPorts.map(startBackend);
  await Promise.all(web.map(waitListening));
  const contenders: Record<string, unknown> = {};
  try {
    const names = scenario.contenders.filter((c) => !ctx.contenders || ctx.contenders.includes(c));
    for (const spec of CONTENDERS.filter((c) => names.includes(c.name))) {
      const dir = join(layout.dir, spec.name);
      await mkdir(dir, { recursive: true });
      const own = { ...layout, ...layoutFiles(dir) };
      ctx.log(`lb-contenders: ${scenario.name} ${spec.name}`);
      const started = Date.now();
      try {
        const running = await startContender(spec, own, readyTimeoutMs(scenario));
        try {
          contenders[spec.name] = await measure(running, spec, scenario, own, web);
        } finally {
          await running.stop();
        }
      } catch (err) {
        contenders[spec.name] = { error: err instanceof Error ? err.message : String(err) };
      }
      Object.assign(contenders[spec.name] as object, { seconds: (Date.now() - started) / 1000 });
      const { samples: _, ...shown } = contenders[spec.name] as Record<string, unknown>;
      ctx.log(`lb-contenders: ${scenario.name} ${spec.name} done`, shown);
    }
  } finally {
    await Promise.all([...idle, ...web].map((c) => c.stop()));
  }
  return {
    family: scenario.family,
    trials: scenario.trials,
    otherBackends: scenario.otherBackends,
    ...(scenario.churnPerSec ? { churnPerSec: scenario.churnPerSec } : {}),
    contenders,
  };
}

/** Each contender's own HAProxy and lbwatch files, in its own directory; the ports stay shared. */
function layoutFiles(dir: string): Pick<Layout, "dir" | "haproxy" | "lbwatchConfig"> {
  return { dir, haproxy: haproxyPaths(dir), lbwatchConfig: join(dir, "lbwatch.yaml") };
}

export const lbContenders: Benchmark = {
  name: "lb-contenders",
  async run(ctx: BenchContext) {
    const results: Record<string, unknown> = {};
    for (const scenario of scenarios(ctx.mode)) {
      if (ctx.scenarios && !ctx.scenarios.includes(scenario.name)) continue;
      results[scenario.name] = await runScenario(scenario, ctx);
    }
    return {
      probeRatePerSec: 500,
      restartRatePerSec: 200,
      scenarios: results,
      aims: checkAims(results),
    };
  },
};
