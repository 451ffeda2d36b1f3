/**
 * `make demo-cluster`: etcd, three simulated hosts (network namespaces on a bridge) with
 * `lbwatch agent` in each, HAProxy and `lbwatch run` here (test/helpers/cluster-lab.ts, the system
 * the multi-host tests run). Backends listen and close on different hosts; for each, the time from
 * listen() to the first request HAProxy routed to it, and from close() (or its host's agent dying) to
 * HAProxy taking it out of rotation. Everything it made goes at the end, also on Ctrl-C.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { isRoutable } from "../../src/targets/haproxy/runtime-answers.js";
import { type ClusterLab, startClusterLab } from "../../test/helpers/cluster-lab.js";
import { startTimedBackends, type TimedBackends } from "../../test/helpers/timed-backend.js";

const DEADLINE_MS = 55_000;
const TTL_SECONDS = 3;
const started = Date.now();
const now = () => process.hrtime.bigint();
const ms = (from: bigint, to: bigint) => `${(Number(to - from) / 1e6).toFixed(1)} ms`;

/** Set as soon as the lab starts: a Ctrl-C during start-up waits for it, then removes it. */
let lab: Promise<ClusterLab> | undefined;
let cleaning: Promise<void> | undefined;
const cleanup = () => {
  cleaning ??= (async () => {
    // A start that fails removes what it made itself.
    await (await lab?.catch(() => undefined))?.destroy();
    console.log(
      `\nremoved the namespaces, the bridge, etcd, HAProxy and every process (demo took ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
  })();
  return cleaning;
};

/** Keeps 4 requests in flight through HAProxy until `done` settles: a new server gets one at once. */
async function requestsUntil<T>(l: ClusterLab, done: Promise<T>): Promise<T> {
  let settled = false;
  const finished = done.finally(() => {
    settled = true;
  });
  const client = async () => {
    while (!settled) await l.get().catch(() => undefined);
  };
  const [value] = await Promise.all([finished, client(), client(), client(), client()]);
  return value;
}

/** Polls HAProxy until the server on port is out of rotation (in maintenance or deleted); returns when. */
async function unrouted(l: ClusterLab, port: number, withinMs: number): Promise<bigint> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const servers = await l.servers();
    if (!servers.some((s) => s.port === port && isRoutable(s))) return now();
    await sleep(2);
  }
  throw new Error(`port ${port} still in rotation after ${withinMs} ms`);
}

async function main(): Promise<void> {
  console.log("starting etcd, three hosts with an agent each, HAProxy and lbwatch run…");
  lab = startClusterLab({ hosts: 3, ttlSeconds: TTL_SECONDS });
  const l = await lab;
  console.log(`etcd on ${l.etcd.endpoints.join(", ")}; HAProxy on 127.0.0.1:${l.haproxy.port}`);
  for (const a of l.agents) {
    console.log(`  host ${a.host.name} at ${a.host.address}: lbwatch agent pid ${a.process?.pid}`);
  }
  const backends: TimedBackends[] = l.net.hosts.map((h) => startTimedBackends(h));
  const rows: string[] = [];
  const row = (what: string, host: number, port: number, took: string) => {
    const line = `${what.padEnd(22)} ${(l.net.hosts[host]?.name ?? "").padEnd(16)} ${String(port).padEnd(6)} ${took}`;
    rows.push(line);
    console.log(line);
  };
  await l.get().catch(() => undefined); // the first request loads Node's HTTP client: not lbwatch's time
  console.log(`\n${"step".padEnd(22)} ${"host".padEnd(16)} ${"port".padEnd(6)} time`);

  const come = async (host: number, n: number) => {
    const b = backends[host] as TimedBackends;
    const port = l.base + n;
    const listened = await b.listen(port);
    const served = await requestsUntil(l, b.served(port));
    row("listen → routed", host, port, ms(listened, served));
  };
  const go = async (host: number, n: number) => {
    const port = l.base + n;
    const closed = await (backends[host] as TimedBackends).close(port);
    row("close → unrouted", host, port, ms(closed, await unrouted(l, port, 3000)));
  };
  for (const [host, n] of [
    [0, 1],
    [1, 2],
    [2, 3],
    [0, 4],
    [2, 5],
  ] as const) {
    await come(host, n);
  }
  await go(1, 2);
  await go(0, 1);
  await come(1, 6);

  // A host dies: its agent stops renewing its lease, etcd deletes its keys after the TTL.
  const dying = l.agents[2];
  const killedAt = now();
  dying?.process?.signal("SIGKILL");
  // Both of its backends: the second is polled once the first is out, so this is when both were.
  let last = killedAt;
  for (const n of [3, 5]) last = await unrouted(l, l.base + n, TTL_SECONDS * 1000 + 3000);
  row("agent killed → unrouted", 2, l.base + 3, `${ms(killedAt, last)} (ttl ${TTL_SECONDS} s)`);

  const answers = new Set<string>();
  for (let i = 0; i < 12; i++) answers.add((await l.get()).body);
  console.log(`\nrequests now reach: ${[...answers].sort().join(", ")}`);
  const applied = l.harness.applied();
  const count = (activation: string) => applied.filter((a) => a.activation === activation).length;
  console.log(
    `HAProxy changed ${count("runtime-api")} times through the Runtime API, ${count("reload")} reloads; its config file written behind ${count("write")} times`,
  );
}

const watchdog = setTimeout(() => {
  console.error(`demo-cluster: not done after ${DEADLINE_MS / 1000} s, giving up`);
  void cleanup().finally(() => process.exit(1));
}, DEADLINE_MS);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}
main()
  .catch((err: unknown) => {
    console.error(`demo-cluster failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanup();
    clearTimeout(watchdog);
  });
