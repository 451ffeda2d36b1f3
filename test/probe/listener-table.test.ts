import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import type { ListenEvent, Listener } from "../../src/probe/event.js";
import { ListenerTable, startListening } from "../../src/probe/listener-table.js";

function listener(sock: number, port = 8000 + sock): Listener {
  return {
    pid: 100 + sock,
    tid: 100 + sock,
    comm: `srv${sock}`,
    uid: 0,
    gid: 0,
    cgroupId: 1n,
    netns: 4026531840,
    family: 4,
    addr: "127.0.0.1",
    port,
    backlog: 128,
    sock,
  };
}

let clock = 0n;
function ev(type: "listen" | "close", l: Listener): ListenEvent {
  clock += 1000n;
  return { ...l, type, ts: clock };
}

describe("ListenerTable", () => {
  it("adds on listen, removes on close, and reports a repeat as unchanged", () => {
    const t = new ListenerTable();
    expect(t.apply(ev("listen", listener(1)))).toBe("added");
    expect(t.apply(ev("listen", listener(1)))).toBe("unchanged");
    expect([...t.values()]).toEqual([listener(1)]);
    expect(t.apply(ev("close", listener(1)))).toBe("removed");
    expect(t.apply(ev("close", listener(1)))).toBe("unchanged");
    expect(t.size).toBe(0);
  });

  it("lets a listen event refresh the fields of a socket a snapshot seeded", () => {
    const t = new ListenerTable();
    t.reconcile([{ ...listener(1), pid: 0, comm: "" }]);
    expect(t.apply(ev("listen", listener(1)))).toBe("unchanged");
    expect(t.get(1)).toEqual(listener(1));
  });

  it("reconciles to a snapshot, the snapshot's fields winning", () => {
    const t = new ListenerTable();
    t.reconcile([listener(1), listener(2)]);
    const moved = { ...listener(2), comm: "renamed" };
    t.reconcile([moved, listener(3)]);
    expect([...t.values()]).toEqual([moved, listener(3)]);
    expect(t.get(1)).toBeUndefined();
  });
});

/** A fake probe: emits events whenever the test says, also while the snapshot is being taken. */
class FakeProbe extends EventEmitter<{ event: [ListenEvent] }> {}

describe("startListening", () => {
  it("merges a snapshot with the events that raced it so each listener is present exactly once", async () => {
    const probe = new FakeProbe();
    const a = listener(1); // existed before the probe: only the snapshot knows it
    const b = listener(2); // opened during the snapshot, which saw it too
    const c = listener(3); // opened and closed during the snapshot, which saw it open
    const d = listener(4); // opened during the snapshot, after the snapshot read its table
    const e = listener(5); // in the snapshot, closed during it
    const live: [ListenEvent, string][] = [];
    const listening = await startListening(probe, (x, r) => live.push([x, r]), {
      snapshot: async () => {
        probe.emit("event", ev("listen", b));
        probe.emit("event", ev("listen", c));
        probe.emit("event", ev("close", c));
        probe.emit("event", ev("close", e));
        probe.emit("event", ev("listen", d));
        return [a, b, c, e];
      },
    });
    expect(listening.initial).toEqual([a, b, d]);
    expect(live).toEqual([]);

    const f = listener(6);
    const openF = ev("listen", f);
    const closeA = ev("close", a);
    probe.emit("event", openF);
    probe.emit("event", closeA);
    probe.emit("event", ev("listen", f));
    expect(live.map(([x, r]) => [x.type, x.sock, r])).toEqual([
      ["listen", 6, "added"],
      ["close", 1, "removed"],
      ["listen", 6, "unchanged"],
    ]);
    expect([...listening.table.values()]).toEqual([b, d, f]);
    listening.stop();
    probe.emit("event", ev("close", b));
    expect(listening.table.size).toBe(3);
  });

  it("resyncs with the same merge and reports the net change, folding in events that raced it, as not wrong", async () => {
    const probe = new FakeProbe();
    const live: number[] = [];
    let during = () => {};
    let kernel = [listener(1), listener(2)];
    const listening = await startListening(probe, (x) => live.push(x.sock), {
      snapshot: async () => {
        during();
        return kernel;
      },
    });
    const g = listener(7);
    kernel = [listener(2), listener(3)]; // 1 closed and 3 opened while events were lost
    during = () => probe.emit("event", ev("listen", g));
    // g listened while the snapshot was taken: it is in the table, but it was moving, not wrong.
    expect(await listening.resync()).toEqual({
      added: [listener(3), g],
      removed: [listener(1)],
      wrong: [listener(3), listener(1)],
    });
    expect(live).toEqual([]);
    probe.emit("event", ev("close", g));
    expect(live).toEqual([7]);
    expect([...listening.table.values()]).toEqual([listener(2), listener(3)]);
  });

  it("buffers at most maxBuffered events during a snapshot, counts the rest and reports them after it", async () => {
    const probe = new FakeProbe();
    const reported: number[] = [];
    const listening = await startListening(probe, undefined, {
      maxBuffered: 2,
      onOverflow: (dropped) => reported.push(dropped),
      snapshot: async () => {
        for (let sock = 1; sock <= 5; sock++) probe.emit("event", ev("listen", listener(sock)));
        expect(reported).toEqual([]);
        return [];
      },
    });
    await new Promise((r) => setTimeout(r, 0));
    expect([reported, [...listening.table.values()].map((l) => l.sock)]).toEqual([[3], [1, 2]]);
  });

  it("stops following the probe and rethrows when the first snapshot fails", async () => {
    const probe = new FakeProbe();
    const failure = new Error("no /proc");
    await expect(
      startListening(probe, undefined, {
        snapshot: async () => {
          throw failure;
        },
      }),
    ).rejects.toBe(failure);
    expect(probe.listenerCount("event")).toBe(0);
  });

  it("delivers events that arrived during a failed resync as live ones", async () => {
    const probe = new FakeProbe();
    const live: [number, string][] = [];
    let fail = false;
    const listening = await startListening(probe, (x, r) => live.push([x.sock, r]), {
      snapshot: async () => {
        if (!fail) return [listener(1)];
        probe.emit("event", ev("close", listener(1)));
        throw new Error("ss missing");
      },
    });
    fail = true;
    await expect(listening.resync()).rejects.toThrow("ss missing");
    expect(live).toEqual([[1, "removed"]]);
    expect(listening.table.size).toBe(0);
  });
});
