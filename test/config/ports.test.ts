import { describe, expect, it } from "vitest";
import { parsePortSpec, portInRanges } from "../../src/config/ports.js";

describe("parsePortSpec", () => {
  it.each([
    [9000, { from: 9000, to: 9000 }],
    ["9000", { from: 9000, to: 9000 }],
    ["8000-8099", { from: 8000, to: 8099 }],
    ["1-65535", { from: 1, to: 65535 }],
    ["80-80", { from: 80, to: 80 }],
  ])("reads %j", (value, range) => {
    expect(parsePortSpec(value)).toEqual({ value: range });
  });

  it.each([["90x"], [0], [65536], ["8000-"], ["-80"], ["1-2-3"], [80.5], ["0x50"], [null], [[80]]])(
    "refuses %j",
    (value) => {
      expect(parsePortSpec(value)).toEqual({
        error: `${JSON.stringify(value)} is not a port or range (1-65535, e.g. 9000 or 8000-8099)`,
      });
    },
  );

  it("refuses a range written high to low, showing the fix", () => {
    expect(parsePortSpec("9000-8000")).toEqual({
      error: '"9000-8000" is an empty range: write the lower port first (8000-9000)',
    });
  });
});

describe("portInRanges", () => {
  const ranges = [
    { from: 8000, to: 8099 },
    { from: 9000, to: 9000 },
  ];

  it("includes both ends of a range and single ports", () => {
    expect([7999, 8000, 8099, 8100, 9000, 9001].map((p) => portInRanges(p, ranges))).toEqual([
      false,
      true,
      true,
      false,
      true,
      false,
    ]);
  });
});
