import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import type { ServiceRule } from "../../src/config/types.js";
import type { ListenEvent, Listener } from "../../src/probe/event.js";
import type { LostInfo } from "../../src/probe/listen-probe.js";
import type { NetnsInspector } from "../../src/probe/netns-inspector.js";
import { LocalSource, type ProbeLike } from "../../src/sources/local-source.js";
import type { BackendClaim, ReplaceInfo, SourceSink } from "../../src/sources/source.js";
import {
  config,
  event,
  fakeInspector,
  HOST_NETNS,
  listener,
  recordingLogger,
  web,
} from "../registry/fakes.js";

const CONTAINER = 4026532999;

class FakeProbe
  extends EventEmitter<{ event: [ListenEvent]; lost: [LostInfo]; error: [Error] }>
  implements ProbeLike
{
  readonly hook = "fake";
  closed = false;
  stats() {
    return { events: 0, drops: 0 };
  }
  close() {
    this.closed = true;
  }
}

type Delivery =
  | { kind: "replace"; claims: BackendClaim[]; info: ReplaceInfo }
  | { kind: "update"; upserts: BackendClaim[]; removals: string[] };

class RecordingSink implements SourceSink {
  readonly deliveries: Delivery[] = [];
  replace(claims: Iterable<BackendClaim>, info: ReplaceInfo) {
    this.deliveries.push({ kind: "replace", claims: [...claims], info });
  }
  update(upserts: readonly BackendClaim[], removals: readonly string[]) {
    this.deliveries.push({ kind: "update", upserts: [...upserts], removals: [...removals] });
  }
}

function claim(fields: Partial<BackendClaim> = {}): BackendClaim {
  return {
    key: "5000",
    service: "web",
    family: 4,
    address: "127.0.0.1",
    port: 8000,
    host: "h1",
    pid: 100,
    comm: "python3",
    uid: 1000,
    netns: HOST_NETNS,
    backlog: 128,
    since: expect.any(Number) as unknown as number,
    ...fields,
  };
}

async function started(
  options: {
    services?: ServiceRule[];
    snapshot?: () => Promise<Listener[]>;
    inspector?: NetnsInspector;
  } = {},
) {
  const { log, lines } = recordingLogger();
  const probe = new FakeProbe();
  const sink = new RecordingSink();
  const source = new LocalSource(
    { config: config(options.services ?? [web]), log, hostId: "h1", once: false },
    {
      openProbe: () => probe,
      snapshot: options.snapshot ?? (async () => []),
      hostNetns: () => HOST_NETNS,
      inspector: options.inspector ?? fakeInspector({}).inspector,
      cgroupPath: async (pid) => (pid === 100 ? "/system.slice/web.service" : "/user.slice/user-1000.slice"),
    },
  );
  await source.start(sink);
  /** Lets the queue place what was emitted. */
  const settle = () => new Promise((r) => setTimeout(r, 10));
  return { source, probe, sink, lines, settle };
}

