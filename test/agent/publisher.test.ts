import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { Publisher } from "../../src/agent/publisher.js";
import { createEtcdClient } from "../../src/etcd/client.js";
import { backendKey, hostKey } from "../../src/etcd/keys.js";
import { encodeBackendValue, encodeHostValue, type HostValue } from "../../src/etcd/values.js";
import { claim } from "../helpers/claims.js";
import { layout, PREFIX } from "../helpers/etcd-keys.js";
import { etcdPerSuite } from "../helpers/etcd-suite.js";
import { recordEvents } from "../helpers/etcd-watch.js";
import { publishedBy, publisherArgv } from "../helpers/publisher-run.js";
import { captureLog } from "../targets/capture-log.js";

const H3 = "10.77.0.3";
const HOST: HostValue = { version: "0.1.0", bootId: "b00t", startTime: 1_700_000_000_000, addresses: [H3] };
const KEY_8000 = backendKey(layout, "web", "web-3", "b10_77_0_3_8000");
const KEY_8001 = backendKey(layout, "web", "web-3", "b10_77_0_3_8001");
const HOST_KEY = hostKey(layout, "web-3");

const t = etcdPerSuite();
const publishers: Publisher[] = [];

function startPublisher(options: { ttlSeconds?: number; host?: () => HostValue } = {}) {
  const { log, lines } = captureLog();
  const publisher = new Publisher({
    client: createEtcdClient({ endpoints: t.cluster.endpoints, callTimeoutMs: 1000 }),
    etcd: { endpoints: t.cluster.endpoints, prefix: PREFIX },
    hostId: "web-3",
    ttlSeconds: options.ttlSeconds ?? 10,
    host: options.host ?? (() => HOST),
    log,
  });
  publishers.push(publisher);
  return { publisher, lines };
}

/** Everything under the prefix: key → value, lease and mod revision. */
async function stored() {
  const res = await t.client.getAll().prefix(PREFIX).exec();
  return Object.fromEntries(
    res.kvs.map((kv) => [
      kv.key.toString(),
      { value: kv.value.toString(), lease: kv.lease, rev: Number(kv.mod_revision) },
    ]),
  );
}

afterEach(async () => {
  await Promise.all(publishers.splice(0).map((p) => p.close()));
});

