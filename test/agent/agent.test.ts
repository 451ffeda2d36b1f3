import { describe, expect, it } from "vitest";
import { localSourceConfig, startAgent } from "../../src/agent/agent.js";
import type { AgentConfig } from "../../src/config/agent-config.js";
import { decodeHostValue } from "../../src/etcd/values.js";
import { readBootId } from "../../src/sources/host-id.js";
import type { Source, SourceContext, SourceSink } from "../../src/sources/source.js";
import { packageVersion } from "../../src/version.js";
import { claim } from "../helpers/claims.js";
import { keyOf, layout, PREFIX } from "../helpers/etcd-keys.js";
import { etcdPerSuite } from "../helpers/etcd-suite.js";
import { captureLog } from "../targets/capture-log.js";

const H3 = "10.77.0.3";

function agentConfig(endpoints: string[]): AgentConfig {
  return {
    file: "/etc/lbwatch/agent.yaml",
    hostId: "web-3",
    advertiseAddress: H3,
    etcd: { endpoints, prefix: PREFIX, ttlSeconds: 10 },
    resyncMs: 0,
    services: [{ name: "web", ports: [{ from: 8000, to: 8099 }], netns: { kind: "any" } }],
  };
}

/** Stands for the local source: one full view at start, and what the test hands it after. */
class HandFedSource implements Source {
  readonly id = "local";
  readonly kind = "local";
  sink: SourceSink | undefined;
  ctx: SourceContext;
  closed = false;
  constructor(ctx: SourceContext) {
    this.ctx = ctx;
  }
  async start(sink: SourceSink) {
    this.sink = sink;
    sink.replace([claim(H3, 8000), claim(H3, 8001)], { reason: "initial" });
  }
  async resync() {}
  async reconfigure() {}
  async close() {
    this.closed = true;
  }
  status() {
    return { id: this.id, kind: this.kind, state: "ok" as const };
  }
}

describe("startAgent", () => {
  const t = etcdPerSuite();

  it("hands the local source a config whose wildcard addresses are the advertised ones", () => {
    const config = agentConfig(["http://127.0.0.1:2379"]);
    expect(localSourceConfig(config)).toMatchObject({
      hostAddress: H3,
      hostAddress6: H3,
      services: config.services,
    });
    expect(localSourceConfig({ ...config, advertiseAddress6: "fd00::3" })).toMatchObject({
      hostAddress6: "fd00::3",
    });
  });

  it("publishes what the local source claims, with a host key naming this agent, and stops without revoking", async () => {
    let local: HandFedSource | undefined;
    const { log } = captureLog();
    const agent = await startAgent({
      config: agentConfig(t.cluster.endpoints),
      log,
      createLocal: (ctx) => {
        local = new HandFedSource(ctx);
        return local;
      },
    });
    await agent.publisher.idle();
    local?.sink?.update([claim(H3, 8002)], [claim(H3, 8000).key]);
    await agent.publisher.idle();
    const keys = (await t.client.getAll().prefix(layout.backends).keys()).sort();
    expect(keys).toEqual(
      [keyOf("web", "web-3", claim(H3, 8001)), keyOf("web", "web-3", claim(H3, 8002))].sort(),
    );
    const host = decodeHostValue(Buffer.from((await t.client.get(`${layout.hosts}web-3`).string()) ?? ""));
    expect(host).toEqual({
      value: {
        version: packageVersion(),
        bootId: await readBootId(),
        startTime: expect.any(Number),
        addresses: expect.arrayContaining([H3]),
      },
    });
    expect(local?.ctx).toMatchObject({ hostId: "web-3", once: false });
    await agent.close();
    expect(local?.closed).toBe(true);
    expect(await t.client.getAll().prefix(layout.backends).keys()).toHaveLength(2);
  });
});
