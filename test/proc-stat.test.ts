import { describe, expect, it } from "vitest";
import { parseProcStat } from "../src/proc-stat.js";

/** A stat line as the kernel writes it, with fields 5-21 filled and starttime at 22. */
function statLine(pid: number, comm: string, ppid: number, start: number): string {
  const middle = Array.from({ length: 17 }, (_, i) => String(i)).join(" ");
  return `${pid} (${comm}) S ${ppid} ${middle} ${start} 1000 200\n`;
}

describe("parseProcStat", () => {
  it("reads ppid and start time", () => {
    expect(parseProcStat(statLine(42, "nginx", 1, 9876))).toEqual({ ppid: 1, startTicks: 9876 });
  });

  it("is not fooled by a process name holding spaces, parentheses and digits", () => {
    const hostile = "x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 (";
    expect(parseProcStat(statLine(42, hostile, 77, 5))).toEqual({ ppid: 77, startTicks: 5 });
  });

  it("refuses text that is not a stat line", () => {
    expect(parseProcStat("")).toBeUndefined();
    expect(parseProcStat("42 (short) S 1 2")).toBeUndefined();
  });
});
