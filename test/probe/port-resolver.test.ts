import { describe, expect, it } from "vitest";
import type { ListenEvent } from "../../src/probe/event.js";
import { PortResolver, type ReadListeners } from "../../src/probe/port-resolver.js";
import type { ProcTcpEntry } from "../../src/probe/proc-net-tcp.js";

function ev(type: "listen" | "close", sock: number, port: number): ListenEvent {
  return {
    type,
    pid: 10,
    tid: 10,
    comm: "srv",
    uid: 0,
    gid: 0,
    cgroupId: 1n,
    netns: 99,
    family: 4,
    addr: "0.0.0.0",
    port,
    backlog: 5,
    sock,
    ts: 1n,
  };
}

function row(inode: number, port: number): ProcTcpEntry {
  return { family: 4, addr: "0.0.0.0", port, state: 0x0a, uid: 0, inode, txQueue: 0, rxQueue: 0 };
}

/** A resolver over a fake /proc whose rows appear after `readsUntilVisible` reads. */
function setup(rows: ProcTcpEntry[], readsUntilVisible = 0) {
  const emitted: [string, number, number][] = [];
  const unresolved: number[] = [];
  let reads = 0;
  const read: ReadListeners = async () => (reads++ >= readsUntilVisible ? rows : []);
  const resolver = new PortResolver(
    (e) => emitted.push([e.type, e.sock, e.port]),
    (e) => unresolved.push(e.sock),
    read,
  );
  const settled = () => new Promise((r) => setTimeout(r, 150));
  return { resolver, emitted, unresolved, settled, reads: () => reads };
}

describe("PortResolver", () => {
  it("passes events with a port straight through, and fills a port-0 close from the port it resolved", async () => {
    const t = setup([row(7, 4000)]);
    t.resolver.push(ev("listen", 1, 80));
    t.resolver.push(ev("listen", 7, 0));
    t.resolver.push(ev("close", 1, 80));
    await t.settled();
    t.resolver.push(ev("close", 7, 0));
    expect(t.emitted).toEqual([
      ["listen", 1, 80],
      ["close", 1, 80],
      ["listen", 7, 4000],
      ["close", 7, 4000],
    ]);
  });

  it("retries /proc until the socket's row appears", async () => {
    const t = setup([row(7, 4001)], 2);
    t.resolver.push(ev("listen", 7, 0));
    await t.settled();
    expect([t.emitted, t.reads()]).toEqual([[["listen", 7, 4001]], 3]);
  });

  it("takes the port from a queued close when the socket stopped listening before /proc was read", async () => {
    const t = setup([]);
    t.resolver.push(ev("listen", 7, 0));
    t.resolver.push(ev("close", 7, 4002));
    t.resolver.push(ev("listen", 7, 0));
    await t.settled();
    // The second listen is not in the fake /proc either and has no close: it is reported unresolved.
    expect([t.emitted, t.unresolved]).toEqual([
      [
        ["listen", 7, 4002],
        ["close", 7, 4002],
      ],
      [7],
    ]);
  });

  it("drops a listen whose port never shows, together with its close, and reports it", async () => {
    const t = setup([]);
    t.resolver.push(ev("listen", 7, 0));
    await t.settled();
    t.resolver.push(ev("close", 7, 0));
    t.resolver.push(ev("listen", 8, 81));
    expect([t.emitted, t.unresolved]).toEqual([[["listen", 8, 81]], [7]]);
  });

  it("emits nothing after close()", async () => {
    const t = setup([row(7, 4003)]);
    t.resolver.push(ev("listen", 7, 0));
    t.resolver.close();
    t.resolver.push(ev("listen", 1, 80));
    await t.settled();
    expect(t.emitted).toEqual([]);
  });
});
