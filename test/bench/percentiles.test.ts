import { describe, expect, it } from "vitest";
import { percentile, round, summarize } from "../../bench/lib/percentiles.js";

describe("percentile", () => {
  it("returns the nearest-rank sample, so every reported value was measured", () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect([0, 10, 50, 51, 90, 99, 100].map((p) => percentile(sorted, p))).toEqual([1, 1, 5, 6, 9, 10, 10]);
  });

  it("makes p99 of 50 samples the maximum", () => {
    const sorted = Array.from({ length: 50 }, (_, i) => i + 1);
    expect(percentile(sorted, 99)).toBe(50);
  });

  it("refuses an empty sample and a percentile outside 0..100", () => {
    expect(() => percentile([], 50)).toThrow(new RangeError("percentile of an empty sample"));
    expect(() => percentile([1], 101)).toThrow(new RangeError("percentile 101 is outside 0..100"));
  });
});

describe("summarize", () => {
  it("sorts a copy and reports the order statistics and mean", () => {
    const values = [30, 10, 20, 40];
    expect(summarize(values)).toEqual({ n: 4, min: 10, p50: 20, p90: 40, p99: 40, max: 40, mean: 25 });
    expect(values).toEqual([30, 10, 20, 40]);
  });

  it("returns undefined for no samples rather than a made-up figure", () => {
    expect(summarize([])).toBeUndefined();
  });
});

describe("round", () => {
  it("keeps the given number of decimals", () => {
    expect([round(1.23456), round(1.23456, 1), round(-0.0004)]).toEqual([1.235, 1.2, -0]);
  });
});
