/**
 * The contenders of issue 5, each driving its own HAProxy on the shared layout: lbwatch through the
 * Runtime API or by reloads, HAProxy's own health checks on pre-declared servers, and the /proc
 * poller (bench/poller.ts) applying through lbwatch's code. start() returns once the contender routes
 * the 5 web backends (and, with checks, has marked the idle candidates up / the probe ports down).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { backendId } from "../../src/registry/backend-id.js";
import { Child } from "./children.js";
import { Haproxy, type ServerStat } from "./haproxy.js";
import { BENCH_DIR, REPO_DIR, sleep } from "./helpers.js";
import {
  AGGRESSIVE_CHECKS,
  type CheckTimers,
  DEFAULT_CHECKS,
  emptyConfig,
  haproxyEnv,
  healthCheckConfig,
  lbwatchConfig,
} from "./lb-config.js";
import { idleAddress, type Layout } from "./lb-layout.js";

export type ContenderSpec =
  | { name: string; kind: "lbwatch"; runtimeApi: boolean; waitMinMs: number; check?: false }
  | { name: string; kind: "poller"; intervalMs: number }
  | { name: string; kind: "hc"; timers: CheckTimers };

/**
 * lbwatch as configured in its README (wait.min 20ms, `haproxy -c` check before every apply), and
 * a floor variant without the check and with wait.min 1ms, to show what those two cost.
 */
export const CONTENDERS: ContenderSpec[] = [
  { name: "lbwatch-api", kind: "lbwatch", runtimeApi: true, waitMinMs: 20 },
  { name: "lbwatch-api-nocheck-wait1ms", kind: "lbwatch", runtimeApi: true, waitMinMs: 1, check: false },
  { name: "lbwatch-reload", kind: "lbwatch", runtimeApi: false, waitMinMs: 20 },
  { name: "hc-default", kind: "hc", timers: DEFAULT_CHECKS },
  { name: "hc-aggressive", kind: "hc", timers: AGGRESSIVE_CHECKS },
  { name: "poll-1s", kind: "poller", intervalMs: 1000 },
  { name: "poll-100ms", kind: "poller", intervalMs: 100 },
];

/** How long a listen or close may take to show for this contender before the trial counts as lost. */
export function boundMs(spec: ContenderSpec): number {
  if (spec.kind === "hc") return spec.timers === DEFAULT_CHECKS ? 12_000 : 2000;
  if (spec.kind === "poller") return spec.intervalMs * 2 + 3000;
  return 3000;
}

/** Listens per routing wave: sequential where waits are short, concurrent where they are seconds. */
export function waveSize(spec: ContenderSpec): number {
  if (spec.kind === "hc" && spec.timers === DEFAULT_CHECKS) return 25;
  if (spec.kind === "poller" && spec.intervalMs >= 1000) return 10;
  return 1;
}

/** Random delay before each listen of a wave, so listens land at every phase of the poll/check period. */
export function phaseJitterMs(spec: ContenderSpec): number {
  if (spec.kind === "hc") return spec.timers === DEFAULT_CHECKS ? 2000 : 100;
  if (spec.kind === "poller") return spec.intervalMs;
  return 0;
}

export interface Running {
  haproxy: Haproxy;
  /** lbwatch run or the poller; absent for health checks (HAProxy does the work). */
  controller?: Child;
  stop(): Promise<void>;
}

const serverIdFor = (addr: string, port: number) => backendId(4, addr, port);

/** Polls `show stat` until pred holds (or throws after timeoutMs). */
export async function waitForStats(
  haproxy: Haproxy,
  pred: (rows: ServerStat[]) => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await haproxy.showStat().catch(() => [] as ServerStat[]);
    if (pred(rows)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export const isRouting = (s: ServerStat | undefined) => s !== undefined && /^(UP|no check)/.test(s.status);

async function startController(spec: ContenderSpec, layout: Layout): Promise<Child | undefined> {
  if (spec.kind === "hc") return undefined;
  // The staged-config check (haproxy -c) reads the same environment variables as HAProxy.
  // LBWATCH_BENCH_TRACE keeps lbwatch's per-stage debug lines for lb-contenders' trace files.
  const env = {
    ...haproxyEnv(layout),
    LBWATCH_LOG_LEVEL: process.env.LBWATCH_BENCH_TRACE ? "debug" : "info",
  };
  if (spec.kind === "lbwatch") {
    return Child.start(
      process.execPath,
      [join(REPO_DIR, "bin", "lbwatch"), "run", "--config", layout.lbwatchConfig],
      {
        env,
      },
    );
  }
  return Child.start(
    process.execPath,
    ["--import", "tsx", join(BENCH_DIR, "poller.ts"), layout.lbwatchConfig, String(spec.intervalMs)],
    { env, cwd: REPO_DIR },
  );
}

/** Writes the contender's HAProxy config (and lbwatch's), starts HAProxy and the controller, waits until routed. */
export async function startContender(
  spec: ContenderSpec,
  layout: Layout,
  idleCount: number,
  readyTimeoutMs: number,
): Promise<Running> {
  if (spec.kind === "hc") {
    await writeFile(layout.haproxy.config, await healthCheckConfig(layout, spec.timers, idleCount));
  } else {
    const runtimeApi = spec.kind === "lbwatch" && spec.runtimeApi;
    const waitMinMs = spec.kind === "lbwatch" ? spec.waitMinMs : 20;
    const check = !(spec.kind === "lbwatch" && spec.check === false);
    await writeFile(layout.lbwatchConfig, lbwatchConfig(layout, { runtimeApi, waitMinMs, check }));
    // HAProxy starts with no servers; the controller's first apply brings in what already listens.
    await writeFile(layout.haproxy.config, await emptyConfig(layout));
  }
  const haproxy = await Haproxy.start(layout.haproxy, haproxyEnv(layout));
  const controller = await startController(spec, layout).catch(async (err) => {
    await haproxy.stop();
    throw err;
  });
  const running: Running = {
    haproxy,
    ...(controller ? { controller } : {}),
    async stop() {
      await controller?.stop();
      await haproxy.stop();
    },
  };
  const web = layout.webPorts.map((p) => serverIdFor("127.0.0.1", p));
  const probe = new Set(layout.probePorts.map((p) => serverIdFor("127.0.0.1", p)));
  const idle = Array.from({ length: idleCount }, (_, i) => serverIdFor(idleAddress(i), layout.idlePort));
  try {
    await waitForStats(
      haproxy,
      (rows) => {
        if (controller?.exited) throw new Error(`${spec.name} exited: ${controller.stderrTail}`);
        const by = new Map(rows.map((r) => [r.server, r]));
        return (
          [...web, ...idle].every((id) => isRouting(by.get(id))) &&
          rows.every((r) => !probe.has(r.server) || !isRouting(r))
        );
      },
      readyTimeoutMs,
      `${spec.name}: web and idle backends routed, probe ports not`,
    );
  } catch (err) {
    await running.stop();
    throw err;
  }
  return running;
}
