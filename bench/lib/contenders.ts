/**
 * The contenders of issues 5 and 13, each driving its own HAProxy on the shared layout: lbwatch
 * through the Runtime API or by reloads, HAProxy's own health checks on pre-declared servers, and the
 * /proc poller (bench/poller.ts) applying through lbwatch's own controller and targets. start()
 * returns once the contender routes the web and idle backends and routes no probe or churn port.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { backendId } from "../../src/registry/backend-id.js";
import { Child } from "./children.js";
import { Haproxy, isReady, type ServerState } from "./haproxy.js";
import { BENCH_DIR, lbwatchArgv, REPO_DIR, sleep } from "./helpers.js";
import {
  AGGRESSIVE_CHECKS,
  type CheckTimers,
  DEFAULT_CHECKS,
  emptyConfig,
  haproxyEnv,
  healthCheckConfig,
  lbwatchConfig,
} from "./lb-config.js";
import { idleEndpoint, type Layout } from "./lb-layout.js";

export type ContenderSpec =
  | { name: string; kind: "lbwatch"; runtimeApi: boolean }
  | { name: string; kind: "poller"; intervalMs: number }
  | { name: string; kind: "hc"; timers: CheckTimers };

/**
 * lbwatch as README configures it; the pollers run lbwatch's own controller and HAProxy target with
 * the same config, through the Runtime API, so only the way they learn of listeners differs.
 */
export const CONTENDERS: ContenderSpec[] = [
  { name: "lbwatch-api", kind: "lbwatch", runtimeApi: true },
  { name: "lbwatch-reload", kind: "lbwatch", runtimeApi: false },
  { name: "hc-default", kind: "hc", timers: DEFAULT_CHECKS },
  { name: "hc-aggressive", kind: "hc", timers: AGGRESSIVE_CHECKS },
  { name: "poll-1s", kind: "poller", intervalMs: 1000 },
  { name: "poll-100ms", kind: "poller", intervalMs: 100 },
];

/** How long a listen or close may take to show for this contender before the trial counts as lost. */
export function boundMs(spec: ContenderSpec): number {
  if (spec.kind === "hc") return spec.timers === DEFAULT_CHECKS ? 12_000 : 3000;
  if (spec.kind === "poller") return spec.intervalMs * 2 + 5000;
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
  /** From starting the controller (or HAProxy, for health checks) to every web and idle backend routed. */
  readyMs: number;
  stop(): Promise<void>;
}

export const serverIdFor = (addr: string, port: number) => backendId(4, addr, port);

function startController(spec: ContenderSpec, layout: Layout): Child | undefined {
  if (spec.kind === "hc") return undefined;
  // The staged-config check (haproxy -c) reads the same environment variables as HAProxy.
  // LBWATCH_BENCH_TRACE keeps lbwatch's debug lines for lb-contenders' trace files.
  const env = {
    ...haproxyEnv(layout),
    LBWATCH_LOG_LEVEL: process.env.LBWATCH_BENCH_TRACE ? "debug" : "info",
  };
  if (spec.kind === "lbwatch") {
    // LBWATCH_BENCH_PROFILE=<dir>: a V8 CPU profile of each lbwatch process, written when it stops,
    // sampled every 5 ms (the default 1 ms made a cold start of 100,000 backends 2.5x slower).
    const profile = process.env.LBWATCH_BENCH_PROFILE
      ? [
          "--cpu-prof",
          "--cpu-prof-interval=5000",
          `--cpu-prof-dir=${join(process.env.LBWATCH_BENCH_PROFILE, layout.dir.split("/").slice(-2).join("."))}`,
        ]
      : [];
    return Child.start(process.execPath, lbwatchArgv(["run", "--config", layout.lbwatchConfig], profile), {
      env,
    });
  }
  return Child.start(
    process.execPath,
    ["--import", "tsx", join(BENCH_DIR, "poller.ts"), layout.lbwatchConfig, String(spec.intervalMs)],
    { env, cwd: REPO_DIR },
  );
}

/** Polls HAProxy until every `want` server is ready and no `unwanted` one is (`show servers state`). */
async function waitRouted(
  running: Omit<Running, "readyMs" | "stop">,
  want: Set<string>,
  unwanted: Set<string>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = 0;
  for (;;) {
    if (running.controller?.exited) throw new Error(`controller exited: ${running.controller.stderrTail}`);
    // The cheap count first; every server's state only once enough are in rotation.
    seen = await running.haproxy.activeServers(30_000).catch(() => 0);
    if (seen >= want.size) {
      const rows = await running.haproxy.serversState(30_000).catch(() => [] as ServerState[]);
      const ready = rows.filter((r) => isReady(r));
      seen = ready.filter((r) => want.has(r.server)).length;
      if (seen === want.size && !ready.some((r) => unwanted.has(r.server))) return;
    }
    if (Date.now() > deadline)
      throw new Error(`${seen} of ${want.size} backends routed within ${timeoutMs} ms`);
    // A full read is 15 MB at 100,000 servers, so poll less often there.
    await sleep(want.size > 20_000 ? 250 : 20);
  }
}

/** Writes the contender's HAProxy config (and lbwatch's), starts HAProxy and the controller, waits until routed. */
export async function startContender(
  spec: ContenderSpec,
  layout: Layout,
  readyTimeoutMs: number,
): Promise<Running> {
  if (spec.kind === "hc") {
    await writeFile(layout.haproxy.config, await healthCheckConfig(layout, spec.timers));
  } else {
    await writeFile(
      layout.lbwatchConfig,
      lbwatchConfig(layout, { runtimeApi: spec.kind === "poller" || spec.runtimeApi }),
    );
    // HAProxy starts with no servers; the controller's first apply brings in what already listens.
    await writeFile(layout.haproxy.config, await emptyConfig(layout));
  }
  const haproxy = await Haproxy.start(layout.haproxy, haproxyEnv(layout));
  const started = Date.now();
  const controller = startController(spec, layout);
  const stop = async () => {
    await controller?.stop();
    await haproxy.stop();
  };
  const want = new Set([
    ...layout.webPorts.map((p) => serverIdFor("127.0.0.1", p)),
    ...Array.from({ length: layout.idleCount }, (_, i) => {
      const { address, port } = idleEndpoint(layout, i);
      return serverIdFor(address, port);
    }),
  ]);
  const unwanted = new Set(layout.probePorts.map((p) => serverIdFor("127.0.0.1", p)));
  try {
    await waitRouted({ haproxy, ...(controller ? { controller } : {}) }, want, unwanted, readyTimeoutMs);
  } catch (err) {
    await stop();
    throw new Error(`${spec.name}: ${(err as Error).message}`);
  }
  return { haproxy, ...(controller ? { controller } : {}), readyMs: Date.now() - started, stop };
}
