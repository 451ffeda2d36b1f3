/**
 * Several hosts behind one load balancer, wired as an operator would: simulated hosts (network
 * namespaces on a bridge, hosts.ts), each running `bin/lbwatch agent` inside its namespace; etcd on the
 * bridge; in the host namespace a real HAProxy on the shipped template and `bin/lbwatch run` with an
 * etcd source beside the local one, reaching the backends over the bridge. For the multi-host tests,
 * `make demo-cluster` and bench/cluster.ts, so all three run the same system.
 *
 * Service `web` is fed only by agents: each agent publishes its own namespace's listeners on web's 100
 * ports (an agent sees every namespace, so its rule names its own). `dual`, when asked for, is also a
 * local service of `run` for one host's namespace: the same backend then reaches `run` twice.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LbwatchOptions, type LbwatchRun, startLbwatch } from "../cli/lbwatch-process.js";
import { type Harness, type ServiceLines, startHaproxyHarness } from "../e2e/lb-harness.js";
import { type EtcdCluster, startEtcdCluster } from "./etcd.js";
import { type RunningHaproxy, serversState } from "./haproxy.js";
import { createSimulatedHosts, type SimulatedHost, type SimulatedNetwork } from "./hosts.js";
import { get, type HttpAnswer } from "./http.js";

export interface ClusterLabOptions {
  hosts: number;
  /** etcd members (default 1). */
  etcdMembers?: number;
  /** Every agent's lease TTL. */
  ttlSeconds: number;
  /**
   * Service `dual` on port `dualPort` of host `host`'s namespace: a backend there is claimed by run's
   * local source and by that host's agent.
   */
  dual?: { host: number };
  /** Extra services of run only (fed by publishers a bench starts), as lines of their rules. */
  services?: ServiceLines;
  /** How long every lbwatch process may live (default 60 s). */
  lifetimeMs?: number;
  /** Port-block slot of web's ports (lb-harness.ts). */
  slot?: number;
}

export interface LabAgent {
  readonly host: SimulatedHost;
  /** Undefined while stopped. */
  readonly process: LbwatchRun | undefined;
  /** Starts it (again) and resolves once it published its whole set. */
  start(): Promise<LbwatchRun>;
}

export interface ClusterLab {
  net: SimulatedNetwork;
  etcd: EtcdCluster;
  haproxy: RunningHaproxy;
  harness: Harness;
  /** `lbwatch run`. */
  run: LbwatchRun;
  agents: LabAgent[];
  prefix: string;
  /** First of web's 100 ports. */
  base: number;
  /** dual's port: the one after web's. */
  dualPort: number;
  /** `show servers state` of be_<service>. */
  servers(service?: string): ReturnType<typeof serversState>;
  /** The render of `{{#each services.web.backends}}{{id}} {{host}}\n{{/each}}`, as last written. */
  hostsFile(): Promise<string>;
  /** A GET through HAProxy routed to `service`. */
  get(service?: string): Promise<HttpAnswer>;
  /** Stops everything it started and removes what it made; idempotent. */
  destroy(): Promise<void>;
}

export const LAB_PREFIX = "/lbwatch-lab";
/** A second target of run: each web backend's id and the `host` its template context carries. */
const HOSTS_FILE = "hosts.txt";
const HOSTS_TEMPLATE = "{{#each services.web.backends}}{{id}} {{host}}\n{{/each}}";

function agentConfig(
  lab: { prefix: string; base: number },
  etcd: EtcdCluster,
  host: SimulatedHost,
  ttl: number,
  dualPort?: number,
): string {
  const netns = `/run/netns/${host.name}`;
  return [
    `hostId: ${host.name}`,
    `etcd: { endpoints: ${JSON.stringify(etcd.endpoints)}, prefix: ${lab.prefix}, ttl: ${ttl}s }`,
    "resync: 0",
    "services:",
    `  web: { ports: [${lab.base}-${lab.base + 99}], netns: ${netns} }`,
    ...(dualPort === undefined ? [] : [`  dual: { ports: [${dualPort}], netns: ${netns} }`]),
    "",
  ].join("\n");
}

export async function startClusterLab(options: ClusterLabOptions): Promise<ClusterLab> {
  const cleanups: (() => Promise<void>)[] = [];
  const destroy = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const net = await createSimulatedHosts(options.hosts);
    cleanups.push(() => net.destroy());
    const etcd = await startEtcdCluster(options.etcdMembers ?? 1, { host: net.gateway });
    cleanups.push(() => etcd.destroy());
    const prefix = LAB_PREFIX;
    const run: LbwatchOptions = { timeoutMs: options.lifetimeMs ?? 60_000 };
    const dual = options.dual;
    const dualHost = dual === undefined ? undefined : net.hosts[dual.host];
    const harness = await startHaproxyHarness(options.slot ?? 0, {
      extra: [
        "sources:",
        "  - local: {}",
        `  - etcd: { endpoints: ${JSON.stringify(etcd.endpoints)}, prefix: ${prefix} }`,
      ],
      services: (base) => ({
        web: [],
        ...(dualHost
          ? { dual: [`ports: [${base + 100}]`, "uid: [0]", `netns: /run/netns/${dualHost.name}`] }
          : {}),
        ...options.services,
      }),
      files: { [HOSTS_FILE]: HOSTS_TEMPLATE },
      run,
    });
    cleanups.push(() => harness.stop());
    const lab = { prefix, base: harness.base };
    const dualPort = harness.base + 100;
    const dir = await mkdtemp(join(tmpdir(), "lbwatch-lab-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const agents = net.hosts.map((host, i): LabAgent => {
      const file = join(dir, `${host.name}.yaml`);
      let current: LbwatchRun | undefined;
      return {
        host,
        get process() {
          return current;
        },
        async start() {
          await writeFile(
            file,
            agentConfig(lab, etcd, host, options.ttlSeconds, i === dual?.host ? dualPort : undefined),
          );
          current = await startLbwatch(["agent", "-c", file], {
            ...run,
            spawn: (argv, o) => host.spawn(argv, o),
            ready: "published the whole set",
          });
          const started = current;
          void started.exited().then(() => {
            if (current === started) current = undefined;
          });
          return started;
        },
      };
    });
    cleanups.push(async () => {
      await Promise.all(agents.map((a) => a.process?.stop()));
    });
    await Promise.all(agents.map((a) => a.start()));
    return {
      net,
      etcd,
      haproxy: harness.haproxy,
      harness,
      run: harness.run,
      agents,
      prefix,
      base: harness.base,
      dualPort,
      servers: (service = "web") => serversState(harness.haproxy.statsSocket, `be_${service}`),
      hostsFile: () => readFile(join(harness.ws.dir, HOSTS_FILE), "utf8").catch(() => ""),
      get: (service = "web") => get(harness.haproxy.port, { host: service }),
      destroy,
    };
  } catch (err) {
    await destroy();
    throw err;
  }
}
