import { setTimeout as sleep } from "node:timers/promises";
import type { Etcd3 } from "etcd3";
import { afterEach, describe, expect, it } from "vitest";
import type { Config, EtcdSourceConfig } from "../../src/config/types.js";
import { createEtcdSource, type EtcdSourceTuning } from "../../src/sources/etcd-source.js";
import type { BackendClaim, Source } from "../../src/sources/source.js";
import { backendValue, claimOf, keyOf, layout, PREFIX, putBackend, putHost } from "../helpers/etcd-keys.js";
import { etcdPerSuite } from "../helpers/etcd-suite.js";
import { RecordingSink } from "../helpers/recording-sink.js";
import { config as registryConfig } from "../registry/fakes.js";
import { captureLog } from "../targets/capture-log.js";

const H3 = "10.77.0.3";
const H4 = "10.77.0.4";

function config(services: string[], sources: EtcdSourceConfig[]): Config {
  const rules = services.map((name) => ({ name, ports: [], netns: { kind: "any" as const } }));
  return { ...registryConfig(rules), resyncMs: 0, sources };
}

interface Started {
  source: Source;
  sink: RecordingSink;
  lines: Record<string, unknown>[];
}

const running: Source[] = [];

async function startSource(
  endpoints: string[],
  options: { services?: string[]; hostId?: string; skipLocalHost?: boolean; tuning?: EtcdSourceTuning } = {},
): Promise<Started> {
  const cfg: EtcdSourceConfig = {
    kind: "etcd",
    id: "etcd-0",
    endpoints,
    prefix: PREFIX,
    skipLocalHost: options.skipLocalHost ?? false,
  };
  const { log, lines } = captureLog();
  const ctx = {
    config: config(options.services ?? ["web"], [cfg]),
    log,
    hostId: options.hostId ?? "lb",
    once: false,
  };
  const source = createEtcdSource(ctx, cfg, { probeMs: 500, ...options.tuning });
  running.push(source);
  const sink = new RecordingSink();
  await source.start(sink);
  return { source, sink, lines };
}

