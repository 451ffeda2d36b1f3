/**
 * Matching listen/close events on another service while trials run: bench-helper's churn mode on the
 * "churn" service's port (C, so the rate holds whatever the machine does; each listener lives
 * HOLD_MS, so about rate × HOLD_MS / 2000 listen at once).
 */
import { Child } from "./children.js";
import { benchHelper } from "./helpers.js";
import { CHURN_POOL, type Layout } from "./lb-layout.js";

const HOLD_MS = 100;

export interface Churn {
  /** Stops it; resolves with the events (listens and closes) it made per second. */
  stop(): Promise<{ events: number; eventsPerSec: number }>;
}

export async function startChurn(layout: Layout, eventsPerSec: number, maxMs: number): Promise<Churn> {
  const helper = await benchHelper();
  const args = [String(layout.churnPort), String(CHURN_POOL), String(eventsPerSec), String(HOLD_MS)];
  const child = Child.start(helper, ["churn", ...args, String(maxMs)]);
  return {
    async stop() {
      child.signal("SIGTERM");
      const [listens, ns] = String((await child.done())[0]?.text ?? "")
        .split(" ")
        .map(Number);
      if (!(listens !== undefined && ns))
        throw new Error(`churn helper printed nothing: ${child.stderrTail}`);
      return { events: listens * 2, eventsPerSec: Math.round((listens * 2 * 1e9) / ns) };
    },
  };
}
