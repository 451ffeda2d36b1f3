import { describe, expect, it } from "vitest";
import { Backoff } from "../../src/etcd/backoff.js";

describe("Backoff", () => {
  it("doubles up to its cap, each delay between half and all of it, and starts over on reset", () => {
    const low = new Backoff({ firstMs: 100, maxMs: 1000, random: () => 0 });
    const high = new Backoff({ firstMs: 100, maxMs: 1000, random: () => 1 });
    const run = (b: Backoff) => Array.from({ length: 6 }, () => b.next());
    expect(run(low)).toEqual([50, 100, 200, 400, 500, 500]);
    expect(run(high)).toEqual([100, 200, 400, 800, 1000, 1000]);
    high.reset();
    expect([high.failures, high.next()]).toEqual([0, 100]);
  });
});
