/**
 * Issues 3 and 13: what one change costs with 1,000 / 10,000 / 100,000 backends held, through the
 * live lane (a real HaproxyTarget against a real HAProxy) and the file lane behind it, and the
 * memory that holding them takes. Each size runs in a fresh process (bench/render-scale-worker.ts,
 * compiled to build/bench-js and run by plain node, not tsx) so its memory is its own.
 */
import { mkdir, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import type { BenchContext, Benchmark } from "./lib/bench.js";
import { Child } from "./lib/children.js";
import { BENCH_DIR, lbwatchNodeFlags, REPO_DIR } from "./lib/helpers.js";
import { TEMPLATE } from "./lib/lb-config.js";

const COMPILED = join(REPO_DIR, "build", "bench-js");
const WORKER = join(COMPILED, "bench", "render-scale-worker.js");

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
          // Like the other 100,000 sizes, only in --full (~30 s more); the 100 changes of issue 13's memory aim.
          ...(ctx.mode === "full" ? ([[100_000, 100]] as Array<[number, number]>) : []),
        ];
    await execa("npx", ["tsc", "-p", join(BENCH_DIR, "tsconfig.build.json")], { cwd: REPO_DIR });
    // The compiled src/probe/native.js looks for the addon two levels up, as from dist/: there.
    await rm(join(COMPILED, "native"), { recursive: true, force: true });
    await symlink(join(REPO_DIR, "native"), join(COMPILED, "native"));
    const rows: Record<string, unknown>[] = [];
    for (const [backends, changes] of sizes) {
      const dir = join(ctx.scratch, `render-scale-${backends}`);
      await mkdir(dir, { recursive: true });
      const worker = Child.start(process.execPath, [
        "--expose-gc",
        ...lbwatchNodeFlags(),
        WORKER,
        String(backends),
        dir,
        String(changes),
        TEMPLATE,
      ]);
      const lines = await worker.done();
      const row = lines.find((l) => l.backends === backends);
      if (!row)
        throw new Error(`render-scale worker for ${backends} printed no result: ${worker.stderrTail}`);
      ctx.log("render-scale", { backends, live: row.live });
      rows.push(row);
    }
    return {
      unit: "ms, µs where named, MiB, bytes per backend",
      template: "templates/haproxy.cfg.hbs, backends spread over services of at most 1,000",
      runtime: `node ${process.version} --expose-gc ${lbwatchNodeFlags().join(" ")} on the compiled build (no tsx)`,
      rows,
    };
  },
};
