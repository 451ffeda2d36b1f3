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
}

const PROBE_RATE = 500;
const ARM_AHEAD = 10;
const STAT_POLL_MS = 10;
const ms = (ns: bigint) => Number(ns) / 1e6;

type Armed = Awaited<ReturnType<typeof armBackend>>;

async function oneListen(
  armed: Promise<Armed>,
  jitterMs: number,
  bound: number,
): Promise<{ child: Child; ms?: number }> {
  const { child, listenNow } = await armed;
  await sleep(Math.random() * jitterMs);
  listenNow();
  const listened = await waitListening(child);
  const first = await waitFirstRequest(child, bound);
  return { child, ...(first !== undefined ? { ms: ms(first - listened) } : {}) };
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
  };
  const bound = boundMs(spec);
  const wave = waveSize(spec);
  const prober = startLoad({
    port: frontend,
    hostHeader: "probe",
    ratePerSec: PROBE_RATE,
    maxDurationMs: Math.ceil(ports.length / wave) * (2 * bound + phaseJitterMs(spec) + 2000),
    timeoutMs: 2000,
  });
  // Backends are started ahead (ARM_AHEAD at a time) so their start-up overlaps earlier trials.
  const armed = new Map<number, Promise<Armed>>();
  const arm = (port: number) => {
    if (!armed.has(port)) armed.set(port, armBackend(port));
    return armed.get(port) as Promise<Armed>;
  };
  try {
    for (let i = 0; i < ports.length; i += wave) {
      const wavePorts = ports.slice(i, i + wave);
      ports.slice(i, i + Math.max(wave, ARM_AHEAD)).forEach(arm);
      const results = await Promise.all(wavePorts.map((p) => oneListen(arm(p), phaseJitterMs(spec), bound)));
      for (const r of results) {
        if (r.ms === undefined) out.lost++;
        else out.listenToServedMs.push(r.ms);
      }
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
  }
  return out;
}