describe("LocalSource", () => {
  it("delivers the snapshot first, then a claim per matching listen and a withdrawal per close", async () => {
    const { probe, sink, settle } = await started({
      snapshot: async () => [listener({ sock: 1, port: 8001 })],
    });
    probe.emit("event", event("listen", { sock: 2, port: 8002 }));
    probe.emit("event", event("close", { sock: 1, port: 8001 }));
    await settle();
    expect(sink.deliveries).toEqual([
      { kind: "replace", claims: [claim({ key: "1", port: 8001 })], info: { reason: "initial" } },
      { kind: "update", upserts: [claim({ key: "2", port: 8002 })], removals: [] },
      { kind: "update", upserts: [], removals: ["1"] },
    ]);
  });

  it("logs its start-up phases at debug: the probe attached, then the snapshot with its size and time", async () => {
    const { lines } = await started({ snapshot: async () => [listener({ sock: 1, port: 8001 })] });
    const phases = lines
      .filter((l) => l.level === 20)
      .map(({ msg, hook, listeners }) => ({ msg, hook, listeners }));
    expect(phases).toEqual([
      { msg: "probe attached", hook: "fake", listeners: undefined },
      { msg: "snapshot read", hook: undefined, listeners: 1 },
    ]);
    expect(lines.find((l) => l.msg === "snapshot read")?.ms).toEqual(expect.any(Number));
  });

  it("withdraws what a socket claimed when it listens again on a port no rule wants (its close was lost)", async () => {
    const { probe, sink, settle } = await started();
    probe.emit("event", event("listen", { sock: 7, port: 8001 }));
    probe.emit("event", event("listen", { sock: 7, port: 22 }));
    await settle();
    expect(sink.deliveries.slice(1)).toEqual([
      { kind: "update", upserts: [claim({ key: "7", port: 8001 })], removals: [] },
      { kind: "update", upserts: [], removals: ["7"] },
    ]);
  });

  it("resyncs from a fresh snapshot and names only the listeners it had wrong", async () => {
    let kernel = [listener({ sock: 1, port: 8001 }), listener({ sock: 2, port: 8002 })];
    const { source, sink } = await started({ snapshot: async () => kernel });
    kernel = [listener({ sock: 2, port: 8002 }), listener({ sock: 3, port: 8003 })];
    await source.resync("timer");
    expect(sink.deliveries.at(-1)).toEqual({
      kind: "replace",
      claims: [claim({ key: "2", port: 8002 }), claim({ key: "3", port: 8003 })],
      info: {
        reason: "timer",
        wrong: {
          count: 2,
          keys: ["3", "1"],
          sample: ["3 0.0.0.0:8003 pid 100", "1 0.0.0.0:8001 pid 100"],
        },
      },
    });
  });

  it("places every held listener again under new rules", async () => {
    const { source, sink } = await started({
      snapshot: async () => [listener({ sock: 1, port: 8001 }), listener({ sock: 2, port: 9001 })],
    });
    const api: ServiceRule = { name: "api", ports: [{ from: 9000, to: 9099 }], netns: { kind: "any" } };
    await source.reconfigure({ ...config([api]), hostAddress: "127.0.0.9" });
    expect(sink.deliveries.at(-1)).toEqual({
      kind: "replace",
      claims: [claim({ key: "2", service: "api", address: "127.0.0.9", port: 9001 })],
      info: { reason: "config" },
    });
  });

  it("matches cgroup rules by the path of the listener's cgroup, and says which", async () => {
    const { probe, sink, settle } = await started({
      services: [{ ...web, cgroup: "/system.slice/web.service" }],
    });
    probe.emit("event", event("listen", { pid: 100, cgroupId: 7n, sock: 1 }));
    probe.emit("event", event("listen", { pid: 555, cgroupId: 8n, sock: 2, port: 8001 }));
    await settle();
    expect(sink.deliveries.slice(1)).toEqual([
      { kind: "update", upserts: [claim({ key: "1", cgroup: "/system.slice/web.service" })], removals: [] },
      { kind: "update", upserts: [], removals: ["2"] },
    ]);
  });

  it("reaches a listener in another netns on its routed address, and refuses loopback-only ones with one warning each", async () => {
    const { inspector } = fakeInspector({ [CONTAINER]: { v4: ["10.200.0.2"], routed: ["10.200.0.2"] } });
    const sockets = [
      listener({ netns: CONTAINER, sock: 1 }),
      listener({ netns: CONTAINER, sock: 2, addr: "127.0.0.1", port: 8001 }),
    ];
    const { source, sink, lines } = await started({ inspector, snapshot: async () => sockets });
    // A resync places every socket again: the refusal must not be logged again.
    await source.resync("timer");
    expect(sink.deliveries.map((d) => (d.kind === "replace" ? d.claims : []))).toEqual([
      [claim({ key: "1", address: "10.200.0.2", netns: CONTAINER })],
      [claim({ key: "1", address: "10.200.0.2", netns: CONTAINER })],
    ]);
    expect(lines.filter((l) => l.msg === "listener refused as a backend")).toEqual([
      {
        level: 40,
        msg: "listener refused as a backend",
        source: "local",
        service: "web",
        sock: 2,
        pid: 100,
        uid: 1000,
        comm: "python3",
        addr: "127.0.0.1",
        port: 8001,
        netns: CONTAINER,
        reason: "127.0.0.1 is the loopback of another network namespace",
      },
    ]);
  });

  it("delivers in event order even when an address lookup is slow", async () => {
    let release: () => void = () => {};
    const slow = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { inspector } = fakeInspector({ [CONTAINER]: { v4: ["10.200.0.2"], routed: ["10.200.0.2"] } });
    const { probe, sink, settle } = await started({
      inspector: {
        ...inspector,
        facts: async (pid, netns) => {
          await slow;
          return inspector.facts(pid, netns);
        },
      },
    });
    probe.emit("event", event("listen", { netns: CONTAINER }));
    probe.emit("event", event("close", { netns: CONTAINER }));
    release();
    await settle();
    expect(
      sink.deliveries.slice(1).map((d) => d.kind === "update" && [d.upserts.length, d.removals]),
    ).toEqual([
      [1, []],
      [0, ["5000"]],
    ]);
  });

  it("resyncs when the probe reports lost events", async () => {
    const { probe, sink } = await started();
    probe.emit("lost", { drops: 3, reason: "ring-full" });
    await new Promise((r) => setTimeout(r, 20));
    expect(sink.deliveries.at(-1)).toMatchObject({ kind: "replace", info: { reason: "lost" } });
  });
});

describe("LocalSource under a flood", () => {
  it("delivers closes and listens on ports no rule wants without a lookup, in order with those that need one", async () => {
    let release: () => void = () => {};
    const slow = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { inspector } = fakeInspector({ [CONTAINER]: { v4: ["10.200.0.2"], routed: ["10.200.0.2"] } });
    const { probe, sink, settle } = await started({
      inspector: {
        ...inspector,
        facts: async (pid, netns) => {
          await slow;
          return inspector.facts(pid, netns);
        },
      },
    });
    // Nothing queued: a listen on an unwanted port is delivered at once, synchronously.
    probe.emit("event", event("listen", { sock: 1, port: 22 }));
    expect(sink.deliveries.at(-1)).toEqual({ kind: "update", upserts: [], removals: ["1"] });
    // One that needs a lookup holds back what follows it, whatever its kind.
    probe.emit("event", event("listen", { netns: CONTAINER, sock: 2 }));
    probe.emit("event", event("listen", { sock: 3, port: 22 }));
    expect(sink.deliveries).toHaveLength(2);
    release();
    await settle();
    expect(
      sink.deliveries.slice(2).map((d) => d.kind === "update" && [d.upserts.map((c) => c.key), d.removals]),
    ).toEqual([
      [["2"], []],
      [[], ["3"]],
    ]);
  });
});
