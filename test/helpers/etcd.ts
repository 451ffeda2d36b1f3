/**
 * Real etcd 3.4 processes for tests (Debian's etcd-server): each member in its own temp data dir on
 * free ports, started, waited for until /health says so, stopped (SIGTERM, then SIGKILL) and removed.
 * A cluster of 3 lets a test kill one member and start it again on the same dir and ports.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Etcd3, type IOptions } from "etcd3";
import { execa, type ResultPromise } from "execa";
import { freePort } from "./haproxy.js";
import type { TestPki } from "./test-pki.js";

export interface EtcdOptions {
  /** Address the members listen on (a bridge address for netns tests); default 127.0.0.1. */
  host?: string;
  /** etcd's --experimental-watch-progress-notify-interval (default 10m), e.g. "500ms". */
  progressNotify?: string;
  /** --election-timeout in ms (etcd's default: 1000); the heartbeat stays at a tenth of it. */
  electionTimeoutMs?: number;
  /**
   * Clients over TLS only (https:// URLs) with `server`'s certificate, and a client certificate that
   * `ca` signed required (--client-cert-auth). /health is then read on a plain metrics URL.
   */
  tls?: TestPki;
  /** Authentication enabled once started, with a user `root` of this password; the helper's clients log in as root. */
  rootPassword?: string;
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
  /** A client on every member (root, with the client certificate, when so started); closed by destroy(). */
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
  /** Where /health answers without a client certificate: clientUrl, or a plain metrics URL beside a TLS one. */
  healthUrl: string;
  peerUrl: string;
  dataDir: string;
}

function tlsArgv(plan: MemberPlan, tls: TestPki | undefined): string[] {
  if (!tls) return [];
  return [
    "--cert-file",
    tls.server.cert,
    "--key-file",
    tls.server.key,
    "--client-cert-auth",
    "--trusted-ca-file",
    tls.ca,
    "--listen-metrics-urls",
    plan.healthUrl,
  ];
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
    ...tlsArgv(plan, options.tls),
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
      while (!(await healthy(plan.healthUrl))) {
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
  const scheme = options.tls ? "https" : "http";
  for (let i = 0; i < size; i++) {
    const clientUrl = `${scheme}://${host}:${await freePort(host)}`;
    plans.push({
      name: `m${i}`,
      clientUrl,
      healthUrl: options.tls ? `http://${host}:${await freePort(host)}` : clientUrl,
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
  const base: IOptions = {
    hosts: endpoints,
    ...(options.tls ? { credentials: await credentials(options.tls) } : {}),
  };
  const password = options.rootPassword;
  if (password !== undefined) {
    const bootstrap = new Etcd3(base);
    try {
      await enableAuth(bootstrap, password);
    } catch (err) {
      bootstrap.close();
      await destroy();
      throw err;
    }
    bootstrap.close();
  }
  const clientOptions: IOptions = {
    ...base,
    ...(password === undefined ? {} : { auth: { username: "root", password } }),
  };
  const admin = new Etcd3(clientOptions);
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
      const client = new Etcd3(clientOptions);
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

async function credentials(tls: TestPki): Promise<NonNullable<IOptions["credentials"]>> {
  return {
    rootCertificate: await readFile(tls.ca),
    certChain: await readFile(tls.client.cert),
    privateKey: await readFile(tls.client.key),
  };
}

/** What `etcdctl user add root && etcdctl auth enable` does: etcd wants a root user in a root role first. */
async function enableAuth(client: Etcd3, rootPassword: string): Promise<void> {
  await client.role("root").create();
  await client.user("root").create(rootPassword);
  await client.user("root").addRole("root");
  await client.auth.authEnable({});
}

/** One member: the usual case. */
export function startEtcd(options: EtcdOptions = {}): Promise<EtcdCluster> {
  return startEtcdCluster(1, options);
}
