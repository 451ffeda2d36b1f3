/**
 * Issue 2, benchmark 2: from listen() returning (CLOCK_MONOTONIC read by the listening process) to the
 * JS 'event' callback (process.hrtime, checked below to be the same clock), plus the kernel timestamp
 * of the event on that clock. The listens are spaced out: this is latency, not throughput.
 */
import { readFile } from "node:fs/promises";
import type { BenchContext, Benchmark } from "./lib/bench.js";
import { Child } from "./lib/children.js";
import { benchHelper } from "./lib/helpers.js";
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

const us = (s: Summary | undefined) =>
  s && { n: s.n, p50: round(s.p50), p90: round(s.p90), p99: round(s.p99), max: round(s.max) };

export const probeLatency: Benchmark = {
  name: "probe-latency",
  async run(ctx: BenchContext) {
    const helper = await benchHelper();
    const bracketUs = await checkHrtimeIsMonotonic(helper);
    const port = await freePortBlock(1);
    // p99 needs a few hundred samples: of 100, it is the second worst.
    const trials = ctx.quick ? 300 : 1000;
    const received: Array<{ ts: bigint; recv: bigint }> = [];
    const session = new ProbeSession(
      (ev) => ev.port === port && ev.type === "listen",
      {},
      (ev) => received.push({ ts: ev.ts, recv: process.hrtime.bigint() }),
    );
    let stamps: bigint[];
    const queued = await runQueue();
    try {
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
    const listenToJs = received.map((r, i) => toUs(r.recv - (stamps[i] as bigint)));
    const kernelToJs = received.map((r) => toUs(r.recv - r.ts));
    const kernelToReturn = received.map((r, i) => toUs((stamps[i] as bigint) - r.ts));
    return {
      trials,
      unit: "µs",
      clockCheck: { hrtimeIsClockMonotonic: true, bracketUs: round(bracketUs) },
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
