/**
 * Issue 2, benchmark 1: several processes open and close listeners as fast as they can; how many
 * events per second reach JS, and from which ring size and producer count the kernel drops some.
 */
import type { BenchContext, Benchmark } from "./lib/bench.js";
import { Child } from "./lib/children.js";
import { benchHelper, sleep } from "./lib/helpers.js";
import { freePortBlock } from "./lib/lb-layout.js";
import { round } from "./lib/percentiles.js";
import { ProbeSession } from "./lib/probe-session.js";

const PORTS_PER_PRODUCER = 20;
const DEFAULT_RING = 4 * 2 ** 20;

interface Cell {
  ringBytes: number;
  producers: number;
  generatedPerSec: number;
  deliveredPerSec: number;
  generated: number;
  delivered: number;
  drops: number;
  /** generated - delivered - drops: 0, or below 0 when another process listened on a port of the block. */
  unaccounted: number;
  /** This process's CPU time (user + system: ring consume, decode, emit) per delivered event. */
  consumerCpuUsPerEvent: number;
}

async function cell(helper: string, ringBytes: number, producers: number, ms: number): Promise<Cell> {
  const base = await freePortBlock(producers * PORTS_PER_PRODUCER);
  const top = base + producers * PORTS_PER_PRODUCER;
  const session = new ProbeSession((ev) => ev.port >= base && ev.port < top, { ringBytes });
  try {
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const storms = Array.from({ length: producers }, (_, i) =>
      Child.start(helper, [
        "storm",
        String(base + i * PORTS_PER_PRODUCER),
        String(PORTS_PER_PRODUCER),
        String(ms),
      ]),
    );
    const cycles = (await Promise.all(storms.map((s) => s.done()))).map((lines) => Number(lines[0]?.text));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    // Let the loop drain what the ring still holds.
    await sleep(300);
    const { user, system } = process.cpuUsage(cpu);
    const generated = cycles.reduce((a, b) => a + b, 0) * 2;
    const drops = session.drops();
    return {
      ringBytes,
      producers,
      generatedPerSec: Math.round(generated / seconds),
      deliveredPerSec: Math.round(session.delivered / seconds),
      generated,
      delivered: session.delivered,
      drops,
      unaccounted: generated - session.delivered - drops,
      consumerCpuUsPerEvent: round((user + system) / Math.max(1, session.delivered), 2),
    };
  } finally {
    session.close();
  }
}

export const probeThroughput: Benchmark = {
  name: "probe-throughput",
  async run(ctx: BenchContext) {
    const helper = await benchHelper();
    const rings = ctx.quick ? [256 * 1024, DEFAULT_RING] : [64 * 1024, 256 * 1024, 1024 * 1024, DEFAULT_RING];
    const producerCounts = ctx.quick ? [2] : [1, 2, 4];
    const ms = ctx.quick ? 1000 : 2000;
    const cells: Cell[] = [];
    for (const ringBytes of rings) {
      for (const producers of producerCounts) {
        const c = await cell(helper, ringBytes, producers, ms);
        ctx.log("probe-throughput", { ...c });
        cells.push(c);
      }
    }
    const atDefault = cells.filter((c) => c.ringBytes === DEFAULT_RING);
    const best = atDefault.reduce((a, b) => (b.deliveredPerSec > a.deliveredPerSec ? b : a));
    const firstDrop = cells.find((c) => c.drops > 0);
    return {
      secondsPerCell: ms / 1000,
      defaultRingBytes: DEFAULT_RING,
      cells,
      maxDeliveredPerSecAtDefaultRing: best.deliveredPerSec,
      dropsAtDefaultRing: atDefault.reduce((a, c) => a + c.drops, 0),
      dropFraction: round(
        cells.reduce((a, c) => a + c.drops, 0) /
          Math.max(
            1,
            cells.reduce((a, c) => a + c.generated, 0),
          ),
        6,
      ),
      firstDrop: firstDrop ? { ringBytes: firstDrop.ringBytes, producers: firstDrop.producers } : null,
    };
  },
};
