import { describe, expect, it } from "vitest";
import { cdfPoints, escapeXml, formatTick, linePlot, ticksFor } from "../../bench/lib/svg-plot.js";

describe("cdfPoints", () => {
  it("pairs each sorted value with the fraction of samples at or below it", () => {
    expect(cdfPoints([3, 1, 2, 4])).toEqual([
      [1, 0.25],
      [2, 0.5],
      [3, 0.75],
      [4, 1],
    ]);
  });
});

describe("ticksFor", () => {
  it("puts log ticks at 1-2-5 steps over a short range and at powers of ten over a long one", () => {
    expect(ticksFor(1, 100, true)).toEqual([1, 2, 5, 10, 20, 50, 100]);
    expect(ticksFor(0.1, 10_000, true)).toEqual([0.1, 1, 10, 100, 1000, 10_000]);
  });

  it("puts linear ticks at a 1-2-5 step", () => {
    expect(ticksFor(0, 1, false)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
  });
});

describe("formatTick and escapeXml", () => {
  it("writes large and tiny ticks as exponents and escapes markup", () => {
    expect([formatTick(10_000), formatTick(0.001), formatTick(2.5)]).toEqual(["1e4", "1e-3", "2.5"]);
    expect(escapeXml(`a<b & "c"`)).toBe("a&#60;b &#38; &#34;c&#34;");
  });
});

describe("linePlot", () => {
  const svg = linePlot({
    title: "t <1>",
    xLabel: "x",
    yLabel: "y",
    series: [
      {
        name: "fast",
        points: [
          [1, 0.5],
          [2, 1],
        ],
      },
      {
        name: "slow & steady",
        points: [
          [10, 0.5],
          [1000, 1],
        ],
      },
    ],
    logX: true,
    steps: true,
  });

  it("is one SVG document with a polyline and a legend entry per series", () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg.match(/<polyline /g)?.length).toBe(2);
    expect(svg).toContain(">fast</text>");
    expect(svg).toContain(">slow &#38; steady</text>");
    expect(svg).toContain(">t &#60;1&#62;</text>");
  });

  it("draws a step plot with one extra vertex per step", () => {
    const first = /<polyline [^>]*points="([^"]+)"/.exec(svg)?.[1] ?? "";
    expect(first.split(" ")).toHaveLength(3);
  });

  it("refuses a plot without points", () => {
    expect(() => linePlot({ title: "empty", xLabel: "", yLabel: "", series: [] })).toThrow(
      new RangeError('plot "empty" has no points'),
    );
  });
});
