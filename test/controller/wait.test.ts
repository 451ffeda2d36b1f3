import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Quiescence } from "../../src/controller/wait.js";

describe("Quiescence", () => {
  let fired: number[];
  let wait: Quiescence;

  beforeEach(() => {
    vi.useFakeTimers();
    fired = [];
    wait = new Quiescence({ minMs: 20, maxMs: 100 }, () => fired.push(Date.now()));
  });

  afterEach(() => {
    wait.cancel();
    vi.useRealTimers();
  });

  it("fires once, min after a single poke", () => {
    const start = Date.now();
    wait.poke();
    vi.advanceTimersByTime(19);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual([start + 20]);
    vi.advanceTimersByTime(500);
    expect(fired).toEqual([start + 20]);
  });

  it("waits for min of quiet after the last poke of a short burst", () => {
    const start = Date.now();
    wait.poke();
    vi.advanceTimersByTime(10);
    wait.poke();
    vi.advanceTimersByTime(15);
    wait.poke();
    vi.advanceTimersByTime(200);
    expect(fired).toEqual([start + 45]);
  });

  it("fires at max after the first poke when pokes never stop", () => {
    const start = Date.now();
    for (let t = 0; t < 250; t += 10) {
      wait.poke();
      vi.advanceTimersByTime(10);
    }
    // Bursts restart after each fire: deadlines at 100 and 200; the last poke (240) fires at 260.
    vi.advanceTimersByTime(100);
    expect(fired).toEqual([start + 100, start + 200, start + 260]);
  });

  it("starts a new burst after firing", () => {
    const start = Date.now();
    wait.poke();
    vi.advanceTimersByTime(20);
    expect(wait.pending).toBe(false);
    wait.poke();
    expect(wait.pending).toBe(true);
    vi.advanceTimersByTime(20);
    expect(fired).toEqual([start + 20, start + 40]);
  });

  it("never fires after cancel", () => {
    wait.poke();
    vi.advanceTimersByTime(10);
    wait.cancel();
    expect(wait.pending).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual([]);
  });

  it("fires on the next turn of the timers when min is 0", () => {
    const zero = new Quiescence({ minMs: 0, maxMs: 0 }, () => fired.push(-1));
    zero.poke();
    zero.poke();
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(0);
    expect(fired).toEqual([-1]);
  });
});
