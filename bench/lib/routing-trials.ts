/**
 * Routing trials, in waves of fresh backends on the probe service while a prober sends 500 req/s to
 * the probe frontend:
 * - listen → served: listen() returning to the first request the backend receives through HAProxy,
 *   both timed by the backend itself on CLOCK_MONOTONIC (includes up to 2 ms of the prober's gap);
 * - listen → routed, close → unrouted: to the first poll of HAProxy's `show stat` for the probe
 *   backend (every POLL_MS) that shows the server taking traffic (UP, no check), or no more; or,
 *   for routed, to its first request if that came sooner, since a server that serves is routed. The
 *   poll runs in this busy process beside every trial's children and lagged a served request by up
 *   to 10 ms (the first trial after an idle window), which was the routed figure's p99;
 * - close → last request: the last change of the server's attempt counters (stot + econ + wretr)
 *   seen after the close. Reload-based contenders drop the server from the new worker's stats, so
 *   attempts an old worker still makes are not seen.
 */

import { armBackend, waitFirstRequest, waitListening } from "./backends.js";
import type { Child } from "./children.js";
import {
  boundMs,
  type ContenderSpec,
  phaseJitterMs,
  type Running,
  serverIdFor,
  waveSize,
} from "./contenders.js";
import type { Haproxy, ServerStat } from "./haproxy.js";
import { sleep } from "./helpers.js";
import { startLoad } from "./load-generator.js";

export interface RoutingSamples {
  listenToServedMs: number[];
  listenToRoutedMs: number[];
  closeToUnroutedMs: number[];
  closeToLastAttemptMs: number[];
  /** Listens not served, or closes not noticed, within the contender's bound. */
  lost: number;
  /** Per trial, CLOCK_MONOTONIC ns: to line trials up with the controller's log (LBWATCH_BENCH_TRACE). */
  trace: Record<string, string | number>[];
}

const PROBE_RATE = 500;
const POLL_MS = 1;
const PROBE_BACKEND = "be_probe";
const ms = (ns: bigint) => Number(ns) / 1e6;

export const isRouting = (s: ServerStat | undefined) => s !== undefined && /^(UP|no check)/.test(s.status);

type Armed = Awaited<ReturnType<typeof armBackend>>;

interface Followed {
  /** When each server was first seen in the wanted state. */
  at: Map<string, bigint>;
  /** When each server's attempt counters last changed. */
  lastAttempt: Map<string, bigint>;
}

/** Polls the probe backend until every id is routed (or unrouted), or until the bound. */
async function follow(
  haproxy: Haproxy,
  ids: string[],
  want: "routed" | "unrouted",
  bound: number,
): Promise<Followed> {
  const out: Followed = { at: new Map(), lastAttempt: new Map() };
  const attempts = new Map<string, number>();
  const deadline = process.hrtime.bigint() + BigInt(bound) * 1_000_000n;
  while (out.at.size < ids.length && process.hrtime.bigint() < deadline) {
    const rows = await haproxy.showStat(PROBE_BACKEND).catch(() => [] as ServerStat[]);
    const now = process.hrtime.bigint();
    const by = new Map(rows.map((r) => [r.server, r]));
    for (const id of ids) {
      const row = by.get(id);
      if (row && row.attempts !== attempts.get(id)) {
        attempts.set(id, row.attempts);
        out.lastAttempt.set(id, now);
      }
      if (!out.at.has(id) && isRouting(row) === (want === "routed")) out.at.set(id, now);
    }
    await sleep(POLL_MS);
  }
  return out;
}

async function listenWave(running: Running, armed: Armed[], ids: string[], spec: ContenderSpec) {
  const bound = boundMs(spec);
  const routed = follow(running.haproxy, ids, "routed", bound);
  const listens = await Promise.all(
    armed.map(async ({ child, listenNow }) => {
      await sleep(Math.random() * phaseJitterMs(spec));
      listenNow();
      const listened = await waitListening(child);
      return { child, listened, first: await waitFirstRequest(child, bound) };
    }),
  );
  return { listens, routed: (await routed).at };
}

async function closeWave(running: Running, children: Child[], ids: string[], spec: ContenderSpec) {
  for (const c of children) c.signal("SIGTERM");
  const unrouted = follow(running.haproxy, ids, "unrouted", boundMs(spec));
  const closedAt = await Promise.all(
    children.map(async (c) => BigInt((await c.waitFor((l) => l.ev === "closed", 5000)).t as number)),
  );
  return { closedAt, ...(await unrouted) };
}

export async function routingTrials(
  running: Running,
  spec: ContenderSpec,
  ports: number[],
  frontend: number,
): Promise<RoutingSamples> {
  const out: RoutingSamples = {
    listenToServedMs: [],
    listenToRoutedMs: [],
    closeToUnroutedMs: [],
    closeToLastAttemptMs: [],
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
    maxDurationMs: Math.ceil(ports.length / wave) * (2 * bound + phaseJitterMs(spec) + 3000),
    timeoutMs: 2000,
  });
  try {
    for (let i = 0; i < ports.length; i += wave) {
      const wavePorts = ports.slice(i, i + wave);
      const ids = wavePorts.map((p) => serverIdFor("127.0.0.1", p));
      const up = await listenWave(
        running,
        wavePorts.map((p) => armed.get(p) as Armed),
        ids,
        spec,
      );
      const down = await closeWave(
        running,
        up.listens.map((l) => l.child),
        ids,
        spec,
      );
      ids.forEach((id, j) => {
        const { listened, first } = up.listens[j] as (typeof up.listens)[number];
        const closed = down.closedAt[j] as bigint;
        const polled = up.routed.get(id);
        const routedAt = first !== undefined && (polled === undefined || first < polled) ? first : polled;
        const unroutedAt = down.at.get(id);
        const last = down.lastAttempt.get(id);
        if (first === undefined || routedAt === undefined || unroutedAt === undefined) out.lost++;
        if (first !== undefined) out.listenToServedMs.push(ms(first - listened));
        if (routedAt !== undefined) out.listenToRoutedMs.push(ms(routedAt - listened));
        // A server never routed is "unrouted" from the start: no close figure.
        if (routedAt !== undefined && unroutedAt !== undefined) {
          out.closeToUnroutedMs.push(ms(unroutedAt - closed));
          out.closeToLastAttemptMs.push(last !== undefined && last > closed ? ms(last - closed) : 0);
        }
        out.trace.push({
          port: wavePorts[j] as number,
          listened: String(listened),
          closed: String(closed),
          ...(first !== undefined ? { served: String(first) } : {}),
          ...(polled !== undefined ? { polledRouted: String(polled) } : {}),
          ...(unroutedAt !== undefined ? { unrouted: String(unroutedAt) } : {}),
        });
      });
      await Promise.all(up.listens.map((l) => l.child.stop()));
    }
  } finally {
    await prober.stop();
    // Backends a failed trial left armed or listening.
    await Promise.all([...armed.values()].map((a) => a.child.stop()));
  }
  return out;
}
