/** Shared test data for registry unit tests: listeners, configs and a logger that records. */
import { pino } from "pino";
import type { Config, ServiceRule } from "../../src/config/types.js";
import type { ListenEvent, Listener } from "../../src/probe/event.js";
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
    sock: port,
  };
}
