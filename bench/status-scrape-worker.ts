/**
 * The status-scrape benchmark in its own process:
 *   node --import tsx bench/status-scrape-worker.ts <backends> <scratch dir> <changes> <pickup ticks>
 * A controller holds <backends> backends of service "bulk" from a fake source and serves its
 * endpoint as `lbwatch run` does (ServedEndpoint). A ticker process sends a timestamp every 20 ms
 * on a pipe; each one becomes a live change to service "web" (a listen or a close) with that
 * timestamp as its event time. Measured for <changes> changes, first with nothing scraping, then
 * while a scraper process fetches /metrics and /status back to back:
 * - pickup: the timestamp → the worker's handler reading it (how long the event loop held it);
 * - routable: the timestamp → the target's apply of that change done (lbwatch_event_to_routable).
 * Prints one JSON line.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { execa } from "execa";
import pino from "pino";
import { Controller } from "../src/controller/controller.js";
import type { Observer } from "../src/controller/observer.js";
import { ServedEndpoint } from "../src/http/endpoint.js";
import type { Metrics } from "../src/metrics/metrics.js";
import type { ApplyRecord } from "../src/targets/target.js";
import { claimAt, FakeSource } from "../test/controller/fake-source.js";
import { freePort } from "../test/helpers/endpoint.js";
import { BENCH_DIR } from "./lib/helpers.js";
import { round, summarize } from "./lib/percentiles.js";

const [count, dir, changes] = [Number(process.argv[2]), String(process.argv[3]), Number(process.argv[4])];
/** Pickup: ticks that change nothing, so only what else holds the event loop delays them. */
const PICKUP_TICKS = Number(process.argv[5]);
const PICKUP_TICK_MS = 10;
/** Changes far enough apart that each is applied before the next (the file target is O(backends)). */
const CHANGE_TICK_MS = 200;
const WEB_PORTS = 50;

const port = await freePort();
await writeFile(join(dir, "web.hbs"), "{{#each services.web.backends}}server {{id}} {{endpoint}}\n{{/each}}");
await writeFile(
  join(dir, "status-scrape.yaml"),
  [
    "wait: { min: 1ms, max: 1ms }",
    "resync: 0",
    "services:",
    "  web: { ports: [8000-8099], uid: [0] }",
    "  bulk: { ports: [9000], uid: [0] }",
    "targets:",
    "  - template: web.hbs",
    "    dest: web.cfg",
    `http: { listen: "127.0.0.1:${port}" }`,
    "",
  ].join("\n"),
);

/** Backend i of "bulk": a distinct loopback address on port 9000. */
const bulk = (i: number) =>
  claimAt(9000, {
    key: `bulk-${i}`,
    service: "bulk",
    address: `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${(i & 255) + 1}`,
    pid: 100_000 + i,
  });
const source = new FakeSource(Array.from({ length: count }, (_, i) => bulk(i)));

// The endpoint makes the metrics when it binds (before the controller starts).
let metrics: Metrics | undefined;
let onApplied = (_record: ApplyRecord) => {};
const observer: Observer = {
  kernelEvent: (type) => metrics?.observer.kernelEvent(type),
  eventsLost: (reason, n) => metrics?.observer.eventsLost(reason, n),
  resynced: (s, reason, wrong) => metrics?.observer.resynced(s, reason, wrong),
  configReloaded: (ok) => metrics?.observer.configReloaded(ok),
  templateError: (t) => metrics?.observer.templateError(t),
  applied: (record) => {
    metrics?.observer.applied(record);
    onApplied(record);
  },
};
const log = pino({ level: "warn" });
const controller = await Controller.load({
  configFile: join(dir, "status-scrape.yaml"),
  log,
  observer,
  sources: () => [source],
});
const endpoint = new ServedEndpoint(controller, log, (m) => {
  metrics = m;
});
await endpoint.start();
if (!metrics) throw new Error("status-scrape.yaml has no http.listen");
const served: Metrics = metrics;
await controller.start();
await until(() => controller.status().targets.every((t) => t.state === "ok" && !t.pending));

