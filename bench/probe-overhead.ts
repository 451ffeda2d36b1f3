/**
 * Issue 2, benchmark 3: does the attached probe slow unrelated TCP traffic? A loopback
 * connect/accept/close loop runs in alternating rounds with the probe attached and detached, in the
 * same run, so drift of the machine hits both sides alike.
 */
import type { BenchContext, Benchmark } from "./lib/bench.js";
import { Child } from "./lib/children.js";
import { benchHelper } from "./lib/helpers.js";
import { round } from "./lib/percentiles.js";
import { ProbeSession } from "./lib/probe-session.js";

async function round1(helper: string, ms: number): Promise<number> {
  const lines = await Child.start(helper, ["connloop", String(ms)]).done();
  return (Number(lines[0]?.text) * 1000) / ms;
}

/** Median, not mean: a round that shares the CPUs with another process's burst is an outlier. */
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? (s[(s.length - 1) / 2] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

export const probeOverhead: Benchmark = {
  name: "probe-overhead",
  async run(ctx: BenchContext) {
    const helper = await benchHelper();
    const pairs = ctx.quick ? 6 : 15;
    const ms = ctx.quick ? 600 : 800;
    const attached: number[] = [];
    const detached: number[] = [];
    for (let i = 0; i < pairs; i++) {
      // Alternate which side goes first so a warming or cooling machine favours neither.
      for (const side of i % 2 === 0 ? ["detached", "attached"] : ["attached", "detached"]) {
        if (side === "detached") {
          detached.push(await round1(helper, ms));
          continue;
        }
        const session = new ProbeSession(() => false);
        try {
          attached.push(await round1(helper, ms));
        } finally {
          session.close();
        }
      }
    }
    const a = median(attached);
    const d = median(detached);
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
    };
  },
};
