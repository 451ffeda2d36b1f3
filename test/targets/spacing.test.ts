import { describe, expect, it } from "vitest";
import { Spacing } from "../../src/targets/spacing.js";

describe("Spacing", () => {
  it("lets the first run go at once, then keeps each run to 1/ratio of the time", () => {
    const spacing = new Spacing(10);
    expect(spacing.delay(1000)).toBe(0);
    spacing.record(1000, 1300);
    expect([spacing.delay(1300), spacing.delay(2000), spacing.delay(4000)]).toEqual([2700, 2000, 0]);
  });

  it("never holds the next run back longer than maxDelayMs after the last ended", () => {
    const spacing = new Spacing(20, 2000);
    spacing.record(0, 3000);
    expect([spacing.delay(3000), spacing.delay(4500), spacing.delay(5000)]).toEqual([2000, 500, 0]);
  });
});
