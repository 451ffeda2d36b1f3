/**
 * Readiness and liveness (issue 12). Every contender drives its own HAProxy 2.6 with lbwatch's shipped
 * template (templates/haproxy.cfg.hbs), in one run, on loopback:
 *
 * - listen → first client request served, for a backend that listens at once but whose /healthz
 *   answers 200 only 500 ms later, under a client load of ~500 req/s: lbwatch with `ready.http`
 *   (interval 10 ms, and the default 1 s) against HAProxy's own health checks of /healthz on servers
 *   declared up front (`hc-aggressive`: inter 100ms rise 1 fall 1; `hc-default`: inter 2s rise 2 fall 3).
 *   The backend times both ends itself (bench/helpers/ready-backend.mjs), on one clock.
 * - SIGSTOP → out of rotation (`show servers state`: stopped), for a backend up long enough for its
 *   check to be at full health: the shipped template's safety net under lbwatch (no gate) against
 *   hc-aggressive.
 *
 * `npx tsx bench/run.ts --only=ready`, or `npx tsx bench/ready.ts` alone (writes the same result file).
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchContext, Benchmark } from "./lib/bench.js";
import { stopAll } from "./lib/children.js";
import { BENCH_DIR, sleep } from "./lib/helpers.js";
import { round, summarize } from "./lib/percentiles.js";
import { clientLoad, freePort, opState, type Setup, start, startBackend, until } from "./lib/ready-setup.js";

const READY_AFTER_MS = 500;
const HEALTHZ = "httpchk GET /healthz";

const ROUTING: Setup[] = [
  { name: "lbwatch-ready-10ms", gate: "{ http: { path: /healthz }, interval: 10ms }", meta: {} },
  { name: "lbwatch-ready", gate: "{ http: { path: /healthz } }", meta: {} },
  {
    name: "hc-aggressive",
    declared: true,
    meta: { check: "inter 100ms rise 1 fall 1", checkOption: HEALTHZ },
  },
  { name: "hc-default", declared: true, meta: { check: "inter 2s rise 2 fall 3", checkOption: HEALTHZ } },
];
const HANGS: Setup[] = [
  { name: "lbwatch-safety-net", meta: {} },
  { name: "hc-aggressive", declared: true, meta: { check: "inter 100ms rise 1 fall 1" } },
];

async function routing(setup: Setup, dir: string, trials: number): Promise<number[]> {
  const ports = await Promise.all(Array.from({ length: trials }, freePort));
  const lb = await start(setup, dir, ports);
  // Declared servers start up, before their first check: it must find each port closed first.
  for (const port of setup.declared ? ports : []) {
    await until(async () => (await opState(lb.haproxy, port)) === 0, 10_000);
  }
  const stopLoad = clientLoad(lb.frontend, 500);
  const samples: number[] = [];
  try {
    for (const port of ports) {
      const backend = await startBackend(port, READY_AFTER_MS);
      const served = await backend.waitFor((l) => typeof l.listenToServedMs === "number", 15_000);
      samples.push(round(served.listenToServedMs as number, 1));
      await backend.stop();
      await sleep(300);
    }
  } finally {
    await stopLoad();
    await lb.stop();
  }
  return samples;
}

async function hangs(setup: Setup, dir: string, trials: number): Promise<number[]> {
  const ports = await Promise.all(Array.from({ length: trials }, freePort));
  const lb = await start(setup, dir, ports);
  const samples: number[] = [];
  try {
    for (const port of ports) {
      const backend = await startBackend(port, 0);
      await until(async () => (await opState(lb.haproxy, port)) === 2, 10_000);
      // A server added with a check is one failure from down; two passed checks give it full health.
      await sleep(setup.declared ? 1000 : 5000);
      backend.signal("SIGSTOP");
      const stopped = performance.now();
      await until(async () => (await opState(lb.haproxy, port)) === 0, 20_000);
      samples.push(Math.round(performance.now() - stopped));
      backend.signal("SIGCONT");
      await backend.stop();
    }
  } finally {
    await lb.stop();
  }
  return samples;
}

const figures = (samples: number[]) => {
  const s = summarize(samples);
  return { samples, ...(s ? { p50: s.p50, max: s.max, mean: round(s.mean, 1) } : {}) };
};

async function run(ctx: BenchContext): Promise<Record<string, unknown>> {
  const wanted = (s: Setup) => !ctx.contenders || ctx.contenders.includes(s.name);
  const result = {
    readyAfterMs: READY_AFTER_MS,
    listenToServedMs: {} as Record<string, unknown>,
    sigstopToOutOfRotationMs: {} as Record<string, unknown>,
    setups: {
      listenToServed: Object.fromEntries(
        ROUTING.map((s) => [s.name, { gate: s.gate ?? null, meta: s.meta }]),
      ),
      sigstop: Object.fromEntries(HANGS.map((s) => [s.name, { gate: s.gate ?? null, meta: s.meta }])),
    },
  };
  for (const setup of ROUTING.filter(wanted)) {
    ctx.log(`ready: ${setup.name}: listen → served`);
    const dir = join(ctx.scratch, `ready-${setup.name}`);
    await mkdir(dir, { recursive: true });
    result.listenToServedMs[setup.name] = figures(await routing(setup, dir, ctx.mode === "full" ? 5 : 3));
  }
  for (const setup of HANGS.filter(wanted)) {
    ctx.log(`ready: ${setup.name}: SIGSTOP → out of rotation`);
    const dir = join(ctx.scratch, `hang-${setup.name}`);
    await mkdir(dir, { recursive: true });
    result.sigstopToOutOfRotationMs[setup.name] = figures(
      await hangs(setup, dir, ctx.mode === "full" ? 3 : 2),
    );
  }
  return result;
}

export const ready: Benchmark = { name: "ready", run };

// Alone: the same result file run.ts would write for this benchmark.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes("--quick");
  const scratch = await mkdtemp(join(os.tmpdir(), "lbwatch-bench-"));
  const started = Date.now();
  try {
    const log = (message: string) => console.error(`[bench] ${message}`);
    const out = await run({ quick, mode: quick ? "quick" : "default", scratch, log });
    const file = {
      benchmark: "ready",
      mode: quick ? "quick" : "full",
      startedAt: new Date(started).toISOString(),
      seconds: Math.round((Date.now() - started) / 100) / 10,
      machine: {
        kernel: os.release(),
        cpus: os.cpus().length,
        node: process.version,
        loadAverage1m: round(os.loadavg()[0] ?? 0, 2),
      },
      result: out,
    };
    await writeFile(join(BENCH_DIR, "results", "ready.json"), `${JSON.stringify(file, null, 2)}\n`);
    console.log(JSON.stringify(out, null, 2));
  } finally {
    await stopAll();
    await rm(scratch, { recursive: true, force: true });
  }
}
