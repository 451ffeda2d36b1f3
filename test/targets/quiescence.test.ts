import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Quiescence } from "../../src/targets/quiescence.js";

describe("Quiescence", () => {
  let fired: number[];
  let wait: Quiescence;
  let start: number;

  beforeEach(() => {
    vi.useFakeTimers();
    fired = [];
    wait = new Quiescence({ minMs: 20, maxMs: 100 }, () => fired.push(Date.now() - start));
    start = Date.now();
  });

  afterEach(() => {
    wait.cancel();
    vi.useRealTimers();
  });

  it("fires at once for a poke after a quiet period, and only once", () => {
    wait.poke();
    expect(fired).toEqual([0]);
    expect(wait.pending).toBe(false);
    vi.advanceTimersByTime(500);
    expect(fired).toEqual([0]);
  });

  it("coalesces the rest of a burst into one trailing fire, min after its last poke", () => {
    wait.poke();
    vi.advanceTimersByTime(10);
    wait.poke();
    expect(wait.pending).toBe(true);
    vi.advanceTimersByTime(15);
    wait.poke();
    wait.poke();
    vi.advanceTimersByTime(19);
    expect(fired).toEqual([0]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([0, 45]);
    vi.advanceTimersByTime(200);
    expect(fired).toEqual([0, 45]);
  });

  it("fires at once again after min of quiet", () => {
    wait.poke();
    vi.advanceTimersByTime(20);
    wait.poke();
    vi.advanceTimersByTime(20);
    expect(fired).toEqual([0, 20]);
  });

  it("does not fire at once for a poke less than min after the last one, even when nothing is owed", () => {
    wait.poke();
    vi.advanceTimersByTime(19);
    wait.poke();
    expect(fired).toEqual([0]);
    vi.advanceTimersByTime(20);
    expect(fired).toEqual([0, 39]);
  });

  it("fires at most max after the first coalesced poke when pokes never stop", () => {
    for (let t = 0; t < 250; t += 10) {
      wait.poke();
      vi.advanceTimersByTime(10);
    }
    vi.advanceTimersByTime(100);
    // Leading fire at 0; the poke at 10 owes one, due by 110; the poke at 110 owes the next, due by
    // 210; the last poke (240) is followed by 20 ms of quiet: 260.
    expect(fired).toEqual([0, 110, 210, 260]);
  });

  it("never fires after cancel", () => {
    wait.poke();
    wait.poke();
    vi.advanceTimersByTime(10);
    wait.cancel();
    expect(wait.pending).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual([0]);
  });

  it("fires at once and once more on the next turn of the timers when min is 0", () => {
    const zero = new Quiescence({ minMs: 0, maxMs: 0 }, () => fired.push(-1));
    zero.poke();
    zero.poke();
    zero.poke();
    expect(fired).toEqual([-1]);
    vi.advanceTimersByTime(0);
    expect(fired).toEqual([-1, -1]);
  });
});
