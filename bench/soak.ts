/**
 * Issue 8's fault soak (`make soak`): web backends churn under a bounded client load (50 req/s)
 * through a real HAProxy driven by `bin/lbwatch run`, while faults are injected one at a time in a
 * random order (bench/lib/soak-faults.ts). After each fault ends, and every 10 s of quiet, HAProxy's
 * live servers and dest are compared with the listeners `ss` lists (bench/lib/soak-truth.ts; dest,
 * written behind, with those of the last 3 s).
 *   npx tsx bench/soak.ts [--minutes=3] [--seed=N] [--faults=haproxy-kill,reload-fail,api-down,flood]
 * Writes bench/results/soak.json (soak-KINDS.json with --faults); `npx tsx bench/run.ts --report` puts it in summary.md.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { stopAll } from "./lib/children.js";
import { rssBytes } from "./lib/cpu-time.js";
import { BENCH_DIR, sleep } from "./lib/helpers.js";
import { freePortBlock } from "./lib/lb-layout.js";
import { nowMs, startLoad } from "./lib/load-generator.js";
import { round, summarize } from "./lib/percentiles.js";
import { Churner, seededRandom } from "./lib/soak-churn.js";
import { FAULT_KINDS, type FaultKind, injectFault } from "./lib/soak-faults.js";
import { waitConverged } from "./lib/soak-truth.js";
import { SoakWorld } from "./lib/soak-world.js";

const RATE = 50;
const WEB_SLOTS = 12;
/** The aim: HAProxy converged within this of a fault's end. */
const AIM_MS = 2000;
/** dest is written behind HAProxy, at most 2 s apart (README, "File lane"): its aim is that much later. */
const DEST_AIM_MS = AIM_MS + 2000;
/** How long to keep looking after a fault before calling it not converged. */
const BOUND_MS = 15_000;
/** A comparison after every this much quiet (time outside faults and their convergence). */
const CHECK_EVERY_MS = 10_000;

const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const minutes = Number(flag("minutes") ?? 3);
const seed = Number(flag("seed") ?? Math.floor(Math.random() * 2 ** 31));
/** `--faults=flood,api-down`: only these kinds (without lbwatch-kill, one lbwatch's RSS over the whole run). */
const kinds = (flag("faults")?.split(",") ?? [...FAULT_KINDS]) as FaultKind[];
for (const k of kinds) {
  if (!(FAULT_KINDS as readonly string[]).includes(k))
    throw new Error(`--faults: unknown fault "${k}" (known: ${FAULT_KINDS.join(", ")})`);
}

interface FaultRecord {
  kind: FaultKind;
  atS: number;
  durationMs: number;
  /** HAProxy and dest agree with the listeners. */
  convergeMs?: number;
  /** HAProxy alone. */
  haproxyMs?: number;
  detail?: string;
  note?: string;
  /** Converged late or not at all: why the comparisons failed meanwhile, by kind. */
  failedComparisons?: Record<string, number>;
  /** A late fault: what the last failed comparison saw. */
  lastFailure?: string;
  window: [number, number];
}

const MiB = (b: number) => round(b / 2 ** 20, 1);
const countBy = (kinds: string[]) =>
  kinds.reduce<Record<string, number>>((n, k) => Object.assign(n, { [k]: (n[k] ?? 0) + 1 }), {});
const isLate = (haproxyMs: number | undefined, ms: number | undefined) =>
  haproxyMs === undefined || ms === undefined || haproxyMs > AIM_MS || ms > DEST_AIM_MS;
const logs = (world: SoakWorld, msg: string) =>
  world.lbwatchRuns.reduce((n, c) => n + c.stderrLines().filter((l) => l.msg === msg).length, 0);

/** LBWATCH_SOAK_LOGS=<dir>: every lbwatch run's log lines, one file per run. */
async function keepLogs(world: SoakWorld): Promise<void> {
  const dir = process.env.LBWATCH_SOAK_LOGS;
  if (!dir) return;
  await mkdir(dir, { recursive: true });
  for (const [i, run] of world.lbwatchRuns.entries()) {
    const text = run
      .stderrLines()
      .map((l) => JSON.stringify(l))
      .join("\n");
    await writeFile(join(dir, `lbwatch-${i}.log`), `${text}\n`);
  }
}

/** First boot in the order issue 8 asks to work: lbwatch before HAProxy, which then starts from dest. */
async function firstBoot(world: SoakWorld): Promise<void> {
  world.startLbwatch();
  const deadline = Date.now() + 20_000;
  while (!(await readdir(world.dir)).includes("haproxy.cfg")) {
    if (Date.now() > deadline || world.lbwatch?.exited)
      throw new Error(`lbwatch wrote no dest: ${world.lbwatch?.stderrTail}`);
    await sleep(50);
  }
  await world.startHaproxy();
}

