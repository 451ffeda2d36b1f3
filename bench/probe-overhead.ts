/**
 * Issue 2, benchmark 3: does the attached probe slow unrelated TCP traffic? A loopback
 * connect/accept/close loop runs in alternating rounds with the probe attached and detached, in the
 * same run, so drift of the machine hits both sides alike; each attached round is compared with the
 * detached round next to it. On a shared machine the rounds spread by more than the probe costs, so
 * one more attached round reads the kernel's own accounting of the BPF program (bpf_stats): calls
 * per connection × ns per call, against the time one connection takes, a figure load cannot blur.
 */
import type { BenchContext, Benchmark } from "./lib/bench.js";
import { measureRuns, progIds } from "./lib/bpf-stats.js";
import { Child } from "./lib/children.js";
import { benchHelper, sleep } from "./lib/helpers.js";
import { round } from "./lib/percentiles.js";
import { ProbeSession } from "./lib/probe-session.js";

async function connections(helper: string, ms: number): Promise<number> {
  const lines = await Child.start(helper, ["connloop", String(ms)]).done();
  return Number(lines[0]?.text);
}

const perSec = (conns: number, ms: number) => (conns * 1000) / ms;

/** Median, not mean: a round that shares the CPUs with another process's burst is an outlier. */
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? (s[(s.length - 1) / 2] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

/** One attached round with bpf_stats on: what the program costs each connection, in the kernel. */
async function kernelCost(helper: string, ms: number, detachedPerSec: number) {
  const before = await progIds();
  const session = new ProbeSession((ev) => ev.comm.startsWith("bench-helper"));
  let conns = 0;
  try {
    const runs = await measureRuns("lbwatch_tp_btf", before, async () => {
      conns = await connections(helper, ms);
    });
    await sleep(100);
    const nsPerConnection = runs.ns / conns;
    return {
      connections: conns,
      callsPerConnection: round(runs.runs / conns, 2),
      nsPerCall: round(runs.ns / runs.runs, 1),
      nsPerConnection: round(nsPerConnection, 1),
      /** The program's time over a detached connection's time (1e9 / conn/s ns): its share of the loop. */
      percentOfDetachedConnection: round((nsPerConnection * detachedPerSec) / 1e7, 2),
      /** The loop's events that reached JS: its server's listen and close; more if connections passed the filter. */
      eventsFromTheLoop: session.delivered,
    };
  } finally {
    session.close();
  }
}

export const probeOverhead: Benchmark = {
  name: "probe-overhead",
  async run(ctx: BenchContext) {
    const helper = await benchHelper();
    const pairs = ctx.quick ? 10 : 20;
    const ms = ctx.quick ? 500 : 800;
    const attached: number[] = [];
    const detached: number[] = [];
    const pairSlowdowns: number[] = [];
    for (let i = 0; i < pairs; i++) {
      const pair: Record<string, number> = {};
      // Alternate which side goes first so a warming or cooling machine favours neither.
      for (const side of i % 2 === 0 ? ["detached", "attached"] : ["attached", "detached"]) {
        if (side === "detached") {
          pair.detached = perSec(await connections(helper, ms), ms);
          continue;
        }
        const session = new ProbeSession(() => false);
        try {
          pair.attached = perSec(await connections(helper, ms), ms);
        } finally {
          session.close();
        }
      }
      attached.push(pair.attached as number);
      detached.push(pair.detached as number);
      pairSlowdowns.push((1 - (pair.attached as number) / (pair.detached as number)) * 100);
    }
    const a = median(attached);
    const d = median(detached);
    const sortedPairs = [...pairSlowdowns].sort((x, y) => x - y);
    const quartile = (q: number) => sortedPairs[Math.floor(q * (sortedPairs.length - 1))] as number;
    return {
      rounds: pairs,
      secondsPerRound: ms / 1000,
      connPerSecAttached: attached.map(Math.round),
      connPerSecDetached: detached.map(Math.round),
      medianAttached: Math.round(a),
      medianDetached: Math.round(d),
      slowdownPercent: round(((d - a) / d) * 100, 2),
      /** Spread (max - min) of the detached rounds over their median: a slowdown well inside it is noise. */
      detachedSpreadPercent: round(((Math.max(...detached) - Math.min(...detached)) / d) * 100, 2),
      /** Slowdown of each attached round against its neighbouring detached round: median and quartiles. */
      pairSlowdownPercent: {
        median: round(median(pairSlowdowns), 2),
        q1: round(quartile(0.25), 2),
        q3: round(quartile(0.75), 2),
      },
      kernel: await kernelCost(helper, ms, d),
    };
  },
};
