/**
 * Issue 11: what scraping /metrics and /status costs a live change, with 100,000 backends, in a
 * fresh process (bench/status-scrape-worker.ts): the delay before the event loop picks up a change
 * and the time until it is applied: with nothing scraping, while a scraper fetches /metrics back to
 * back, and while it fetches /metrics and /status back to back.
 */
import { join } from "node:path";
import type { BenchContext, Benchmark } from "./lib/bench.js";
import { Child } from "./lib/children.js";
import { BENCH_DIR } from "./lib/helpers.js";

export const statusScrape: Benchmark = {
  name: "status-scrape",
  async run(ctx: BenchContext) {
    const [backends, changes, pickupTicks] = ctx.quick ? [100_000, 20, 200] : [100_000, 60, 500];
    const worker = Child.start(process.execPath, [
      "--import",
      "tsx",
      join(BENCH_DIR, "status-scrape-worker.ts"),
      String(backends),
      ctx.scratch,
      String(changes),
      String(pickupTicks),
    ]);
    const lines = await worker.done();
    const result = lines.find((l) => l.backends === backends);
    if (!result) throw new Error(`status-scrape worker printed no result: ${worker.stderrTail}`);
    ctx.log("status-scrape", result);
    return { unit: "ms", ...result };
  },
};
