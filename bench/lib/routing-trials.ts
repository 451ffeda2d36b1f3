/**
 * Listen → first request served through HAProxy, and close → last request HAProxy sends to that
 * backend, in waves of fresh backends on the probe service while a prober sends 500 req/s to the
 * probe frontend. Both ends are timed by the backend process itself on CLOCK_MONOTONIC. "Last request"
 * is the last change of the server's attempt counters (stot + econ + wretr in `show stat`, polled
 * every 10 ms) after the close; reload-based contenders drop the server from the new worker's stats,
 * so attempts an old worker still makes are not seen.
 */

import { backendId } from "../../src/registry/backend-id.js";
import { armBackend, waitFirstRequest, waitListening } from "./backends.js";
import type { Child } from "./children.js";
import {
  boundMs,
  type ContenderSpec,
  isRouting,
  phaseJitterMs,
  type Running,
  waveSize,
} from "./contenders.js";
import type { ServerStat } from "./haproxy.js";
import { sleep } from "./helpers.js";
import { startLoad } from "./load-generator.js";

export interface RoutingSamples {
  listenToServedMs: number[];
  closeToLastAttemptMs: number[];
  closeToOutOfRotationMs: number[];
  /** Listens not served, or closes not noticed, within the contender's bound. */
  lost: number;
  /** Per trial, CLOCK_MONOTONIC ns: to line trials up with the controller's log (LBWATCH_BENCH_TRACE). */
  trace: { port: number; listened: string; served?: string; closed?: string; out?: string }[];
}

const PROBE_RATE = 500;
const STAT_POLL_MS = 10;
const ms = (ns: bigint) => Number(ns) / 1e6;

type Armed = Awaited<ReturnType<typeof armBackend>>;

async function oneListen(
  armed: Armed,
  jitterMs: number,
  bound: number,
): Promise<{ child: Child; listened: bigint; first?: bigint }> {
  const { child, listenNow } = armed;
  await sleep(Math.random() * jitterMs);
  listenNow();
  const listened = await waitListening(child);
  const first = await waitFirstRequest(child, bound);
  return { child, listened, ...(first !== undefined ? { first } : {}) };
}

/** Closes the wave's backends at once and follows their servers in `show stat` until out of rotation. */
async function closeWave(
  running: Running,
  children: Child[],
  ports: number[],
  bound: number,
  samples: RoutingSamples,
) {
  const ids = ports.map((p) => backendId(4, "127.0.0.1", p));
  for (const c of children) c.signal("SIGTERM");
  const closedAt = await Promise.all(
    children.map(async (c) => BigInt((await c.waitFor((l) => l.ev === "closed", 5000)).t as number)),
  );
  const lastAttempt = new Map<string, { attempts: number; at: bigint }>();
  const outAt = new Map<string, bigint>();
  const deadline = process.hrtime.bigint() + BigInt(bound) * 1_000_000n;
  while (outAt.size < ids.length && process.hrtime.bigint() < deadline) {
    const rows: ServerStat[] = await running.haproxy.showStat().catch(() => []);
    const now = process.hrtime.bigint();
    const by = new Map(rows.map((r) => [r.server, r]));
    ids.forEach((id) => {
      const row = by.get(id);
      const seen = lastAttempt.get(id);
      if (row && (!seen || row.attempts !== seen.attempts))
        lastAttempt.set(id, { attempts: row.attempts, at: now });
      if (!outAt.has(id) && !isRouting(row)) outAt.set(id, now);
    });
    await sleep(STAT_POLL_MS);
  }
  ids.forEach((id, i) => {
    const closed = closedAt[i] as bigint;
    const gone = outAt.get(id);
    const traced = samples.trace.find((t) => t.port === ports[i]);
    if (traced) Object.assign(traced, { closed: String(closed), ...(gone ? { out: String(gone) } : {}) });
    if (gone === undefined) {
      samples.lost++;
      return;
    }
    samples.closeToOutOfRotationMs.push(ms(gone - closed));
    const last = lastAttempt.get(id)?.at;
    samples.closeToLastAttemptMs.push(last !== undefined && last > closed ? ms(last - closed) : 0);
  });
}

export async function routingTrials(
  running: Running,
  spec: ContenderSpec,
  ports: number[],
  frontend: number,
): Promise<RoutingSamples> {
  const out: RoutingSamples = {
    listenToServedMs: [],
    closeToLastAttemptMs: [],
    closeToOutOfRotationMs: [],
    lost: 0,
    trace: [],
  };
  const bound = boundMs(spec);
  const wave = waveSize(spec);
  // Every backend is started (and its interpreter loaded) before the prober and the first trial:
  // Python start-up costs tens of ms of CPU on 2 cores, and overlapping it with trials slowed them.
  const armed = new Map(await Promise.all(ports.map(async (p) => [p, await armBackend(p)] as const)));
  const prober = startLoad({
    port: frontend,
    hostHeader: "probe",
    ratePerSec: PROBE_RATE,
    maxDurationMs: Math.ceil(ports.length / wave) * (2 * bound + phaseJitterMs(spec) + 2000),
    timeoutMs: 2000,
  });
  try {
    for (let i = 0; i < ports.length; i += wave) {
      const wavePorts = ports.slice(i, i + wave);
      const results = await Promise.all(
        wavePorts.map((p) => oneListen(armed.get(p) as Armed, phaseJitterMs(spec), bound)),
      );
      results.forEach((r, j) => {
        if (r.first === undefined) out.lost++;
        else out.listenToServedMs.push(ms(r.first - r.listened));
        const port = wavePorts[j] as number;
        const served = r.first !== undefined ? { served: String(r.first) } : {};
        out.trace.push({ port, listened: String(r.listened), ...served });
      });
      await closeWave(
        running,
        results.map((r) => r.child),
        wavePorts,
        bound,
        out,
      );
      await Promise.all(results.map((r) => r.child.stop()));
    }
  } finally {
    await prober.stop();
    // Backends a failed trial left armed or listening.
    await Promise.all([...armed.values()].map((a) => a.child.stop()));
  }
  return out;
}
