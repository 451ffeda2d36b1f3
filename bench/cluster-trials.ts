/**
 * The timed trials of bench/cluster.ts on a running cluster lab (test/helpers/cluster-lab.ts): a
 * backend on a remote host listening → its first request through HAProxy, its close → HAProxy taking
 * it out of rotation, an agent restarted → servers HAProxy removed or added, an agent killed → out of
 * rotation, against the lease TTL. Times are CLOCK_MONOTONIC, stamped by the backend process itself.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Watcher } from "etcd3";
import { isRoutable } from "../src/targets/haproxy/runtime-answers.js";
import type { ClusterLab } from "../test/helpers/cluster-lab.js";
import type { TimedBackends } from "../test/helpers/timed-backend.js";
import { round, summarize } from "./lib/percentiles.js";

const now = () => process.hrtime.bigint();
const msBetween = (a: bigint, b: bigint) => Number(b - a) / 1e6;
/** Requests through HAProxy while a trial waits: one every 2 ms (500/s), as lb-contenders sends. */
const REQUEST_EVERY_MS = 2;
/** Quiet between trials, so that each starts from an idle system. */
const GAP_MS = 100;

/** Sends paced requests to web through HAProxy until `done` settles; resolves with its value. */
async function underLoad<T>(lab: ClusterLab, done: Promise<T>): Promise<T> {
  let settled = false;
  const finished = done.finally(() => {
    settled = true;
  });
  const pending = new Set<Promise<unknown>>();
  while (!settled) {
    const request = lab.get().catch(() => undefined);
    pending.add(request);
    void request.finally(() => pending.delete(request));
    await Promise.race([sleep(REQUEST_EVERY_MS), finished.catch(() => undefined)]);
  }
  await Promise.all(pending);
  return finished;
}

/** When the server on `port` of be_web is in (or out of) rotation, polled every 2 ms. */
export async function rotationAt(
  lab: ClusterLab,
  port: number,
  wanted: "in" | "out",
  withinMs: number,
): Promise<bigint> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const routed = (await lab.servers()).some((s) => s.port === port && isRoutable(s));
    if (routed === (wanted === "in")) return now();
    await sleep(2);
  }
  throw new Error(`port ${port} not ${wanted} of rotation after ${withinMs} ms`);
}

/** Stamps the first put under the prefix after each `arm()`: when the agent's write reached etcd. */
async function etcdWrites(lab: ClusterLab): Promise<{ arm(): Promise<bigint>; close(): Promise<void> }> {
  const watcher: Watcher = await lab.etcd.client().watch().prefix(`${lab.prefix}/v1/backends/web/`).create();
  let resolve: ((t: bigint) => void) | undefined;
  watcher.on("put", () => {
    resolve?.(now());
    resolve = undefined;
  });
  return {
    arm: () =>
      new Promise<bigint>((r) => {
        resolve = r;
      }),
    close: () => watcher.cancel(),
  };
}

export interface LatencyResult {
  trials: number;
  listenToServedMs: ReturnType<typeof summarize>;
  listenToEtcdMs: ReturnType<typeof summarize>;
  closeToUnroutedMs: ReturnType<typeof summarize>;
  warmup: number;
}

/**
 * `trials` listen → served → close → unrouted rounds on hosts in turn (after `warmup` untimed ones):
 * be_web holds only the trial's backend, so its first request is the first one HAProxy sends it.
 */
export async function routingTrials(
  lab: ClusterLab,
  backends: TimedBackends[],
  trials: number,
  warmup: number,
): Promise<LatencyResult> {
  const served: number[] = [];
  const toEtcd: number[] = [];
  const unrouted: number[] = [];
  const writes = await etcdWrites(lab);
  try {
    for (let i = 0; i < warmup + trials; i++) {
      const b = backends[i % backends.length] as TimedBackends;
      const port = lab.base + 10 + (i % 80);
      const written = writes.arm();
      const listened = await b.listen(port);
      const first = await underLoad(lab, b.served(port));
      const closed = await b.close(port);
      const out = await rotationAt(lab, port, "out", 5000);
      if (i >= warmup) {
        served.push(msBetween(listened, first));
        toEtcd.push(msBetween(listened, await written));
        unrouted.push(msBetween(closed, out));
      }
      await sleep(GAP_MS);
    }
  } finally {
    await writes.close();
  }
  const ms = (values: number[]) => {
    const s = summarize(values.map((v) => round(v, 2)));
    return s && { ...s, mean: round(s.mean, 2) };
  };
  return {
    trials,
    warmup,
    listenToServedMs: ms(served),
    listenToEtcdMs: ms(toEtcd),
    closeToUnroutedMs: ms(unrouted),
  };
}

