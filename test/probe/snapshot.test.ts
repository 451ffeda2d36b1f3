import { readFile, stat } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Listener } from "../../src/probe/event.js";
import { netnsInodeOfPath, netnsOfPid } from "../../src/probe/netns.js";
import { snapshot } from "../../src/probe/snapshot.js";
import { type ListenerProcess, startListenerProcess } from "../helpers/listener-process.js";
import { createTestNetns, type TestNetns } from "../helpers/netns.js";

/** What /proc says the listener's fields should be, read independently of the code under test. */
async function expected(p: ListenerProcess, fields: Pick<Listener, "family" | "addr" | "backlog" | "netns">) {
  const status = await readFile(`/proc/${p.pid}/status`, "utf8");
  const cgroupPath = /^0::(.*)$/m.exec(await readFile(`/proc/${p.pid}/cgroup`, "utf8"))?.[1] ?? "";
  const mountinfo = await readFile("/proc/self/mountinfo", "utf8");
  const mount =
    mountinfo
      .split("\n")
      .find((l) => l.includes(" - cgroup2 "))
      ?.split(" ")[4] ?? "";
  return {
    pid: p.pid,
    tid: p.pid,
    comm: (await readFile(`/proc/${p.pid}/comm`, "utf8")).trim(),
    uid: Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]),
    gid: Number(/^Gid:\s+(\d+)/m.exec(status)?.[1]),
    cgroupId: (await stat(`${mount}${cgroupPath}`, { bigint: true })).ino,
    port: p.port,
    sock: p.sock,
    ...fields,
  };
}

describe("snapshot", () => {
  let ns: TestNetns;
  let v4: ListenerProcess;
  let v6: ListenerProcess;
  let mapped: ListenerProcess;
  let inNetns: ListenerProcess;
  let wrapped: ListenerProcess;
  let hostNetns: number;
  let all: Listener[];

  beforeAll(async () => {
    ns = await createTestNetns("snap");
    hostNetns = await netnsOfPid("self");
    [v4, v6, mapped, inNetns, wrapped] = await Promise.all([
      startListenerProcess({ addr: "127.0.0.1", backlog: 17, fork: true }),
      startListenerProcess({ addr: "::1", backlog: 9 }),
      startListenerProcess({ addr: "::ffff:127.0.0.1", backlog: 5 }),
      // A fixed port is safe here: nothing else lives in this namespace.
      startListenerProcess({ addr: "0.0.0.0", port: 8080, backlog: 33, netns: ns }),
      startListenerProcess({ addr: "127.0.0.1", backlog: 3, fork: "low" }),
    ]);
    all = await snapshot();
  });

  afterAll(async () => {
    await Promise.allSettled([v4, v6, mapped, inNetns, wrapped].map((p) => p?.stop()));
    await ns?.destroy();
  });

  it("finds IPv4, IPv6 and IPv4-mapped listeners with every field an event carries", async () => {
    const bySock = new Map(all.map((l) => [l.sock, l]));
    expect(bySock.get(v4.sock)).toEqual(
      await expected(v4, { family: 4, addr: "127.0.0.1", backlog: 17, netns: hostNetns }),
    );
    expect(bySock.get(v6.sock)).toEqual(
      await expected(v6, { family: 6, addr: "::1", backlog: 9, netns: hostNetns }),
    );
    expect(bySock.get(mapped.sock)).toEqual(
      await expected(mapped, { family: 6, addr: "::ffff:127.0.0.1", backlog: 5, netns: hostNetns }),
    );
  });

  it("reports the process that made a shared socket as its owner, not the child it forked", () => {
    for (const p of [v4, wrapped]) {
      expect(p.childPid).toBeGreaterThan(0);
      expect(all.filter((l) => l.sock === p.sock).map((l) => l.pid)).toEqual([p.pid]);
    }
  });

  it("still does when pids wrapped and the child's pid is the lower", () => {
    expect(wrapped.childPid).toBeLessThan(wrapped.pid);
    expect(all.find((l) => l.sock === wrapped.sock)?.pid).toBe(wrapped.pid);
  });

  it("finds a listener inside a namespace the test made, with that namespace's inode", async () => {
    const netns = await netnsInodeOfPath(ns.path);
    expect(netns).not.toBe(hostNetns);
    const found = all.filter((l) => l.netns === netns);
    expect(found).toEqual([await expected(inNetns, { family: 4, addr: "0.0.0.0", backlog: 33, netns })]);
  });

  it("lists each socket once, in a stable order", () => {
    expect(new Set(all.map((l) => l.sock)).size).toBe(all.length);
    const sorted = [...all].sort((a, b) => a.netns - b.netns || a.port - b.port || a.family - b.family);
    expect(all.map((l) => l.sock)).toEqual(sorted.map((l) => l.sock));
  });
});