/** What a fresh reader would conclude from etcd now: each web backend key whose value parses. */
async function expectedClaims(client: Etcd3, hostId: string): Promise<Map<string, BackendClaim>> {
  const values = await client.getAll().prefix(`${layout.backends}web/${hostId}/`).json();
  return new Map(
    Object.values(values).map((v) => {
      const claim = claimOf("web", hostId, v as ReturnType<typeof backendValue>);
      return [claim.key, claim];
    }),
  );
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

describe("etcd source against one etcd", () => {
  const t = etcdPerSuite();
  afterEach(() => t.client.delete().prefix(PREFIX));

  it("replaces with the listing, then turns each put and delete into an update", async () => {
    await putHost(t.client, "web-3", [H3]);
    const a = await putBackend(t.client, "web", "web-3", backendValue(H3, 8000));
    const b = await putBackend(
      t.client,
      "web",
      "web-3",
      backendValue(H3, 8001, { cgroup: "/system.slice/web.service" }),
    );
    const { source, sink } = await startSource(t.cluster.endpoints);
    expect(sink.calls).toEqual([
      { type: "replace", info: { reason: "initial" }, keys: [a.key, b.key].sort() },
    ]);
    expect(sink.claims.get(b.key)).toEqual(b);

    const c = await putBackend(t.client, "web", "web-3", backendValue(H3, 8002, { pid: 77, comm: "node" }));
    await sink.waitFor("the put", () => sink.claims.has(c.key));
    await t.client.delete().key(a.key);
    await sink.waitFor("the delete", () => !sink.claims.has(a.key));
    expect(sink.calls.slice(1)).toEqual([
      { type: "update", upserts: [c.key], removals: [] },
      { type: "update", upserts: [], removals: [a.key] },
    ]);
    expect([...sink.claims.values()]).toEqual([b, c]);
    expect(source.status()).toMatchObject({ id: "etcd-0", kind: "etcd", state: "ok" });
    expect(source.status().figures?.revision).toBe(await t.cluster.revision());
  });

  it("misses nothing that changes while it lists and starts to watch", async () => {
    await putHost(t.client, "web-3", [H3]);
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const value = backendValue(H3, 8000 + (i % 40), { pid: i });
        if (i % 3 === 2) await t.client.delete().key(keyOf("web", "web-3", value));
        else await putBackend(t.client, "web", "web-3", value);
      }
    })();
    await sleep(30);
    const { sink } = await startSource(t.cluster.endpoints);
    // Writes went on while it listed, while its watch was being created, and after.
    await sleep(300);
    writing = false;
    await writer;
    expect(sink.calls[0]).toMatchObject({
      type: "replace",
      keys: expect.arrayContaining([expect.any(String)]),
    });
    const expected = await expectedClaims(t.client, "web-3");
    await sink.waitFor(
      "the final state",
      () => JSON.stringify([...sink.claims].sort()) === JSON.stringify([...expected].sort()),
    );
    expect(new Map([...sink.claims].sort())).toEqual(new Map([...expected].sort()));
    expect(sink.calls.slice(1).every((c) => c.type === "update")).toBe(true);
    expect(sink.calls.length).toBeGreaterThan(10);
  });

  it("relists when compaction cancels its watch, delivering only what changed", async () => {
    await putHost(t.client, "web-3", [H3]);
    const kept = await putBackend(t.client, "web", "web-3", backendValue(H3, 8000));
    const gone = await putBackend(t.client, "web", "web-3", backendValue(H3, 8001));
    let compacted = false;
    let added: BackendClaim | undefined;
    // Between the listing and the watch: what a watch stopped for a while would find on resuming.
    const afterList = async () => {
      if (compacted) return;
      compacted = true;
      added = await putBackend(t.client, "web", "web-3", backendValue(H3, 8002));
      await t.client.delete().key(gone.key);
      await t.cluster.compact();
    };
    const { sink, lines } = await startSource(t.cluster.endpoints, { tuning: { afterList } });
    await sink.waitFor("the relist", () => sink.calls.length === 2);
    expect(sink.calls[1]).toEqual({
      type: "replace",
      info: {
        reason: "relist",
        wrong: { count: 2, keys: [gone.key, added?.key], sample: [gone.key, added?.key] },
      },
      keys: [kept.key, added?.key].sort(),
    });
    expect(lines.filter((l) => l.msg === "watch cancelled: listing again")).toHaveLength(1);
    const later = await putBackend(t.client, "web", "web-3", backendValue(H3, 8003));
    await sink.waitFor("a put after the relist", () => sink.claims.has(later.key));
  });

  it("ignores each bad value with one warning, and accepts a later good value for the key", async () => {
    await putHost(t.client, "web-3", [H3]);
    await putHost(t.client, "bad-host", ["127.0.0.1"]);
    const good = await putBackend(t.client, "web", "web-3", backendValue(H3, 8000));
    const bad = {
      notJson: `${layout.backends}web/web-3/b10_77_0_3_8001`,
      wrongType: keyOf("web", "web-3", backendValue(H3, 8002)),
      extraField: keyOf("web", "web-3", backendValue(H3, 8003)),
      loopback: keyOf("web", "web-3", backendValue("127.0.0.1", 8004)),
      notAdvertised: keyOf("web", "web-3", backendValue(H4, 8005)),
      idMismatch: `${layout.backends}web/web-3/b10_77_0_3_9999`,
      noHostKey: keyOf("web", "web-9", backendValue(H3, 8006)),
      badHostKey: keyOf("web", "bad-host", backendValue(H3, 8007)),
      strayKey: `${layout.root}other/thing`,
    };
    await t.client.put(bad.notJson).value("{not json");
    await t.client.put(bad.wrongType).value(JSON.stringify({ ...backendValue(H3, 8002), pid: "42" }));
    await t.client.put(bad.extraField).value(JSON.stringify({ ...backendValue(H3, 8003), weight: 5 }));
    await putBackend(t.client, "web", "web-3", backendValue("127.0.0.1", 8004));
    await putBackend(t.client, "web", "web-3", backendValue(H4, 8005));
    await t.client.put(bad.idMismatch).value(JSON.stringify(backendValue(H3, 8008)));
    await putBackend(t.client, "web", "web-9", backendValue(H3, 8006));
    await putBackend(t.client, "web", "bad-host", backendValue(H3, 8007));
    await t.client.put(bad.strayKey).value("x");
    await putBackend(t.client, "other", "web-3", backendValue(H3, 8009));
    await putBackend(t.client, "other", "web-3", backendValue(H3, 8010));

    const { source, sink, lines } = await startSource(t.cluster.endpoints);
    expect(sink.keys()).toEqual([good.key]);
    // The same bad values again, through the watch and through a relist: no second warning.
    await t.client.put(bad.notJson).value("{still not json");
    await source.resync("timer");
    const warned = () => lines.filter((l) => l.msg === "ignoring a bad value under the etcd prefix");
    const expectedKeys = [...Object.values(bad), `${layout.hosts}bad-host`].sort();
    expect(
      warned()
        .map((l) => l.key)
        .sort(),
    ).toEqual(expectedKeys);
    expect(warned().find((l) => l.key === bad.wrongType)?.reason).toBe("pid must be an integer 0-4294967295");
    expect(warned().find((l) => l.key === bad.loopback)?.reason).toBe("address: loopback");
    expect(warned().find((l) => l.key === bad.notAdvertised)?.reason).toBe(
      "address 10.77.0.4 is not one host web-3 advertises",
    );
    expect(lines.filter((l) => l.msg === "ignoring backends of a service this config does not name")).toEqual(
      [expect.objectContaining({ service: "other" })],
    );

    const fixed = await putBackend(t.client, "web", "web-3", backendValue(H3, 8001));
    expect(fixed.key).toBe(bad.notJson);
    await putHost(t.client, "web-3", [H3, H4]);
    const accepted = claimOf("web", "web-3", backendValue(H4, 8005));
    await sink.waitFor("the fixed values", () => sink.claims.has(fixed.key) && sink.claims.has(accepted.key));
    expect(sink.keys()).toEqual([good.key, fixed.key, accepted.key].sort());
    expect(warned()).toHaveLength(expectedKeys.length);
  });

  it("drops claims of its own host when a local source has them, and adds services on reconfigure", async () => {
    await putHost(t.client, "lb", [H3]);
    await putHost(t.client, "web-4", [H4]);
    await putBackend(t.client, "web", "lb", backendValue(H3, 8000));
    const remote = await putBackend(t.client, "web", "web-4", backendValue(H4, 8000));
    const api = await putBackend(t.client, "api", "web-4", backendValue(H4, 9000));
    const { source, sink } = await startSource(t.cluster.endpoints, { hostId: "lb", skipLocalHost: true });
    expect(sink.keys()).toEqual([remote.key]);
    const cfg = {
      kind: "etcd",
      id: "etcd-0",
      endpoints: t.cluster.endpoints,
      prefix: PREFIX,
      skipLocalHost: true,
    } as const;
    await source.reconfigure(config(["web", "api"], [cfg]));
    expect(sink.calls.at(-1)).toEqual({
      type: "replace",
      info: { reason: "config" },
      keys: [api.key, remote.key].sort(),
    });
    // Another prefix: a new listing from there, and the watch follows it.
    const other = { ...cfg, prefix: `${PREFIX}-other` };
    await source.reconfigure(config(["web", "api"], [other]));
    expect(sink.calls.at(-1)).toEqual({
      type: "replace",
      info: { reason: "config" },
      keys: [],
    });
    await t.client
      .put(`${PREFIX}-other/v1/hosts/web-4`)
      .value((await t.client.get(`${layout.hosts}web-4`).string()) ?? "");
    const moved = `${PREFIX}-other/v1/backends/web/web-4/b10_77_0_4_8000`;
    await t.client.put(moved).value((await t.client.get(remote.key).string()) ?? "");
    await sink.waitFor("the backend under the new prefix", () => sink.claims.has(moved));
    await t.client.delete().prefix(`${PREFIX}-other`);
  });
});

