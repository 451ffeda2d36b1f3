import { describe, expect, it } from "vitest";
import { electOwner } from "../../src/probe/proc-sockets.js";
import type { ProcStat } from "../../src/proc-stat.js";

describe("electOwner", () => {
  const stats = (table: Record<number, ProcStat>) => (pid: number) => table[pid];

  it("names the master, not a worker it forked with a lower pid after a wrap", () => {
    const table = { 300: { ppid: 30000, startTicks: 20 }, 30000: { ppid: 1, startTicks: 10 } };
    expect(electOwner([300, 30000], stats(table))).toBe(30000);
  });

  it("of unrelated holders (an fd passed over a unix socket), names the earliest started", () => {
    const table = { 5: { ppid: 1, startTicks: 90 }, 9: { ppid: 1, startTicks: 40 } };
    expect(electOwner([5, 9], stats(table))).toBe(9);
  });

  it("passes over holders that exited, and falls back to the lowest pid when none can be read", () => {
    expect(electOwner([5, 9], stats({ 9: { ppid: 1, startTicks: 40 } }))).toBe(9);
    expect(electOwner([5, 9], stats({}))).toBe(5);
  });
});
