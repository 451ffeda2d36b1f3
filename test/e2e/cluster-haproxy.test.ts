/**
 * The whole system across simulated hosts (test/helpers/cluster-lab.ts): three namespaces on a bridge,
 * each with `bin/lbwatch agent`; a 3-member etcd; HAProxy and `bin/lbwatch run` in the host namespace.
 * Every scenario of issue 10's failure semantics, judged by what HAProxy runs (`show servers state`)
 * and by the `target applied` lines of lbwatch run. The tests share one lab and run in order; each
 * leaves the backends it started stopped, except the steady one per host that beforeAll starts.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBackendValue, encodeHostValue } from "../../src/etcd/values.js";
import { backendId } from "../../src/registry/backend-id.js";
import { isRoutable, type ServerState } from "../../src/targets/haproxy/runtime-answers.js";
import { startRun, until } from "../cli/lbwatch-process.js";
import { type ClusterLab, startClusterLab } from "../helpers/cluster-lab.js";
import { waitFor } from "../helpers/http.js";
import { type BackendProcess, startBackend } from "./backend-process.js";

const TTL_SECONDS = 3;
const BAD_VALUE = "ignoring a bad value under the etcd prefix";
const STALE = "etcd unreachable: keeping the last backends (fail static) and retrying";
/** Host-key rewrites while lbwatch run is frozen: more watch responses than etcd buffers for it. */
const FILLER_PUTS = 400;

