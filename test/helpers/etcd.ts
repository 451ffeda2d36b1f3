/**
 * Real etcd 3.4 processes for tests (Debian's etcd-server): each member in its own temp data dir on
 * free ports, started, waited for until /health says so, stopped (SIGTERM, then SIGKILL) and removed.
 * A cluster of 3 lets a test kill one member and start it again on the same dir and ports.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Etcd3 } from "etcd3";
import { execa, type ResultPromise } from "execa";
import { freePort } from "./haproxy.js";

export interface EtcdOptions {
  /** Address the members listen on (a bridge address for netns tests); default 127.0.0.1. */
  host?: string;
  /** etcd's --experimental-watch-progress-notify-interval (default 10m), e.g. "500ms". */
  progressNotify?: string;
  /** --election-timeout in ms (etcd's default: 1000); the heartbeat stays at a tenth of it. */
  electionTimeoutMs?: number;
}

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly dataDir: string;
  /** Undefined while stopped. */
  readonly pid: number | undefined;
  /** Starts it again on the same data dir and ports, and waits until it is healthy. */
  start(): Promise<void>;
  /** SIGKILL, as a crash: nothing is flushed or handed over. */
  kill(): Promise<void>;
  /** SIGTERM, SIGKILL after `graceMs` (default 5 s). */
  stop(graceMs?: number): Promise<void>;
}

export interface EtcdCluster {
  readonly members: EtcdMember[];
  /** Every member's client URL, for a client's `hosts` or lbwatch's `endpoints`. */
  readonly endpoints: string[];
  readonly electionTimeoutMs: number;
  /** A client on every member; closed by destroy(). */
  client(): Etcd3;
  /** The store's current revision. */
  revision(): Promise<number>;
  /** Compacts the history up to `revision` (default: the current one) and returns it. */
  compact(revision?: number): Promise<number>;
  /** Stops every member and removes the data dirs. */
  destroy(): Promise<void>;
}

const HEALTH_TIMEOUT_MS = 15_000;

async function healthy(clientUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
    return ((await res.json()) as { health?: string }).health === "true";
  } catch {
    return false;
  }
}

interface MemberPlan {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
}

function memberArgv(plan: MemberPlan, all: MemberPlan[], token: string, options: EtcdOptions): string[] {
  const election = options.electionTimeoutMs ?? 1000;
  return [
    "--name",
    plan.name,
    "--data-dir",
    plan.dataDir,
    "--listen-client-urls",
    plan.clientUrl,
    "--advertise-client-urls",
    plan.clientUrl,
    "--listen-peer-urls",
    plan.peerUrl,
    "--initial-advertise-peer-urls",
    plan.peerUrl,
    "--initial-cluster",
    all.map((m) => `${m.name}=${m.peerUrl}`).join(","),
    "--initial-cluster-state",
    "new",
    "--initial-cluster-token",
    token,
    "--election-timeout",
    String(election),
    "--heartbeat-interval",
    String(Math.max(10, Math.round(election / 10))),
    "--experimental-watch-progress-notify-interval",
    options.progressNotify ?? "10m",
    "--logger",
    "zap",
    "--log-level",
    "error",
  ];
}

function createMember(
  plan: MemberPlan,
  argv: string[],
): EtcdMember & { spawn(): void; waitHealthy(): Promise<void> } {
  let child: ResultPromise | undefined;
  const end = async (signal: "SIGTERM" | "SIGKILL", graceMs = 5000) => {
    const running = child;
    if (!running) return;
    running.kill(signal);
    const timer = setTimeout(() => running.kill("SIGKILL"), graceMs);
    await running;
    clearTimeout(timer);
    child = undefined;
  };
  const member = {
    name: plan.name,
    clientUrl: plan.clientUrl,
    dataDir: plan.dataDir,
    get pid() {
      return child?.pid;
    },
    spawn() {
      child = execa("etcd", argv, {
        reject: false,
        stdin: "ignore",
        stdout: "ignore",
        stderr: { file: join(plan.dataDir, "..", `${plan.name}.log`), append: true },
      });
    },
    async waitHealthy() {
      const deadline = Date.now() + HEALTH_TIMEOUT_MS;
      while (!(await healthy(plan.clientUrl))) {
        if (child?.exitCode !== null && child?.exitCode !== undefined) {
          throw new Error(
            `etcd ${plan.name} exited with ${child.exitCode}; see ${plan.dataDir}/../${plan.name}.log`,
          );
        }
        if (Date.now() > deadline)
          throw new Error(`etcd ${plan.name} not healthy after ${HEALTH_TIMEOUT_MS} ms`);
        await sleep(50);
      }
    },
    async start() {
      if (child) return;
      member.spawn();
      await member.waitHealthy();
    },
    kill: () => end("SIGKILL"),
    stop: (graceMs?: number) => end("SIGTERM", graceMs),
  };
  return member;
}

/** Starts `size` members (1 or 3 in practice) as one cluster and waits until every one is healthy. */
export async function startEtcdCluster(size: number, options: EtcdOptions = {}): Promise<EtcdCluster> {
  const root = await mkdtemp(join(tmpdir(), "lbwatch-etcd-"));
  const host = options.host ?? "127.0.0.1";
  const plans: MemberPlan[] = [];
  for (let i = 0; i < size; i++) {
    plans.push({
      name: `m${i}`,
      clientUrl: `http://${host}:${await freePort(host)}`,
      peerUrl: `http://${host}:${await freePort(host)}`,
      dataDir: join(root, `m${i}`),
    });
  }
  const token = `lbwatch-test-${process.pid}-${Date.now()}`;
  const members = plans.map((plan) => createMember(plan, memberArgv(plan, plans, token, options)));
  const clients: Etcd3[] = [];
  const destroy = async () => {
    for (const c of clients) c.close();
    // A leader stopped with its followers may wait out a leadership transfer: a short grace is enough,
    // the data dirs go anyway.
    await Promise.all(members.map((m) => m.stop(1000)));
    await rm(root, { recursive: true, force: true });
  };
  try {
    // Every member must be running before any can elect a leader: spawn all, then wait.
    for (const m of members) m.spawn();
    await Promise.all(members.map((m) => m.waitHealthy()));
  } catch (err) {
    await destroy();
    throw err;
  }
  const endpoints = plans.map((p) => p.clientUrl);
  const admin = new Etcd3({ hosts: endpoints });
  clients.push(admin);
  const revision = async () => {
    const res = await admin.kv.range({ key: Buffer.from("\0") });
    return Number(res.header.revision);
  };
  return {
    members,
    endpoints,
    electionTimeoutMs: options.electionTimeoutMs ?? 1000,
    client() {
      const client = new Etcd3({ hosts: endpoints });
      clients.push(client);
      return client;
    },
    revision,
    async compact(at) {
      const target = at ?? (await revision());
      await admin.kv.compact({ revision: target, physical: true });
      return target;
    },
    destroy,
  };
}

/** One member: the usual case. */
export function startEtcd(options: EtcdOptions = {}): Promise<EtcdCluster> {
  return startEtcdCluster(1, options);
}
