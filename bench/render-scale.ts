/**
 * Issue 3: render + diff + write time and RSS with 1,000 / 10,000 / 100,000 backends, each size in a
 * fresh process (bench/render-scale-worker.ts) so its RSS is its own.
 */
import { join } from "node:path";
import type { BenchContext, Benchmark } from "./lib/bench.js";
import { Child } from "./lib/children.js";
import { BENCH_DIR } from "./lib/helpers.js";

export const renderScale: Benchmark = {
  name: "render-scale",
  async run(ctx: BenchContext) {
    const sizes: Array<[number, number]> = ctx.quick
      ? [
          [1000, 20],
          [10_000, 10],
          [100_000, 4],
        ]
      : [
          [1000, 50],
          [10_000, 30],
          [100_000, 10],
        ];
    const rows: Record<string, unknown>[] = [];
    for (const [backends, changes] of sizes) {
      const worker = Child.start(process.execPath, [
        "--expose-gc",
        "--import",
        "tsx",
        join(BENCH_DIR, "render-scale-worker.ts"),
        String(backends),
        ctx.scratch,
        String(changes),
      ]);
      const lines = await worker.done();
      const row = lines.find((l) => l.backends === backends);
      if (!row)
        throw new Error(`render-scale worker for ${backends} printed no result: ${worker.stderrTail}`);
      ctx.log("render-scale", row);
      rows.push(row);
    }
    return { unit: "ms, MiB", template: "one server line per backend", rows };
  },
};