describe("etcd source through failures of a 3-member cluster", () => {
  const t = etcdPerSuite(3);
  afterEach(async () => {
    for (const m of t.cluster.members) await m.start();
    await t.client.delete().prefix(PREFIX);
  });

  it("keeps its claims while its etcd member is down for 10 s, reports stale, then converges", async () => {
    await putHost(t.client, "web-3", [H3]);
    const a = await putBackend(t.client, "web", "web-3", backendValue(H3, 8000));
    const b = await putBackend(t.client, "web", "web-3", backendValue(H3, 8001));
    const [m0] = t.cluster.members;
    const { source, sink, lines } = await startSource([m0?.clientUrl ?? ""]);
    const calls = sink.calls.length;
    await m0?.stop();
    await t.client.delete().key(a.key);
    const c = await putBackend(t.client, "web", "web-3", backendValue(H3, 8002));
    await sleep(10_000);
    expect(sink.calls).toHaveLength(calls);
    expect(sink.keys()).toEqual([a.key, b.key].sort());
    const stale = source.status();
    expect(stale.state).toBe("stale");
    expect(stale.figures?.secondsSinceContact).toBeGreaterThanOrEqual(9.5);
    expect(lines.filter((l) => l.msg?.toString().startsWith("etcd unreachable"))).toHaveLength(1);

    await m0?.start();
    await sink.waitFor("convergence", () => sink.keys().join() === [b.key, c.key].sort().join(), 15_000);
    expect(source.status().state).toBe("ok");
    expect(sink.calls.slice(calls)).toEqual([
      {
        type: "replace",
        info: { reason: "reconnect", wrong: { count: 2, keys: [a.key, c.key], sample: [a.key, c.key] } },
        keys: [b.key, c.key].sort(),
      },
    ]);
    expect(lines.filter((l) => l.msg === "etcd source watching").at(-1)).toMatchObject({
      staleForMs: expect.any(Number),
    });
  }, 40_000);

  it("loses no change when the member it watches through is killed", async () => {
    await putHost(t.client, "web-3", [H3]);
    const { sink } = await startSource(t.cluster.endpoints);
    const writer = (async () => {
      for (let i = 0; i < 300; i++) {
        const value = backendValue(H3, 8000 + (i % 60), { pid: i });
        for (;;) {
          try {
            if (i % 4 === 3) await t.client.delete().key(keyOf("web", "web-3", value));
            else await putBackend(t.client, "web", "web-3", value);
            break;
          } catch {
            await sleep(50); // the write failed while the cluster elected a leader: write it again
          }
        }
        if (i % 10 === 0) await sleep(5);
      }
    })();
    for (const member of t.cluster.members) {
      await sleep(300);
      await member.kill();
      await sleep(1500);
      await member.start();
    }
    await writer;
    const expected = await expectedClaims(t.client, "web-3");
    await sink.waitFor(
      "the final state",
      () => JSON.stringify([...sink.claims].sort()) === JSON.stringify([...expected].sort()),
      15_000,
    );
    expect(new Map([...sink.claims].sort())).toEqual(new Map([...expected].sort()));
  }, 60_000);
});
