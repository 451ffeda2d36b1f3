import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultRouteAddress } from "../../src/agent/host-addresses.js";
import { type AgentConfig, loadAgentConfig } from "../../src/config/agent-config.js";
import type { LbwatchError } from "../../src/errors.js";

describe("loadAgentConfig", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "lbwatch-agent-config-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const load = async (yaml: string) => {
    const file = join(dir, "agent.yaml");
    await writeFile(file, yaml);
    return loadAgentConfig(file);
  };
  const problems = (yaml: string) =>
    load(yaml).then(
      () => "",
      (err: LbwatchError) => `${err.code}\n${err.message}`,
    );

  it("reads the issue's example", async () => {
    const config = await load(`hostId: web-3
advertiseAddress: 10.0.0.3
etcd: { endpoints: ["http://10.0.0.1:2379"], prefix: /lbwatch, ttl: 10s }
services:
  web: { ports: [8000-8099], uid: [1000] }
`);
    expect(config).toEqual<AgentConfig>({
      file: join(dir, "agent.yaml"),
      hostId: "web-3",
      advertiseAddress: "10.0.0.3",
      ...(await defaultRouteAddress(6).then((a) => (a ? { advertiseAddress6: a } : {}))),
      etcd: { endpoints: ["http://10.0.0.1:2379"], prefix: "/lbwatch", ttlSeconds: 10 },
      resyncMs: 60_000,
      services: [{ name: "web", ports: [{ from: 8000, to: 8099 }], uid: [1000], netns: { kind: "any" } }],
    });
  });

  it("defaults hostId to the machine id (at start), the address to the default route's and the ttl to 10 s", async () => {
    const config = await load(`etcd: { endpoints: ["http://10.0.0.1:2379"] }
services: { web: { ports: [8000] } }
advertiseAddress6: "fd00::3"
`);
    expect(config.hostId).toBeUndefined();
    expect(config.advertiseAddress).toBe(await defaultRouteAddress(4));
    expect(config.advertiseAddress6).toBe("fd00::3");
    expect(config.etcd).toEqual({ endpoints: ["http://10.0.0.1:2379"], prefix: "/lbwatch", ttlSeconds: 10 });
  });

  it("reports every problem at once with its key path, as E_CONFIG", async () => {
    expect(
      await problems(`hostId: "web 3"
advertiseAddress: 127.0.0.1
advertiseAddress6: 10.0.0.3
etcd: { endpoints: [10.0.0.1], prefix: lbwatch, ttl: 1500ms, lease: 3 }
targets: []
services:
  web: {}
  api: { ports: [80x] }
`),
    ).toBe(
      [
        "E_CONFIG",
        "targets: unknown key; known keys: hostId, advertiseAddress, advertiseAddress6, etcd, resync, services",
        'hostId: "web 3" is not a host id: letters, digits, _ . - (at most 253), e.g. web-3',
        "advertiseAddress: 127.0.0.1 is loopback: other hosts cannot reach it there",
        'advertiseAddress6: "10.0.0.3" is not an IPv6 address',
        "etcd.lease: unknown key; known keys: endpoints, prefix, tls, auth, ttl",
        'etcd.ttl: "1500ms": must be whole seconds, at least 2s (etcd leases count seconds)',
        'etcd.endpoints[0]: "10.0.0.1" is not an etcd client URL such as http://10.0.0.1:2379',
        'etcd.prefix: "lbwatch" is not a key prefix such as /lbwatch ("/" and names of letters, digits, _ . -, no trailing "/")',
        'services.api.ports[0]: "80x" is not a port or range (1-65535, e.g. 9000 or 8000-8099)',
        "services.web.ports: required for an agent: the ports it publishes",
      ].join("\n"),
    );
    expect(await problems("services: { web: { ports: [80] } }\n")).toBe(
      "E_CONFIG\netcd: must be a mapping with keys endpoints, prefix, tls, auth, ttl\n" +
        'etcd.endpoints: must be a non-empty list of client URLs such as ["http://10.0.0.1:2379"]',
    );
  });
});
