import { describe, expect, it } from "vitest";
import { parseDuration } from "../../src/config/duration.js";

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
    expect(parseDuration(text)).toEqual({ value: ms });
  });

  it("refuses a bare number other than 0, suggesting a unit", () => {
    expect(parseDuration(60)).toEqual({
      error: "60 is not a duration such as 20ms, 1s or 1m (add a unit: 60ms or 60s)",
    });
  });

  it.each([["20"], ["1 s"], ["-1s"], ["1d"], ["s"], [true], [null]])("refuses %j", (value) => {
    expect(parseDuration(value)).toEqual({
      error: `${JSON.stringify(value)} is not a duration such as 20ms, 1s or 1m`,
    });
  });
});