async function until(what: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`not settled within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Web ports listening now, and the next to change: across phases, so each tick is a change. */
const up = new Set<number>();
let k = 0;

/**
 * One phase: a ticker timestamp every `tickMs`, `ticks` times. With `apply`, each becomes a live
 * change (a listen or a close on service "web") with that timestamp as its event time.
 */
async function phase(
  ticks: number,
  tickMs: number,
  apply: boolean,
): Promise<{ pickupMs: number[]; routableMs: number[]; gcMs: number[] }> {
  const pickupMs: number[] = [];
  const routableMs: number[] = [];
  const gcMs: number[] = [];
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs.push(entry.duration);
  });
  gc.observe({ entryTypes: ["gc"] });
  onApplied = (record) => {
    for (const l of record.latencies) routableMs.push(l.seconds * 1000);
  };
  const ticker = execa(
    process.execPath,
    [join(BENCH_DIR, "helpers/ticker.mjs"), String(tickMs), String(ticks)],
    {
      buffer: false,
      reject: false,
    },
  );
  createInterface({ input: ticker.stdout }).on("line", (line) => {
    const ts = BigInt(line);
    pickupMs.push(Number(process.hrtime.bigint() - ts) / 1e6);
    if (!apply) return;
    const webPort = 8000 + (k++ % WEB_PORTS);
    if (up.delete(webPort)) source.sink?.update([], [String(webPort)], ts);
    else {
      up.add(webPort);
      source.sink?.update([claimAt(webPort)], [], ts);
    }
  });
  await ticker;
  await until(() => controller.status().targets.every((t) => !t.pending));
  gc.disconnect();
  return { pickupMs, routableMs, gcMs };
}

const figures = (ms: number[]) => {
  const s = summarize(ms);
  return s ? { n: s.n, p50: round(s.p50), p99: round(s.p99), max: round(s.max) } : undefined;
};

/** The in-process cost of building /metrics' text: what a scrape takes from the event loop at once. */
const metricsTextMs: number[] = [];
for (let i = 0; i < 5; i++) await served.text();
for (let i = 0; i < 50; i++) {
  const started = performance.now();
  await served.text();
  metricsTextMs.push(performance.now() - started);
}

/** Both phases, first with nothing scraping, then while the scraper runs. */
async function phases(): Promise<Record<string, unknown>> {
  const pickup = await phase(PICKUP_TICKS, PICKUP_TICK_MS, false);
  const routable = await phase(changes, CHANGE_TICK_MS, true);
  return {
    pickupMs: figures(pickup.pickupMs),
    gcPauseMs: figures(pickup.gcMs),
    routableMs: figures(routable.routableMs),
  };
}

/** The phases again while a scraper fetches /metrics (and /status) back to back. */
async function whileScraping(mode: "metrics" | "status"): Promise<Record<string, unknown>> {
  const scraper = execa(process.execPath, [join(BENCH_DIR, "helpers/scraper.mjs"), String(port), mode], {
    buffer: false,
    reject: false,
  });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: scraper.stdout }).on("line", (line) => lines.push(JSON.parse(line)));
  while (lines.length === 0) await new Promise((r) => setTimeout(r, 20));
  const measured = await phases();
  scraper.kill("SIGTERM");
  await scraper;
  const scraped = lines.at(-1) as { metrics: number[]; status: number[]; statusBytes: number };
  return {
    ...measured,
    metricsScrapeMs: figures(scraped.metrics),
    ...(mode === "status"
      ? { statusScrapeMs: figures(scraped.status), statusMiB: round(scraped.statusBytes / 2 ** 20, 1) }
      : {}),
  };
}

const idle = await phases();
const scrapingMetrics = await whileScraping("metrics");
const scrapingBoth = await whileScraping("status");

await controller.close();
await endpoint.close();
console.log(
  JSON.stringify({
    backends: count,
    changes,
    metricsTextMs: figures(metricsTextMs),
    idle,
    scrapingMetrics,
    scrapingMetricsAndStatus: scrapingBoth,
  }),
);
