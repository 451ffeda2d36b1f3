import { statSync } from "node:fs";
import net, { type AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ListenEvent } from "../../src/probe/event.js";
import { ListenProbe, type LostInfo } from "../../src/probe/listen-probe.js";
import { cgroupIdOf, describeEbpf, EventRecorder } from "../helpers/ebpf.js";
import { startScenario } from "../helpers/listen-scenario.js";
import { startListenerProcess } from "../helpers/listener-process.js";
import { createTestNetns, type TestNetns } from "../helpers/netns.js";

describeEbpf("ListenProbe on the real kernel", () => {
  let probe: ListenProbe;
  let recorder: EventRecorder;
  let netns: TestNetns;
  const lost: LostInfo[] = [];
  const hostNetns = statSync("/proc/self/ns/net").ino;
  const bySock = (sock: number) => (ev: ListenEvent) => ev.sock === sock;

  /** The fields every event of a python3 listener shares; ts checked separately. */
  async function python(pid: number, fields: Partial<ListenEvent>): Promise<ListenEvent> {
    return {
      type: "listen",
      pid,
      tid: pid,
      comm: "python3",
      uid: 0,
      gid: 0,
      cgroupId: await cgroupIdOf(pid),
      netns: hostNetns,
      family: 4,
      addr: "127.0.0.1",
      port: 0,
      backlog: 0,
      sock: 0,
      ts: expect.any(BigInt) as unknown as bigint,
      ...fields,
    };
  }

  beforeAll(async () => {
    probe = ListenProbe.open();
    recorder = new EventRecorder(probe);
    probe.on("lost", (info) => lost.push(info));
    netns = await createTestNetns("p");
  });

  afterAll(async () => {
    probe.close();
    await netns.destroy();
  });

  it("uses the tp_btf hook by default on this kernel", () => {
    expect(probe.hook).toBe("tp_btf");
  });

  it("reports an IPv4 listener's listen and close with its address, port, backlog, pid and comm", async () => {
    const before = process.hrtime.bigint();
    const l = await startListenerProcess({ addr: "127.0.0.1", backlog: 77 });
    await recorder.waitFor(bySock(l.sock));
    const expected = await python(l.pid, { port: l.port, backlog: 77, sock: l.sock });
    await l.stop();
    const events = await recorder.waitFor(bySock(l.sock), 2);
    expect(events).toEqual([expected, { ...expected, type: "close" }]);
    const [listen, close] = events as [ListenEvent, ListenEvent];
    expect(before < listen.ts && listen.ts < close.ts && close.ts < process.hrtime.bigint()).toBe(true);
  });

  it("reports an IPv6 listener on ::1", async () => {
    const l = await startListenerProcess({ addr: "::1", backlog: 12 });
    await recorder.waitFor(bySock(l.sock));
    const expected = await python(l.pid, { family: 6, addr: "::1", port: l.port, backlog: 12, sock: l.sock });
    await l.stop();
    expect(await recorder.waitFor(bySock(l.sock), 2)).toEqual([expected, { ...expected, type: "close" }]);
  });

  it("reports a listener inside a network namespace with that namespace's inode", async () => {
    const l = await startListenerProcess({ addr: "127.0.0.1", backlog: 5, netns });
    await recorder.waitFor(bySock(l.sock));
    const nsInode = statSync(`/proc/${l.pid}/ns/net`).ino;
    const expected = await python(l.pid, { netns: nsInode, port: l.port, backlog: 5, sock: l.sock });
    await l.stop();
    expect(await recorder.waitFor(bySock(l.sock), 2)).toEqual([expected, { ...expected, type: "close" }]);
    expect([nsInode === statSync(netns.path).ino, nsInode === hostNetns]).toEqual([true, false]);
  });

  it("reports the close of a SIGKILLed process's listener", async () => {
    const l = await startListenerProcess({ addr: "127.0.0.1", backlog: 3 });
    await recorder.waitFor(bySock(l.sock));
    const expected = await python(l.pid, { port: l.port, backlog: 3, sock: l.sock });
    process.kill(l.pid, "SIGKILL");
    expect(await recorder.waitFor(bySock(l.sock), 2)).toEqual([expected, { ...expected, type: "close" }]);
    await l.stop();
  });

  it("reports two SO_REUSEPORT sockets on one port as two listeners with distinct identities", async () => {
    const run = startScenario("reuseport");
    const { pid, sockets } = await run.next();
    const [a, b] = sockets as [{ port: number; sock: number }, { port: number; sock: number }];
    const mine = (ev: ListenEvent) => ev.pid === pid;
    await recorder.waitFor(mine, 2);
    const listenA = await python(pid, { port: a.port, backlog: 8, sock: a.sock });
    const listenB = await python(pid, { port: a.port, backlog: 9, sock: b.sock });
    run.proceed();
    await run.done;
    expect(await recorder.waitFor(mine, 4)).toEqual([
      listenA,
      listenB,
      { ...listenA, type: "close" },
      { ...listenB, type: "close" },
    ]);
    expect([a.sock !== b.sock, a.port === b.port]).toEqual([true, true]);
  });

  it("resolves the port of a listen() without bind() from /proc, and carries it to the close", async () => {
    const run = startScenario("unbound");
    const { pid, sockets } = await run.next();
    const [s] = sockets as [{ port: number; sock: number }];
    await recorder.waitFor(bySock(s.sock));
    const expected = await python(pid, { addr: "0.0.0.0", port: s.port, backlog: 5, sock: s.sock });
    run.proceed();
    expect(await recorder.waitFor(bySock(s.sock), 2)).toEqual([expected, { ...expected, type: "close" }]);
    expect(s.port).toBeGreaterThan(0);
  });

  it("reports a failed listen() (EADDRINUSE) as a listen followed at once by its close", async () => {
    const run = startScenario("failed-listen");
    const { pid, sockets, error } = await run.next();
    const [a, b] = sockets as [{ port: number; sock: number }, { port: number; sock: number }];
    expect(error).toBe("EADDRINUSE");
    const failed = await recorder.waitFor(bySock(b.sock), 2);
    await recorder.waitFor(bySock(a.sock));
    const listenA = await python(pid, { port: a.port, backlog: 4, sock: a.sock });
    const listenB = await python(pid, { port: a.port, backlog: 4, sock: b.sock });
    run.proceed();
    expect(failed).toEqual([listenB, { ...listenB, type: "close" }]);
    expect(await recorder.waitFor(bySock(a.sock), 2)).toEqual([listenA, { ...listenA, type: "close" }]);
  });

  it("reports shutdown() of a listener as a close, and listening again as a new listen", async () => {
    const run = startScenario("relisten");
    const first = await run.next();
    const [s1] = first.sockets as [{ port: number; sock: number }];
    await recorder.waitFor(bySock(s1.sock));
    const v6 = { family: 6 as const, addr: "::ffff:127.0.0.1", sock: s1.sock };
    const listen1 = await python(first.pid, { ...v6, port: s1.port, backlog: 4 });
    run.proceed();
    const [s2] = (await run.next()).sockets as [{ port: number; sock: number }];
    await recorder.waitFor(bySock(s1.sock), 3);
    const listen2 = await python(first.pid, { ...v6, port: s2.port, backlog: 6 });
    run.proceed();
    // The second listen() changed only the backlog (6 -> 7): no event, but the close shows it.
    expect(await recorder.waitFor(bySock(s1.sock), 4)).toEqual([
      listen1,
      { ...listen1, type: "close" },
      listen2,
      { ...listen2, type: "close", backlog: 7 },
    ]);
  });

  it("reports only a listener's own listen and close, nothing for the connections it accepts", async () => {
    const server = net.createServer((conn) => conn.destroy());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    for (let i = 0; i < 20; i++) {
      await new Promise<void>((resolve, reject) =>
        net
          .connect(port, "127.0.0.1")
          .on("close", () => resolve())
          .on("error", reject),
      );
    }
    await new Promise((resolve) => server.close(resolve));
    const onPort = (ev: ListenEvent) => ev.port === port;
    const [listen] = await recorder.waitFor(onPort, 2);
    // Accepted connections are traced LISTEN->SYN_RECV: anything they leaked would be here by now.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(recorder.matching(onPort).map((ev) => [ev.type, ev.sock])).toEqual([
      ["listen", listen?.sock],
      ["close", listen?.sock],
    ]);
  });

  it("counts what it delivered and lost nothing", () => {
    expect({ ...probe.stats(), events: probe.stats().events > 0, lost }).toEqual({
      events: true,
      drops: 0,
      hook: "tp_btf",
      lost: [],
    });
  });

  it("closes idempotently and keeps its last figures", () => {
    const other = ListenProbe.open({ ringBytes: 1 << 16 });
    other.close();
    other.close();
    expect(other.stats()).toEqual({ events: 0, drops: 0, hook: "tp_btf" });
  });
});
