import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LbwatchError } from "../../src/errors.js";
import { ReconcileLoop } from "../../src/targets/reconcile-loop.js";
import { captureLog } from "./capture-log.js";

/** The delays before each retry of a pass that keeps failing, each pass taking `passMs`. */
async function retryDelays(passMs: number, failures: number): Promise<number[]> {
  const delays: number[] = [];
  const loop = new ReconcileLoop(async () => {
    if (passMs > 0) await new Promise((resolve) => setTimeout(resolve, passMs));
    throw new LbwatchError("E_RELOAD_FAILED", "reload refused");
  }, captureLog().log);
  loop.wake();
  for (let i = 0; i < failures; i++) {
    await vi.advanceTimersByTimeAsync(passMs);
    const { nextRetryAt = Number.NaN } = loop.status();
    delays.push(nextRetryAt - Date.now());
    await vi.advanceTimersByTimeAsync(nextRetryAt - Date.now());
  }
  // The pass that retry started is still running: close waits for it.
  const closed = loop.close();
  await vi.advanceTimersByTimeAsync(passMs);
  await closed;
  return delays;
}

describe("ReconcileLoop retries", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("retries a cheap failing pass at least every second, however long it fails", async () => {
    const delays = await retryDelays(0, 12);
    expect(delays.slice(0, 3).every((d) => d < 500)).toBe(true);
    expect(delays.slice(6).every((d) => d >= 500 && d <= 1000)).toBe(true);
  });

  it("backs off further for a costly pass, keeping its retries to a tenth of the time, up to 5 s", async () => {
    const [costly, dearest] = [await retryDelays(300, 12), await retryDelays(800, 12)];
    expect(costly.slice(6).every((d) => d >= 1500 && d <= 3000)).toBe(true);
    expect(dearest.slice(8).every((d) => d >= 2500 && d <= 5000)).toBe(true);
  });
});
