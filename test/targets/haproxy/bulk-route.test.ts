import { describe, expect, it } from "vitest";
import { backendsForReload, liveAddNs, reloadNs } from "../../../src/targets/haproxy/bulk-route.js";

describe("backendsForReload", () => {
  it("reloads for 10,000 servers into one empty backend, whose live adds are quadratic", () => {
    expect(liveAddNs(10_000, 0) / 1e9).toBeGreaterThan(2);
    expect(reloadNs(10_000) / 1e9).toBeLessThan(0.5);
    expect(backendsForReload([{ backend: "be_web", adds: 10_000, existing: 0 }], 10_000)).toEqual(
      new Set(["be_web"]),
    );
  });

  it("adds live what spreads over backends of 1,000, and anything small, even into a large backend", () => {
    const spread = Array.from({ length: 10 }, (_, i) => ({ backend: `be_${i}`, adds: 1000, existing: 0 }));
    expect(backendsForReload(spread, 10_000)).toEqual(new Set());
    expect(backendsForReload([{ backend: "be_web", adds: 200, existing: 50_000 }], 50_200)).toEqual(
      new Set(),
    );
  });

  it("leaves the small backends of a large change to the live route", () => {
    const loads = [
      { backend: "be_big", adds: 20_000, existing: 0 },
      { backend: "be_small", adds: 10, existing: 5 },
    ];
    expect(backendsForReload(loads, 20_015)).toEqual(new Set(["be_big"]));
  });

  it("does not reload a large config for a change the live route takes in comparable time", () => {
    expect(backendsForReload([{ backend: "be_web", adds: 2000, existing: 0 }], 100_000)).toEqual(new Set());
  });
});