async function soak(dir: string) {
  const base = await freePortBlock(100);
  const world = new SoakWorld(dir, {
    frontend: base,
    web: Array.from({ length: WEB_SLOTS }, (_, i) => base + 1 + i),
  });
  const rng = seededRandom(seed);
  await world.prepare();
  const churner = new Churner(world.ports.web, rng);
  const records: FaultRecord[] = [];
  const checks: { atS: number; ok: boolean; ms?: number; detail?: string }[] = [];
  const rss: { atS: number; pid: number; rssMiB: number }[] = [];
  const started = nowMs();
  const at = () => round((nowMs() - started) / 1000, 1);
  const sampleRss = async () => {
    const pid = world.lbwatch?.pid;
    const bytes = pid ? await rssBytes(pid).catch(() => 0) : 0;
    if (pid && bytes > 0) rss.push({ atS: at(), pid, rssMiB: MiB(bytes) });
  };
  const sampler = setInterval(() => void sampleRss(), 1000);
  await firstBoot(world);
  churner.start();
  await churner.listening();
  const initial = await waitConverged(world, 20_000);
  if (initial.ms === undefined) throw new Error(`never converged after start: ${initial.detail}`);
  await sampleRss();
  const load = startLoad({
    port: world.ports.frontend,
    hostHeader: "web",
    ratePerSec: RATE,
    maxDurationMs: minutes * 60_000 + 60_000,
    timeoutMs: 3000,
  });
  let quietMs = 0;
  const deadline = nowMs() + minutes * 60_000;
  let bag: FaultKind[] = [];
  let traffic: Awaited<ReturnType<typeof load.stop>> | undefined;
  try {
    while (nowMs() < deadline) {
      const quietUntil = nowMs() + 3000 + rng() * 3000;
      while (nowMs() < quietUntil) {
        if (quietMs >= CHECK_EVERY_MS) {
          const c = await waitConverged(world, AIM_MS);
          checks.push({ atS: at(), ok: c.ms !== undefined, ...c });
          if (c.ms === undefined) console.error(`[soak] quiet check at ${at()} s: NOT (${c.detail})`);
          quietMs = 0;
        }
        const t = nowMs();
        await sleep(200);
        quietMs += nowMs() - t;
      }
      // Every kind once per round, in a random order.
      if (bag.length === 0) bag = [...kinds].sort(() => rng() - 0.5);
      const kind = bag.pop() as FaultKind;
      const t0 = nowMs();
      const end = await injectFault(kind, world, rng, base + 20);
      const t1 = nowMs();
      const c = await waitConverged(world, BOUND_MS, end.extra);
      records.push({
        kind,
        atS: round((t0 - started) / 1000, 1),
        durationMs: Math.round(t1 - t0),
        ...(c.ms !== undefined ? { convergeMs: c.ms } : { detail: c.detail }),
        ...(c.haproxyMs !== undefined ? { haproxyMs: c.haproxyMs } : {}),
        ...(end.note ? { note: end.note } : {}),
        ...(isLate(c.haproxyMs, c.ms) ? { failedComparisons: c.reasons, lastFailure: c.detail } : {}),
        window: [t0, t1 + (c.ms ?? BOUND_MS)],
      });
      const late = records.at(-1);
      const why = late?.failedComparisons
        ? ` (failed comparisons: ${JSON.stringify(late.failedComparisons)}; the last: ${late.lastFailure})`
        : "";
      console.error(
        `[soak] ${kind} at ${records.at(-1)?.atS} s: HAProxy converged ${c.haproxyMs ?? "NOT"} ms, dest ${c.ms ?? `NOT (${c.detail})`} ms${why}`,
      );
    }
    const final = await waitConverged(world, 5000);
    checks.push({ atS: at(), ok: final.ms !== undefined, ...final });
    // V8 returns freed pages lazily: RSS once lbwatch had a few quiet seconds.
    await sleep(5000);
    await sampleRss();
  } finally {
    clearInterval(sampler);
    await keepLogs(world);
    traffic = await load.stop();
    await churner.stop();
    await world.stop();
  }
  return report(started, records, checks, rss, traffic, world);
}

