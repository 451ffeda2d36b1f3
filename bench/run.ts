/**
 * `make bench` / `make bench-quick` / `make bench-full`: runs every benchmark in turn, writes
 * bench/results/<name>.json, the SVG plots and bench/results/summary.md (the README tables).
 * Bounded: a watchdog stops everything past 10 minutes (6 in --quick, 40 in --full, which adds the
 * 100,000-backend sizes). `--only=a,b` runs a subset of benchmarks, `--contenders=a,b` a subset of
 * the load-balancer contenders, `--scenarios=a,b` of lb-contenders' scenarios; `--report` only
 * redraws the plots and summary.md from the result files.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { burst } from "./burst.js";
import { cluster } from "./cluster.js";
import { coldStart } from "./cold-start.js";
import { idleCpu } from "./idle-cpu.js";
import { lbContenders } from "./lb-contenders.js";
import type { BenchContext, Benchmark, ResultFile } from "./lib/bench.js";
import { stopAll } from "./lib/children.js";
import { writeFigures } from "./lib/figures.js";
import { BENCH_DIR } from "./lib/helpers.js";
import type { Mode } from "./lib/scenarios.js";
import { writeSummary } from "./lib/summary.js";
import { probeLatency } from "./probe-latency.js";
import { probeOverhead } from "./probe-overhead.js";
import { probeThroughput } from "./probe-throughput.js";
import { ready } from "./ready.js";
import { renderScale } from "./render-scale.js";
import { statusScrape } from "./status-scrape.js";

const ALL: Benchmark[] = [
  probeThroughput,
  probeLatency,
  probeOverhead,
  idleCpu,
  renderScale,
  statusScrape,
  burst,
  lbContenders,
  coldStart,
  cluster,
  ready,
];
/**
 * Not in the default run, to keep `make bench` within 10 minutes: run them with --only or --full.
 * status-scrape measures the HTTP endpoint against 100,000 backends (issue 11).
 */
const FULL_ONLY = new Set(["status-scrape"]);
/** --full writes apart (bench/results/full/), so a full run never mixes with the default one. */
const resultsDir = (mode: Mode) => join(BENCH_DIR, "results", ...(mode === "full" ? ["full"] : []));
/** Results other programs write beside the benchmarks' (bench/soak.ts). */
const EXTRA_RESULTS = ["soak"];

async function machine(): Promise<Record<string, string | number>> {
  const haproxy = await execa("haproxy", ["-v"], { reject: false });
  return {
    kernel: os.release(),
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "",
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    haproxy: haproxy.stdout.split("\n")[0] ?? "",
  };
}

/** Plots and summary.md from the result files on disk. */
async function report(dir: string): Promise<void> {
  const results = await loadResults(dir);
  await writeFigures(dir, results);
  console.log(await writeSummary(dir, results));
}

async function main(argv: string[]): Promise<number> {
  const mode: Mode = argv.includes("--quick") ? "quick" : argv.includes("--full") ? "full" : "default";
  const RESULTS = resultsDir(mode);
  if (argv.includes("--report")) {
    await report(RESULTS);
    return 0;
  }
  const quick = mode === "quick";
  const list = (flag: string) =>
    argv
      .find((a) => a.startsWith(`${flag}=`))
      ?.slice(flag.length + 1)
      .split(",");
  const only = list("--only");
  const contenders = list("--contenders");
  const scenarioNames = list("--scenarios");
  const unknown = only?.filter((n) => !ALL.some((b) => b.name === n)) ?? [];
  if (unknown.length > 0) {
    console.error(
      `bench: unknown benchmark ${unknown.join(", ")}; known: ${ALL.map((b) => b.name).join(", ")}`,
    );
    return 2;
  }
  // 10,000 idle listeners and HAProxy checking them need more descriptors than a default shell allows.
  await execa("prlimit", ["--pid", String(process.pid), "--nofile=65536:65536"], { reject: false });
  const budgetMs = { quick: 6, default: 10, full: 40 }[mode] * 60_000;
  const watchdog = setTimeout(() => {
    console.error(`bench: over the ${budgetMs / 60_000} min budget: stopping every helper`);
    void stopAll().finally(() => process.exit(1));
  }, budgetMs);
  const scratch = await mkdtemp(join(os.tmpdir(), "lbwatch-bench-"));
  await mkdir(RESULTS, { recursive: true });
  const ctx: BenchContext = {
    quick,
    mode,
    ...(contenders ? { contenders } : {}),
    ...(scenarioNames ? { scenarios: scenarioNames } : {}),
    scratch,
    log: (message, fields) =>
      console.error(`[bench] ${message}${fields ? ` ${JSON.stringify(fields)}` : ""}`),
  };
  const about = await machine();
  let failed = 0;
  try {
    const chosen = (b: Benchmark) =>
      only ? only.includes(b.name) : mode === "full" || !FULL_ONLY.has(b.name);
    for (const bench of ALL.filter(chosen)) {
      const started = Date.now();
      ctx.log(`${bench.name}: start`);
      const file: ResultFile = {
        benchmark: bench.name,
        mode,
        startedAt: new Date(started).toISOString(),
        seconds: 0,
        machine: { ...about, loadAverage1m: Math.round((os.loadavg()[0] ?? 0) * 100) / 100 },
      };
      try {
        file.result = await bench.run(ctx);
      } catch (err) {
        failed++;
        file.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
        ctx.log(`${bench.name}: FAILED`, { error: file.error });
      } finally {
        await stopAll();
      }
      file.seconds = Math.round((Date.now() - started) / 100) / 10;
      await writeFile(join(RESULTS, `${bench.name}.json`), `${JSON.stringify(file, null, 2)}\n`);
      ctx.log(`${bench.name}: done in ${file.seconds} s`);
    }
    await report(RESULTS);
  } finally {
    clearTimeout(watchdog);
    await stopAll();
    await rm(scratch, { recursive: true, force: true });
  }
  return failed === 0 ? 0 : 1;
}

async function loadResults(dir: string): Promise<Map<string, ResultFile>> {
  const results = new Map<string, ResultFile>();
  for (const name of [...ALL.map((b) => b.name), ...EXTRA_RESULTS]) {
    const text = await readFile(join(dir, `${name}.json`), "utf8").catch(() => undefined);
    if (text) results.set(name, JSON.parse(text) as ResultFile);
  }
  return results;
}

process.on("SIGINT", () => void stopAll().finally(() => process.exit(130)));
process.exitCode = await main(process.argv.slice(2));