describe("Publisher against a real etcd", () => {
  afterEach(async () => {
    if (!t.cluster.members[0]?.pid) await t.cluster.members[0]?.start();
    const leases = await t.client.leaseClient.leaseLeases();
    await Promise.all(leases.leases.map((l) => t.client.leaseClient.leaseRevoke({ ID: l.ID })));
    await t.client.delete().prefix(PREFIX);
  });

  it("writes the host key and every backend in one transaction under one lease, with the exact values", async () => {
    const { publisher } = startPublisher();
    // Two SO_REUSEPORT siblings are one backend; its facts come from the lower pid.
    publisher.replace(
      [
        claim(H3, 8000, { key: "s2", pid: 300 }),
        claim(H3, 8000, { key: "s1", pid: 200 }),
        claim(H3, 8001, { cgroup: "/web" }),
      ],
      { reason: "initial" },
    );
    await publisher.idle();
    const kvs = await stored();
    const lease = kvs[HOST_KEY]?.lease ?? "";
    const rev = kvs[HOST_KEY]?.rev ?? 0;
    expect(kvs).toEqual({
      [HOST_KEY]: { value: encodeHostValue(HOST), lease, rev },
      [KEY_8000]: {
        value: encodeBackendValue({ ...claim(H3, 8000, { pid: 200 }) }),
        lease,
        rev,
      },
      [KEY_8001]: { value: encodeBackendValue(claim(H3, 8001, { cgroup: "/web" })), lease, rev },
    });
    expect(lease).not.toBe("0");
    const ttl = await t.client.leaseClient.leaseTimeToLive({ ID: lease, keys: true });
    expect([Number(ttl.grantedTTL), ttl.keys.map(String).sort()]).toEqual([
      10,
      [KEY_8000, KEY_8001, HOST_KEY].sort(),
    ]);
    expect(publisher.status()).toEqual({ state: "ok", lease, published: 2, pending: 0 });
  });

  it("writes the changes of one event-loop turn in one transaction, as they happen", async () => {
    const { publisher } = startPublisher();
    publisher.replace([claim(H3, 8000)], { reason: "initial" });
    await publisher.idle();
    const recorder = await recordEvents(t.client, layout.root, (await t.cluster.revision()) + 1);
    publisher.update([claim(H3, 8001), claim(H3, 8002)], []);
    publisher.update([claim(H3, 8003)], [claim(H3, 8000).key]);
    await publisher.idle();
    await sleep(100);
    await recorder.stop();
    const revisions = new Set(recorder.events.map((e) => e.revision));
    expect(revisions.size).toBe(1);
    expect(recorder.events.map((e) => [e.type, e.key]).sort()).toEqual(
      [
        ["delete", KEY_8000],
        ["put", KEY_8001],
        ["put", backendKey(layout, "web", "web-3", "b10_77_0_3_8002")],
        ["put", backendKey(layout, "web", "web-3", "b10_77_0_3_8003")],
      ].sort(),
    );
  });

  it("leaves out a backend on an address the host does not advertise, with one warning", async () => {
    const { publisher, lines } = startPublisher();
    publisher.replace([claim(H3, 8000), claim("127.0.0.1", 8001)], { reason: "initial" });
    publisher.update([claim("127.0.0.1", 8001, { pid: 9 })], []);
    await publisher.idle();
    expect(Object.keys(await stored()).sort()).toEqual([KEY_8000, HOST_KEY].sort());
    expect(
      lines.filter((l) => l.msg === "not publishing a backend on an address this host does not advertise"),
    ).toEqual([expect.objectContaining({ address: "127.0.0.1", advertised: [H3] })]);
  });

  it("after etcd comes back, writes what changed meanwhile and deletes its keys that are no longer true", async () => {
    const { publisher, lines } = startPublisher();
    publisher.replace([claim(H3, 8000), claim(H3, 8001)], { reason: "initial" });
    await publisher.idle();
    const lease = publisher.status().lease ?? "";
    // A key on its lease that its set does not hold (left by a write it saw fail, say).
    const leftover = backendKey(layout, "web", "web-3", "b10_77_0_3_8009");
    await t.client
      .put(leftover)
      .value(encodeBackendValue(claim(H3, 8009)))
      .lease(lease)
      .exec();
    await t.cluster.members[0]?.stop();
    publisher.update([claim(H3, 8002)], [claim(H3, 8001).key]);
    await sleep(1500);
    expect(publisher.status()).toMatchObject({ state: "stale", pending: 2 });
    await t.cluster.members[0]?.start();
    await publisher.idle();
    const kvs = await stored();
    expect(Object.keys(kvs).sort()).toEqual(
      [KEY_8000, backendKey(layout, "web", "web-3", "b10_77_0_3_8002"), HOST_KEY].sort(),
    );
    expect(Object.values(kvs).map((kv) => kv.lease)).toEqual([lease, lease, lease]);
    expect(lines.filter((l) => l.msg === "published the whole set").at(-1)).toMatchObject({
      adopted: true,
      backends: 2,
    });
  }, 20_000);

  it("restarted with the same set, adopts its lease and writes no backend key: a watcher sees nothing", async () => {
    const first = startPublisher().publisher;
    first.replace([claim(H3, 8000), claim(H3, 8001)], { reason: "initial" });
    await first.idle();
    const lease = first.status().lease;
    await first.close();
    const before = await stored();
    const recorder = await recordEvents(t.client, layout.backends, (await t.cluster.revision()) + 1);
    const { publisher, lines } = startPublisher({
      host: () => ({ ...HOST, startTime: HOST.startTime + 5000 }),
    });
    // A new local source sees the same sockets for the first time: a later `since`.
    publisher.replace([claim(H3, 8000, { since: Date.now() }), claim(H3, 8001, { since: Date.now() })], {
      reason: "initial",
    });
    await publisher.idle();
    await sleep(200);
    await recorder.stop();
    expect(recorder.events).toEqual([]);
    expect(publisher.status().lease).toBe(lease);
    const after = await stored();
    expect([after[KEY_8000], after[KEY_8001]]).toEqual([before[KEY_8000], before[KEY_8001]]);
    expect(lines.filter((l) => l.msg === "published the whole set")).toEqual([
      expect.objectContaining({ lease, adopted: true, backends: 2, writes: 1 }),
    ]);
  });

  it("grants a new lease and writes everything again when its lease is gone", async () => {
    const { publisher, lines } = startPublisher({ ttlSeconds: 3 });
    publisher.replace([claim(H3, 8000)], { reason: "initial" });
    await publisher.idle();
    const lease = publisher.status().lease ?? "";
    await t.client.leaseClient.leaseRevoke({ ID: lease });
    expect(await stored()).toEqual({});
    const deadline = Date.now() + 5000;
    while (publisher.status().lease === lease && Date.now() < deadline) await sleep(50);
    await publisher.idle();
    const kvs = await stored();
    expect(Object.keys(kvs).sort()).toEqual([KEY_8000, HOST_KEY].sort());
    expect(kvs[KEY_8000]?.lease).not.toBe(lease);
    expect(lines.filter((l) => l.msg === "etcd lease expired: publishing everything again")).toHaveLength(1);
  });

  it("a SIGKILLed publisher process leaves etcd within ttl and etcd's election timeout", async () => {
    const ttlSeconds = 3;
    const args = {
      endpoints: t.cluster.endpoints,
      prefix: PREFIX,
      hostId: "web-3",
      ttlSeconds,
      address: H3,
      ports: [8000, 8001],
    };
    const [file = "", ...argv] = publisherArgv(args);
    const child = execa(file, argv, { reject: false, buffer: false });
    await publishedBy(child);
    expect(Object.keys(await stored()).sort()).toEqual([KEY_8000, KEY_8001, HOST_KEY].sort());
    const killedAt = Date.now();
    child.kill("SIGKILL");
    await child;
    await sleep(500);
    expect(Object.keys(await stored())).toHaveLength(3);
    while (Object.keys(await stored()).length > 0) await sleep(50);
    const goneAfterMs = Date.now() - killedAt;
    expect(goneAfterMs).toBeLessThan(ttlSeconds * 1000 + t.cluster.electionTimeoutMs + 500);
  }, 20_000);
});
