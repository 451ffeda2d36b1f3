/**
 * Several hosts on one machine: network namespaces on a bridge, etcd on the bridge in the host
 * namespace, a publisher process per host (the agent's own publishing code, without a probe), and the
 * etcd source where the load balancer runs. The whole system (agents, HAProxy, lbwatch run) is
 * cluster-haproxy.test.ts.
 */
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EtcdSourceConfig } from "../../src/config/types.js";
import { createEtcdSource } from "../../src/sources/etcd-source.js";
import { type EtcdCluster, startEtcd } from "../helpers/etcd.js";
import { createSimulatedHosts, type SimulatedNetwork } from "../helpers/hosts.js";
import { publishedBy, publisherArgv } from "../helpers/publisher-run.js";
import { RecordingSink } from "../helpers/recording-sink.js";
import { config } from "../registry/fakes.js";
import { captureLog } from "../targets/capture-log.js";

const PREFIX = "/lbwatch-cluster";
const TTL_SECONDS = 3;

function greeting(address: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port, timeout: 2000 });
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString();
    });
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
    socket.on("timeout", () => reject(new Error(`no answer from ${address}:${port}`)));
  });
}

describe("several hosts through etcd", () => {
  let net: SimulatedNetwork;
  let etcd: EtcdCluster;
  beforeAll(async () => {
    net = await createSimulatedHosts(2);
    etcd = await startEtcd({ host: net.gateway });
  }, 30_000);
  afterAll(async () => {
    await etcd?.destroy();
    await net?.destroy();
  });

  it("delivers each host's backends on its own address, reachable from here, until its publisher dies", async () => {
    const [h0, h1] = net.hosts;
    if (!h0 || !h1) throw new Error("two hosts expected");
    const server = "require('net').createServer((s) => s.end(process.argv[1])).listen(8000, '0.0.0.0')";
    h0.spawn([process.execPath, "-e", server, h0.name]);
    const publishers = net.hosts.map((h) =>
      h.spawn(
        publisherArgv({
          endpoints: etcd.endpoints,
          prefix: PREFIX,
          hostId: h.name,
          ttlSeconds: TTL_SECONDS,
          address: h.address,
          ports: [8000],
        }),
      ),
    );
    await Promise.all(publishers.map(publishedBy));

    const cfg: EtcdSourceConfig = {
      kind: "etcd",
      id: "etcd-0",
      endpoints: etcd.endpoints,
      prefix: PREFIX,
      skipLocalHost: false,
    };
    const { log } = captureLog();
    const source = createEtcdSource(
      {
        config: { ...config([{ name: "web", ports: [], netns: { kind: "any" } }]), sources: [cfg] },
        log,
        hostId: "lb",
        once: false,
      },
      cfg,
    );
    const sink = new RecordingSink();
    try {
      await source.start(sink);
      const seen = () => [...sink.claims.values()].map((c) => [c.host, c.address, c.port]).sort();
      expect(seen()).toEqual([
        [h0.name, h0.address, 8000],
        [h1.name, h1.address, 8000],
      ]);
      expect(await greeting(h0.address, 8000)).toBe(h0.name);

      const killedAt = Date.now();
      publishers[1]?.kill("SIGKILL");
      await sink.waitFor("host 1's backend to leave", () => sink.claims.size === 1, 10_000);
      expect(Date.now() - killedAt).toBeLessThan(TTL_SECONDS * 1000 + etcd.electionTimeoutMs + 1000);
      expect(seen()).toEqual([[h0.name, h0.address, 8000]]);
    } finally {
      await source.close();
    }
  }, 40_000);
});
