/** Shared test data for registry unit tests: listeners, configs and a logger that records. */
import { pino } from "pino";
import type { Config, ServiceRule } from "../../src/config/types.js";
import type { ListenEvent, Listener } from "../../src/probe/event.js";
import type { NetnsInspector } from "../../src/probe/netns-inspector.js";
import type { Backend } from "../../src/registry/backend.js";

export const HOST_NETNS = 4026531840;

export function listener(fields: Partial<Listener> = {}): Listener {
  return {
    pid: 100,
    tid: 100,
    comm: "python3",
    uid: 1000,
    gid: 1000,
    cgroupId: 7n,
    netns: HOST_NETNS,
    family: 4,
    addr: "0.0.0.0",
    port: 8000,
    backlog: 128,
    sock: 5000,
    ...fields,
  };
}

export function event(type: "listen" | "close", fields: Partial<ListenEvent> = {}): ListenEvent {
  return { ...listener(fields), type, ts: fields.ts ?? 1_000n };
}

export function config(services: ServiceRule[]): Config {
  return {
    file: "/etc/lbwatch.yaml",
    hostAddress: "127.0.0.1",
    hostAddress6: "::1",
    wait: { minMs: 20, maxMs: 500 },
    resyncMs: 60_000,
    services,
    targets: [],
    sources: [{ kind: "local" }],
  };
}

export const web: ServiceRule = { name: "web", ports: [{ from: 8000, to: 8099 }], netns: { kind: "any" } };

/** A pino logger at debug level whose lines land in `lines`. */
export function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: "debug", base: undefined, timestamp: false },
    { write: (s: string) => lines.push(JSON.parse(s)) },
  );
  return { log, lines };
}

/** A backend with fixed process fields, for render tests. */
export function backendAt(service: string, family: 4 | 6, address: string, port: number): Backend {
  const endpoint = family === 6 ? `[${address}]:${port}` : `${address}:${port}`;
  return {
    id: `id-${endpoint}`,
    service,
    address,
    port,
    endpoint,
    family,
    pid: 10,
    comm: "srv",
    uid: 0,
    netns: 1,
    backlog: 4096,
    host: "h1",
    source: "local",
    claim: String(port),
    since: 0,
    ready: true,
    // The port: unique within a service when the test's ports are, as HAProxy needs of server ids.
    slot: port,
  };
}

/** A network namespace as a fake inspector describes it. */
export interface FakeNetns {
  /** Owned by a user namespace other than the initial one (made by `unshare -U`). */
  foreignUserns?: boolean;
  v4?: string[];
  v6?: string[];
  /** Addresses the host routes into this namespace through its veth; the rest leave through eth0. */
  routed?: string[];
}

/**
 * An inspector over made-up namespaces, recording each question it is asked. Namespace i (in
 * `namespaces` order) has a veth eth0 (index 2 inside) whose host peer has index 100 + i.
 */
export function fakeInspector(namespaces: Record<number, FakeNetns | Error>) {
  const calls: string[] = [];
  const entries = Object.entries(namespaces).map(([netns, ns], i) => ({
    netns: Number(netns),
    ns,
    hostIndex: 100 + i,
  }));
  const find = (netns: number) => {
    const ns = entries.find((e) => e.netns === netns)?.ns ?? {};
    if (ns instanceof Error) throw ns;
    return ns;
  };
  const inspector: NetnsInspector = {
    async ownedByInitialUserns(pid, netns) {
      calls.push(`userns ${netns} via ${pid}`);
      return !find(netns).foreignUserns;
    },
    async facts(pid, netns) {
      calls.push(`facts ${netns} via ${pid}`);
      const ns = find(netns);
      const hostIndex = entries.find((e) => e.netns === netns)?.hostIndex ?? 0;
      return {
        addresses: { v4: ns.v4 ?? [], v6: ns.v6 ?? [] },
        links: [
          { ifindex: 1, name: "lo" },
          { ifindex: 2, name: "eth0", kind: "veth", peerIndex: hostIndex, peerNetnsid: 0 },
        ],
      };
    },
    async hostPath(ip) {
      calls.push(`route ${ip.address}`);
      const into = entries.find((e) => !(e.ns instanceof Error) && e.ns.routed?.includes(ip.address));
      if (!into) return { dev: "eth0", ports: [{ ifindex: 2, name: "eth0" }] };
      const name = `veth${into.hostIndex}`;
      return {
        dev: name,
        ports: [{ ifindex: into.hostIndex, name, kind: "veth", peerIndex: 2, peerNetnsid: 1 }],
      };
    },
  };
  return { inspector, calls };
}