function report(
  started: number,
  records: FaultRecord[],
  checks: { ok: boolean }[],
  rss: { atS: number; pid: number; rssMiB: number }[],
  traffic: Awaited<ReturnType<ReturnType<typeof startLoad>["stop"]>>,
  world: SoakWorld,
) {
  const inWindow = (t: number) => records.find((r) => t >= r.window[0] && t <= r.window[1]);
  const faults: Record<string, unknown> = {};
  for (const kind of FAULT_KINDS) {
    const mine = records.filter((r) => r.kind === kind);
    const ms = mine.flatMap((r) => (r.convergeMs === undefined ? [] : [r.convergeMs]));
    const s = summarize(ms);
    const h = summarize(mine.flatMap((r) => (r.haproxyMs === undefined ? [] : [r.haproxyMs])));
    const windowMs = mine.reduce((a, r) => a + (r.window[1] - r.window[0]), 0);
    faults[kind] = {
      injected: mine.length,
      haproxyMs: h && { p50: h.p50, max: h.max },
      convergeMs: s && { p50: s.p50, max: s.max },
      late: mine.filter((r) => isLate(r.haproxyMs, r.convergeMs)).length,
      failedRequests: traffic.failureTimesMs.filter((t) => inWindow(t)?.kind === kind).length,
      sentRequests: Math.round((windowMs / 1000) * RATE),
    };
  }
  type Run = { fromS: number; toS: number; first: number; last: number; max: number; every30s: number[] };
  const byPid = new Map<number, Run>();
  for (const r of rss) {
    const run = byPid.get(r.pid);
    if (!run)
      byPid.set(r.pid, {
        fromS: r.atS,
        toS: r.atS,
        first: r.rssMiB,
        last: r.rssMiB,
        max: r.rssMiB,
        every30s: [r.rssMiB],
      });
    else {
      Object.assign(run, { toS: r.atS, last: r.rssMiB, max: Math.max(run.max, r.rssMiB) });
      // Whether RSS levels off or keeps growing, for a process that lives long enough to tell.
      if (r.atS - run.fromS >= run.every30s.length * 30) run.every30s.push(r.rssMiB);
    }
  }
  return {
    seed,
    minutes,
    seconds: round(rss.at(-1)?.atS ?? 0, 0),
    faults,
    records: records.map(({ window: _, ...r }) => r),
    checks: { total: checks.length, converged: checks.filter((c) => c.ok).length },
    rssMiB: {
      start: rss[0]?.rssMiB,
      end: rss.at(-1)?.rssMiB,
      max: Math.max(...rss.map((r) => r.rssMiB)),
      runs: [...byPid.values()],
    },
    traffic: {
      sent: traffic.sent,
      failed: traffic.failed,
      failures: traffic.failures,
      // Failed requests no fault window explains: seconds since the soak started, and how each failed.
      outsideFaultsAtS: traffic.failureTimesMs
        .filter((t) => !inWindow(t))
        .map((t) => round((t - started) / 1000, 1)),
      outsideFaultsKinds: countBy(
        traffic.failureKinds.filter((_, i) => !inWindow(traffic.failureTimesMs[i] ?? 0)),
      ),
    },
    lbwatchLog: {
      starts: world.lbwatchRuns.length,
      eventsLost: logs(world, "events were lost: rebuilt from a fresh snapshot"),
      retrying: logs(world, "target not applied: retrying with backoff"),
      recovered: logs(world, "target recovered"),
      lbDown: logs(world, "dest written; load balancer not running: waiting for it"),
    },
  };
}

async function main(): Promise<number> {
  await execa("prlimit", ["--pid", String(process.pid), "--nofile=65536:65536"], { reject: false });
  const scratch = await mkdtemp(join(os.tmpdir(), "lbwatch-soak-"));
  const watchdog = setTimeout(
    () => {
      console.error("soak: over its budget: stopping every helper");
      void stopAll().finally(() => process.exit(1));
    },
    (minutes + 3) * 60_000,
  );
  const startedAt = new Date().toISOString();
  const loadAverage1m = round(os.loadavg()[0] ?? 0, 2);
  console.error(`[soak] ${minutes} min, seed ${seed}`);
  try {
    const result = await soak(scratch);
    const file = {
      benchmark: "soak",
      mode: "default",
      startedAt,
      seconds: result.seconds,
      machine: { loadAverage1m, cpus: os.cpus().length },
      result,
    };
    await mkdir(join(BENCH_DIR, "results"), { recursive: true });
    // A run of some kinds only is an investigation: it does not replace the published soak.
    const name = flag("faults") ? `soak-${kinds.join("+")}.json` : "soak.json";
    await writeFile(join(BENCH_DIR, "results", name), `${JSON.stringify(file, null, 2)}\n`);
    console.log(
      JSON.stringify(
        {
          faults: result.faults,
          checks: result.checks,
          rssMiB: { start: result.rssMiB.start, end: result.rssMiB.end },
          lbwatchLog: result.lbwatchLog,
        },
        null,
        1,
      ),
    );
    const late = Object.values(result.faults).reduce<number>((a, f) => a + (f as { late: number }).late, 0);
    return late === 0 && result.checks.converged === result.checks.total ? 0 : 1;
  } finally {
    clearTimeout(watchdog);
    await stopAll();
    await rm(scratch, { recursive: true, force: true });
  }
}

process.on("SIGINT", () => void stopAll().finally(() => process.exit(130)));
process.exitCode = await main();