/** Server name#srv_id of every routable server of be_web: a removed and re-added one gets a new id. */
const fingerprint = async (lab: ClusterLab) =>
  (await lab.servers())
    .filter(isRoutable)
    .map((s) => `${s.name}#${s.id}`)
    .sort()
    .join(" ");

export interface RestartResult {
  restarts: number;
  /**
   * Servers HAProxy removed or added while agents restarted: the `target applied` lines that changed
   * HAProxy (runtime-api or reload; a `write` line is the file catching up behind one of those).
   */
  flaps: number;
  /** Whether `show servers state` (names and ids) was the same after every restart. */
  serversUnchanged: boolean;
  /** Signal → the old agent gone, and its exit → "published the whole set" of the new one. */
  stopMs: ReturnType<typeof summarize>;
  startMs: ReturnType<typeof summarize>;
  /** Restarts that found their predecessor's lease alive (the others took longer than the TTL left). */
  adopted: number;
}

/** Restarts agent 0 `restarts` times, alternately after SIGTERM and SIGKILL, with its backends up. */
export async function restartTrials(lab: ClusterLab, restarts: number): Promise<RestartResult> {
  const agent = lab.agents[0];
  if (!agent) throw new Error("no agent 0");
  const stops: number[] = [];
  const starts: number[] = [];
  let flaps = 0;
  let unchanged = true;
  let adopted = 0;
  for (let i = 0; i < restarts; i++) {
    // Quiet first: the file written behind the last change logs its own line.
    await sleep(500);
    const before = await fingerprint(lab);
    const appliedBefore = lab.harness.applied().length;
    const old = agent.process;
    if (!old) throw new Error("agent 0 is not running");
    const t0 = performance.now();
    old.signal(i % 2 === 0 ? "SIGTERM" : "SIGKILL");
    await old.exited();
    const t1 = performance.now();
    const fresh = await agent.start();
    stops.push(round(t1 - t0, 1));
    starts.push(round(performance.now() - t1, 1));
    if (fresh.logs().find((l) => l.msg === "published the whole set")?.adopted === true) adopted++;
    await sleep(500);
    for (const line of lab.harness.applied().slice(appliedBefore)) {
      if (line.activation === "write") continue;
      flaps += (line.added as unknown[]).length + (line.removed as unknown[]).length;
    }
    if ((await fingerprint(lab)) !== before) unchanged = false;
  }
  return {
    restarts,
    flaps,
    serversUnchanged: unchanged,
    stopMs: summarize(stops),
    startMs: summarize(starts),
    adopted,
  };
}

export interface HostDeathResult {
  ttlSeconds: number;
  /** SIGKILL of the agent → its backend out of rotation in HAProxy. */
  outOfRotationMs: ReturnType<typeof summarize>;
  samples: number[];
}

/**
 * Kills agent 1 (SIGKILL: as its host dying) with a backend up, `trials` times, restarting it after
 * each. The kills are spread over the renewal interval (ttl/3): the lease expires ttl after the last
 * renewal, which is up to an interval before the kill.
 */
export async function hostDeathTrials(
  lab: ClusterLab,
  backends: TimedBackends[],
  trials: number,
  ttlSeconds: number,
): Promise<HostDeathResult> {
  const agent = lab.agents[1];
  const b = backends[1];
  if (!agent || !b) throw new Error("no agent 1");
  const port = lab.base + 95;
  const samples: number[] = [];
  await b.listen(port);
  try {
    for (let i = 0; i < trials; i++) {
      await rotationAt(lab, port, "in", 5000);
      await sleep(((i + 0.5) / trials) * ((ttlSeconds * 1000) / 3));
      const victim = agent.process;
      if (!victim) throw new Error("agent 1 is not running");
      const killed = now();
      victim.signal("SIGKILL");
      const out = await rotationAt(lab, port, "out", ttlSeconds * 1000 + 5000);
      samples.push(round(msBetween(killed, out), 1));
      await victim.exited();
      await agent.start();
    }
  } finally {
    await b.close(port);
  }
  return { ttlSeconds, outOfRotationMs: summarize(samples), samples };
}
