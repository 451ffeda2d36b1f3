import { describe, expect, it } from "vitest";
import { formatDuration, MAX_MS, parseDuration } from "../../src/config/duration.js";

const DAY = 24 * 3_600_000;

describe("parseDuration", () => {
  it.each([
    ["20ms", 20],
    ["1s", 1000],
    ["1.5s", 1500],
    ["1m", 60_000],
    ["1h", 3_600_000],
    ["1m30s", 90_000],
    [0, 0],
    ["0", 0],
    ["0s", 0],
  ])("reads %j as %d ms", (text, ms) => {
    expect(parseDuration(text, DAY)).toEqual({ value: ms });
  });

  it("refuses a bare number other than 0, suggesting a unit", () => {
    expect(parseDuration(60, DAY)).toEqual({
      error: "60 is not a duration such as 20ms, 1s or 1m (add a unit: 60ms or 60s)",
    });
  });

  it.each([["20"], ["1 s"], ["-1s"], ["1d"], ["s"], [true], [null]])("refuses %j", (value) => {
    expect(parseDuration(value, DAY)).toEqual({
      error: `${JSON.stringify(value)} is not a duration such as 20ms, 1s or 1m`,
    });
  });

  it.each([
    ["168h1ms", MAX_MS.resync, '"168h1ms" is more than the maximum, 168h'],
    ["597h", MAX_MS.resync, '"597h" is more than the maximum, 168h'],
    ["10000000000000000000h", MAX_MS.wait, '"10000000000000000000h" is more than the maximum, 1h'],
    [`${"9".repeat(400)}ms`, MAX_MS.commandTimeout, `"${"9".repeat(400)}ms" is more than the maximum, 1h`],
  ])("refuses %j over its maximum, also numbers too large for a double", (text, max, error) => {
    expect(parseDuration(text, max)).toEqual({ error });
  });

  it("accepts a duration equal to its maximum", () => {
    expect([parseDuration("168h", MAX_MS.resync), parseDuration("60m", MAX_MS.wait)]).toEqual([
      { value: 7 * DAY },
      { value: 3_600_000 },
    ]);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0"],
    [20, "20ms"],
    [90_000, "1m30s"],
    [7 * DAY, "168h"],
    [3_600_001, "1h1ms"],
  ])("writes %d ms as %j", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
