/**
 * Issue 2, benchmark 2: from listen() returning (CLOCK_MONOTONIC read by the listening process) to the
 * JS 'event' callback (process.hrtime, checked below to be the same clock), plus the kernel timestamp
 * of the event on that clock. The listens are spaced out: this is latency, not throughput. The
 * run-queue wait of the JS thread is reported alongside, to tell the machine's load from our path.
 */
import { readFile } from "node:fs/promises";
import type { BenchContext, Benchmark } from "./lib/bench.js";
import { Child } from "./lib/children.js";
import { benchHelper, sleep } from "./lib/helpers.js";
import { freePortBlock } from "./lib/lb-layout.js";
import { round, type Summary, summarize } from "./lib/percentiles.js";
import { ProbeSession } from "./lib/probe-session.js";

/**
 * libuv's hrtime is clock_gettime(CLOCK_MONOTONIC) on Linux: a C program's reading taken between two
 * Node readings must fall between them. Returns the bracket width in µs (how far apart they were).
 */
export async function checkHrtimeIsMonotonic(helper: string): Promise<number> {
  const before = process.hrtime.bigint();
  const lines = await Child.start(helper, ["now"]).done();
  const after = process.hrtime.bigint();
  const theirs = BigInt(String(lines[0]?.text));
  if (theirs < before || theirs > after) {
    throw new Error(`process.hrtime is not CLOCK_MONOTONIC here: ${before} <= ${theirs} <= ${after} fails`);
  }
  return Number(after - before) / 1e3;
}

/** The main (JS) thread's time spent runnable but waiting for a CPU, and its runs, from /proc/self/schedstat. */
async function runQueue(): Promise<{ waitNs: number; runs: number }> {
  const [, waitNs, runs] = (await readFile("/proc/self/schedstat", "utf8")).trim().split(" ").map(Number);
  return { waitNs: waitNs ?? 0, runs: runs ?? 0 };
}

/** First trials left out of the percentiles (reported on their own): they also time the helper's start. */
const WARMUP = 5;

const us = (s: Summary | undefined) =>
  s && { n: s.n, p50: round(s.p50), p90: round(s.p90), p99: round(s.p99), max: round(s.max) };

export const probeLatency: Benchmark = {
  name: "probe-latency",
  async run(ctx: BenchContext) {
    const helper = await benchHelper();
    const bracketUs = await checkHrtimeIsMonotonic(helper);
    const port = await freePortBlock(2);
    // p99 needs a few hundred samples: of 100, it is the second worst.
    const trials = WARMUP + (ctx.quick ? 300 : 1000);
    const received: Array<{ ts: bigint; recv: bigint }> = [];
    const session = new ProbeSession(
      (ev) => ev.port === port && ev.type === "listen",
      {},
      (ev) => received.push({ ts: ev.ts, recv: process.hrtime.bigint() }),
    );
    let stamps: bigint[];
    let queued = { waitNs: 0, runs: 0 };
    try {
      // lbwatch is a daemon: measure its steady state, after V8 has optimized the event path (it does
      // so after some hundred events, and compiling then costs the loop a few ms once).
      await Child.start(helper, ["storm", String(port + 1), "1", "300"]).done();
      await sleep(300);
      queued = await runQueue();
      const lines = await Child.start(helper, ["stamps", String(port), String(trials), "2000"]).done();
      stamps = lines.map((l) => BigInt(String(l.text)));
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      session.close();
    }
    const after = await runQueue();
    if (received.length !== stamps.length) {
      throw new Error(
        `${stamps.length} listens made but ${received.length} listen events received on port ${port}`,
      );
    }
    const toUs = (ns: bigint) => Number(ns) / 1e3;
    const listenToJsAll = received.map((r, i) => toUs(r.recv - (stamps[i] as bigint)));
    // Steady state: the first listens also time this process's first runs of the event path.
    const listenToJs = listenToJsAll.slice(WARMUP);
    const kernelToJs = received.slice(WARMUP).map((r) => toUs(r.recv - r.ts));
    const kernelToReturn = received.slice(WARMUP).map((r, i) => toUs((stamps[i + WARMUP] as bigint) - r.ts));
    return {
      trials,
      unit: "µs",
      clockCheck: { hrtimeIsClockMonotonic: true, bracketUs: round(bracketUs) },
      warmupListenReturnToJs: listenToJsAll.slice(0, WARMUP).map((v) => round(v)),
      listenReturnToJs: us(summarize(listenToJs)),
      kernelEventToJs: us(summarize(kernelToJs)),
      kernelEventToListenReturn: us(summarize(kernelToReturn)),
      drops: session.drops(),
      /**
       * How long, on average, the JS thread waited for a CPU each time it became runnable: the share
       * of the latency that is the machine's load rather than lbwatch's path.
       */
      runQueueWaitPerWakeupUs: round(
        (after.waitNs - queued.waitNs) / Math.max(1, after.runs - queued.runs) / 1e3,
      ),
    };
  },
};
