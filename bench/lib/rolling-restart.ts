/**
 * A rolling restart of the 5 web backends under a steady 200 req/s: each in turn closes its
 * listener (SIGTERM: in-flight requests finish), is down for RESTART_GAP_MS as a real restart is, and
 * comes back on the same port; the next waits until the new one has served a request through
 * HAProxy (or the contender's bound). Counts what the clients saw.
 */
import { armBackend, waitFirstRequest } from "./backends.js";
import type { Child } from "./children.js";
import { boundMs, type ContenderSpec } from "./contenders.js";
import { sleep } from "./helpers.js";
import { type LoadResult, startLoad } from "./load-generator.js";

const RATE = 200;
const RESTART_GAP_MS = 200;

export interface RestartResult extends Omit<LoadResult, "failureTimesMs" | "failureKinds"> {
  seconds: number;
  /** Restarted backends that were not served within the bound. */
  notServedAgain: number;
}

/** Restarts web[i] in place (the array then holds the new backends); web must be routed already. */
export async function rollingRestart(web: Child[], ports: number[], frontend: number, spec: ContenderSpec) {
  const bound = boundMs(spec);
  const started = Date.now();
  const load = startLoad({
    port: frontend,
    hostHeader: "web",
    ratePerSec: RATE,
    maxDurationMs: ports.length * (bound + RESTART_GAP_MS + 1000) + 2000,
    timeoutMs: 3000,
  });
  let notServedAgain = 0;
  try {
    await sleep(500);
    for (const [i, port] of ports.entries()) {
      // The replacement is started (armed) first so interpreter start-up is not part of the gap.
      const fresh = await armBackend(port);
      const old = web[i] as Child;
      old.signal("SIGTERM");
      await old.waitFor((l) => l.ev === "closed", 5000);
      await sleep(RESTART_GAP_MS);
      fresh.listenNow();
      web[i] = fresh.child;
      if ((await waitFirstRequest(fresh.child, bound)) === undefined) notServedAgain++;
      await old.stop();
      await sleep(300);
    }
    await sleep(500);
  } catch (err) {
    await load.stop();
    throw err;
  }
  const { failureTimesMs: _, failureKinds: __, ...counts } = await load.stop();
  const result: RestartResult = { ...counts, seconds: (Date.now() - started) / 1000, notServedAgain };
  return result;
}