describe("several hosts behind one HAProxy, through agents and etcd", () => {
  let lab: ClusterLab;
  const steady: BackendProcess[] = [];
  let dualBackend: BackendProcess | undefined;
  const host = (i: number) => {
    const h = lab.net.hosts[i];
    if (!h) throw new Error(`no host ${i}`);
    return h;
  };
  const agent = (i: number) => {
    const a = lab.agents[i];
    if (!a) throw new Error(`no agent ${i}`);
    return a;
  };
  /** web's port `n` on host `i`: a backend answering "port P". */
  const backend = (i: number, n: number) => startBackend("0.0.0.0", lab.base + n, { netns: host(i) });
  const id = (i: number, n: number) => backendId(4, host(i).address, lab.base + n);
  /** Server names in rotation, sorted; with their srv_id when `withIds`. */
  const routed = async (service = "web", withIds = false) =>
    (await lab.servers(service))
      .filter(isRoutable)
      .map((s: ServerState) => (withIds ? `${s.name}#${s.id}` : s.name))
      .sort();
  /**
   * Servers lbwatch keeps in HAProxy (present, not in maintenance), up or not: with etcd down it must
   * not touch them, while HAProxy's own health check may still take a dead one down.
   */
  const kept = async (service = "web") =>
    (await lab.servers(service))
      .filter((s: ServerState) => (s.adminState & 0x23) === 0)
      .map((s: ServerState) => `${s.name}#${s.id}`)
      .sort();
  const routedBecomes = (expected: string[], withinMs: number, service = "web") =>
    waitFor(
      async () => JSON.stringify(await routed(service)) === JSON.stringify([...expected].sort()),
      withinMs,
    );
  /** `target applied` lines that changed HAProxy: a `write` line is its file catching up behind one. */
  const applied = () => lab.harness.applied().filter((l) => l.activation !== "write");
  const steadyIds = () => [0, 1, 2].map((i) => id(i, i));
  /** The member lbwatch run's etcd connection goes to (found by its established TCP connections). */
  const watchedMember = async () => {
    const { stdout } = await execa("ss", ["-Htnp", "state", "established"]);
    const peers = stdout
      .split("\n")
      .filter((line) => line.includes(`pid=${lab.run.pid},`))
      .map((line) => line.trim().split(/\s+/)[3] ?? "");
    const member = lab.etcd.members.find((m) => peers.includes(new URL(m.clientUrl).host));
    if (!member) throw new Error(`lbwatch run has no connection to an etcd member: ${peers.join(" ")}`);
    return member;
  };

  beforeAll(async () => {
    lab = await startClusterLab({ hosts: 3, etcdMembers: 3, ttlSeconds: TTL_SECONDS, dual: { host: 1 } });
    for (let i = 0; i < 3; i++) steady.push(await backend(i, i));
    await routedBecomes(steadyIds(), 5000);
  }, 40_000);
  afterAll(async () => {
    await Promise.all([...steady, ...(dualBackend ? [dualBackend] : [])].map((b) => b.kill()));
    await lab?.destroy();
  });

  it("serves a listener on host 3 through HAProxy, on that host's address", async () => {
    const b = await backend(2, 10);
    try {
      await waitFor(async () => (await lab.get()).body === `port ${lab.base + 10}`, 3000);
      const server = (await lab.servers()).find((s) => s.port === lab.base + 10);
      expect(server && { name: server.name, address: server.address, routable: isRoutable(server) }).toEqual({
        name: id(2, 10),
        address: host(2).address,
        routable: true,
      });
      const line = await lab.run.waitForLog(
        (l) => l.msg === "target applied" && String(l.added) === id(2, 10),
      );
      expect(line).toMatchObject({ activation: "runtime-api", removed: [] });
      // Templates see each backend's host: the hostId of the agent that published it.
      const rendered = async () => (await lab.hostsFile()).split("\n").filter(Boolean).sort();
      const expected = [
        ...[0, 1, 2].map((i) => `${id(i, i)} ${host(i).name}`),
        `${id(2, 10)} ${host(2).name}`,
      ];
      await until(async () => JSON.stringify(await rendered()) === JSON.stringify(expected.sort()), 3000);
      expect(await rendered()).toEqual(expected.sort());
    } finally {
      await b.kill();
    }
    await routedBecomes(steadyIds(), 3000 + TTL_SECONDS * 1000);
  });

  it("counts once a backend that run's local probe and its host's agent both report", async () => {
    dualBackend = await startBackend("0.0.0.0", lab.dualPort, { netns: host(1) });
    const dualId = backendId(4, host(1).address, lab.dualPort);
    await routedBecomes([dualId], 3000, "dual");
    const key = `${lab.prefix}/v1/backends/dual/${host(1).name}/${dualId}`;
    const client = lab.etcd.client();
    expect(await until(async () => (await client.get(key).string()) !== null, 3000)).toBe(true);
    expect(JSON.parse((await client.get(key).string()) ?? "{}")).toMatchObject({
      address: host(1).address,
      port: lab.dualPort,
    });
    // The agent's claim reaches run through etcd after the local one: give its watch a moment.
    await sleep(300);
    expect((await lab.servers("dual")).map((s) => s.name)).toEqual([dualId]);
    expect(
      applied().filter((l) => String(l.added).includes(dualId) || String(l.removed).includes(dualId)),
    ).toEqual([expect.objectContaining({ added: [dualId], removed: [] })]);
  });

  it("restarts an agent, gracefully or after SIGKILL, without HAProxy removing or adding a server", async () => {
    const before = { web: await routed("web", true), dual: await routed("dual", true) };
    const appliedBefore = applied().length;
    for (const how of ["SIGTERM", "SIGKILL"] as const) {
      const old = agent(0).process;
      if (!old) throw new Error("agent 0 is not running");
      const stopped = Date.now();
      old.signal(how);
      await old.exited();
      const restarted = await agent(0).start();
      console.log(`agent restarted after ${how} in ${Date.now() - stopped} ms`);
      // Its predecessor's lease still lives: adopted, and only the host key (new start time) written.
      expect(restarted.logs().find((l) => l.msg === "published the whole set")).toMatchObject({
        adopted: true,
        backends: 1,
        writes: 1,
      });
    }
    await sleep(500);
    expect(applied().slice(appliedBefore)).toEqual([]);
    expect({ web: await routed("web", true), dual: await routed("dual", true) }).toEqual(before);
  });

  it("ignores each bad value under the prefix with one warning, and routes the next good change", async () => {
    const client = lab.etcd.client();
    const h0 = host(0);
    const under = (backend: string) => `${lab.prefix}/v1/backends/web/${h0.name}/${backend}`;
    const nobody = "198.51.100.7";
    const bad = [
      { key: under(id(0, 20)), value: "{not json", reason: "not JSON" },
      {
        key: under(id(0, 21)),
        value: JSON.stringify({ address: h0.address, port: lab.base + 21, weight: 1 }),
        reason: 'unknown field "weight"',
      },
      {
        key: under(backendId(4, nobody, lab.base + 22)),
        value: encodeBackendValue({
          address: nobody,
          port: lab.base + 22,
          family: 4,
          pid: 1,
          comm: "x",
          uid: 0,
          netns: 1,
          backlog: 1,
          since: Date.now(),
        }),
        reason: `address ${nobody} is not one host ${h0.name} advertises`,
      },
    ];
    const warned = () => lab.run.logs().filter((l) => l.msg === BAD_VALUE);
    const warnedBefore = warned().length;
    const before = await routed("web", true);
    // Each twice: a repeated bad value is not warned about again.
    for (let round = 0; round < 2; round++) for (const b of bad) await client.put(b.key).value(b.value);
    const good = await backend(0, 23);
    try {
      await routedBecomes([...steadyIds(), id(0, 23)], 3000);
      expect(
        warned()
          .slice(warnedBefore)
          .map((l) => ({ key: l.key, reason: l.reason })),
      ).toEqual(bad.map(({ key, reason }) => ({ key, reason })));
      expect((await routed("web", true)).filter((name) => !name.startsWith(`${id(0, 23)}#`))).toEqual(before);
    } finally {
      for (const b of bad) await client.delete().key(b.key);
      await good.kill();
    }
    await routedBecomes(steadyIds(), 3000);
  });

  it("relists after a compaction passes the watch of a frozen lbwatch run, and misses no change", async () => {
    const client = lab.etcd.client();
    const gone = await backend(1, 30);
    await routedBecomes([...steadyIds(), id(1, 30)], 3000);
    const keyOf = (i: number, n: number) => `${lab.prefix}/v1/backends/web/${host(i).name}/${id(i, n)}`;
    const filler = `${lab.prefix}/v1/hosts/filler`;
    const addresses = Array.from({ length: 250 }, (_, i) => `198.18.${i}.1`);
    const value = encodeHostValue({ version: "test", bootId: "filler", startTime: Date.now(), addresses });
    let arrived: BackendProcess | undefined;
    lab.run.signal("SIGSTOP");
    try {
      // Watch responses until etcd can no longer hand them to the stopped process (flow control and
      // etcd's per-watcher buffer of 128 fill): its watcher falls behind and is read from history.
      for (let i = 0; i < FILLER_PUTS; i += 20) {
        await Promise.all(Array.from({ length: 20 }, () => client.put(filler).value(value)));
      }
      await gone.stop();
      arrived = await backend(2, 31);
      const published = async () =>
        (await client.get(keyOf(1, 30)).string()) === null &&
        (await client.get(keyOf(2, 31)).string()) !== null;
      expect(await until(published, 3000)).toBe(true);
      await client.delete().key(filler);
      await lab.etcd.compact();
    } finally {
      lab.run.signal("SIGCONT");
    }
    try {
      await routedBecomes([...steadyIds(), id(2, 31)], 5000);
      const relisted = await lab.run.waitForLog(
        (l) => l.msg === "resynced from a fresh view" && l.source === "etcd-0",
        1000,
      );
      expect(relisted).toMatchObject({
        source: "etcd-0",
        reason: "relist",
        listenersWrong: 2,
        backendsWrong: 2,
      });
      expect(lab.run.logs().some((l) => l.msg === "watch cancelled: listing again")).toBe(true);
    } finally {
      await arrived?.kill();
    }
    await routedBecomes(steadyIds(), 3000);
  });

  it("loses no change while the etcd member lbwatch run watches through is down", async () => {
    const leaving = await backend(2, 40);
    await routedBecomes([...steadyIds(), id(2, 40)], 3000);
    const member = await watchedMember();
    await member.kill();
    let arrived: BackendProcess | undefined;
    try {
      await leaving.stop();
      arrived = await backend(0, 41);
      await routedBecomes([...steadyIds(), id(0, 41)], 3000 + lab.etcd.electionTimeoutMs * 3);
    } finally {
      await member.start();
      await arrived?.kill();
    }
    await routedBecomes(steadyIds(), 3000);
  });

  it("keeps the last backends while etcd is down for 10 s, then converges when it is back", async () => {
    const leaving = await backend(1, 50);
    await routedBecomes([...steadyIds(), id(1, 50)], 3000);
    const before = await kept();
    await Promise.all(lab.etcd.members.map((m) => m.kill()));
    const downAt = Date.now();
    let arrived: BackendProcess | undefined;
    try {
      await leaving.stop();
      arrived = await backend(0, 51);
      const seen = new Set<string>();
      while (Date.now() - downAt < 10_000) {
        seen.add(JSON.stringify(await kept()));
        await sleep(500);
      }
      expect([...seen]).toEqual([JSON.stringify(before)]);
      expect(lab.run.logs().filter((l) => l.msg === STALE)).toHaveLength(1);
    } finally {
      await Promise.all(lab.etcd.members.map((m) => m.start()));
    }
    const backAt = Date.now();
    try {
      await routedBecomes([...steadyIds(), id(0, 51)], 10_000);
      console.log(`converged ${Date.now() - backAt} ms after etcd answered again`);
      // etcd extends every lease when a leader is elected: the agents kept theirs, nothing else moved.
      const untouched = (names: string[]) =>
        names.filter((n) => steadyIds().some((s) => n.startsWith(`${s}#`)));
      expect(untouched(await routed("web", true))).toEqual(untouched(before));
      expect(
        lab.run.logs().find((l) => l.msg === "etcd source watching" && l.staleForMs !== undefined),
      ).toBeDefined();
    } finally {
      await arrived?.kill();
    }
    await routedBecomes(steadyIds(), 3000);
  }, 40_000);

  it("takes a SIGKILLed agent's backends out of rotation within ttl + 2 s, and keeps its local twin", async () => {
    const dualBefore = await routed("dual", true);
    const process1 = agent(1).process;
    if (!process1) throw new Error("agent 1 is not running");
    const killedAt = Date.now();
    process1.signal("SIGKILL");
    await routedBecomes([id(0, 0), id(2, 2)], TTL_SECONDS * 1000 + 2000);
    console.log(`host 2's backends out of rotation ${Date.now() - killedAt} ms after its agent's SIGKILL`);
    expect(await routed("dual", true)).toEqual(dualBefore);
    const dualId = backendId(4, host(1).address, lab.dualPort);
    expect(applied().filter((l) => String(l.removed).includes(dualId))).toEqual([]);
  });

  it("restarted while etcd is down, lbwatch run leaves HAProxy's remote servers alone until etcd answers", async () => {
    const before = { web: await routed("web", true), dual: await routed("dual", true) };
    expect(before.web).toHaveLength(2);
    await lab.run.stop();
    await Promise.all(lab.etcd.members.map((m) => m.kill()));
    const again = await startRun(lab.harness.ws, [], { timeoutMs: 30_000 });
    try {
      await again.waitForLog((l) => l.msg === STALE, 5000);
      await sleep(1500);
      expect({ web: await routed("web", true), dual: await routed("dual", true) }).toEqual(before);
      await Promise.all(lab.etcd.members.map((m) => m.start()));
      await again.waitForLog((l) => l.msg === "etcd source watching", 10_000);
      await sleep(500);
      expect({ web: await routed("web", true), dual: await routed("dual", true) }).toEqual(before);
    } finally {
      await again.stop();
    }
  });
});
