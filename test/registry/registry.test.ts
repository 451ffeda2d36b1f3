import { describe, expect, it } from "vitest";
import type { NetnsInspector } from "../../src/probe/netns-inspector.js";
import type { Backend } from "../../src/registry/backend.js";
import { isEmptyChange, Registry, type RegistryChange } from "../../src/registry/registry.js";
import { config, event, fakeInspector, HOST_NETNS, listener, recordingLogger, web } from "./fakes.js";

const CONTAINER = 4026532999;

function registry(services = [web], inspector: NetnsInspector = fakeInspector({}).inspector) {
  const { log, lines } = recordingLogger();
  const reg = new Registry(config(services), {
    log,
    hostNetns: HOST_NETNS,
    inspector,
    cgroupPath: async (pid) => (pid === 100 ? "/system.slice/web.service" : "/user.slice/user-1000.slice"),
  });
  return { reg, lines };
}

function backend(fields: Partial<Backend> = {}): Backend {
  return {
    id: "b127_0_0_1_8000",
    service: "web",
    address: "127.0.0.1",
    port: 8000,
    endpoint: "127.0.0.1:8000",
    family: 4,
    pid: 100,
    comm: "python3",
    uid: 1000,
    netns: HOST_NETNS,
    backlog: 128,
    sock: 5000,
    ...fields,
  };
}

const none: RegistryChange = { added: [], removed: [], updated: [] };

describe("Registry", () => {
  it("turns a matching listen into a backend and its close into a removal", async () => {
    const { reg } = registry();
    expect(await reg.applyEvent(event("listen", { ts: 7n }))).toEqual({
      added: [backend()],
      removed: [],
      updated: [],
      firstEventTs: 7n,
    });
    expect(reg.backends()).toEqual([backend()]);
    expect(await reg.applyEvent(event("close", { ts: 9n }))).toEqual({
      added: [],
      removed: [backend()],
      updated: [],
      firstEventTs: 9n,
    });
    expect(reg.backends()).toEqual([]);
  });

  it("holds but ignores a listener that matches no service", async () => {
    const { reg } = registry();
    expect(await reg.applyEvent(event("listen", { port: 22 }))).toEqual(none);
    expect([reg.size, reg.backends()]).toEqual([1, []]);
  });

  it("keeps one backend for SO_REUSEPORT siblings until the last one closes", async () => {
    const { reg } = registry();
    const added = await reg.applyEvent(event("listen", { pid: 200, sock: 1 }));
    const sibling = await reg.applyEvent(event("listen", { pid: 100, sock: 2 }));
    const third = await reg.applyEvent(event("listen", { pid: 300, sock: 3 }));
    expect([added.added, sibling, third]).toEqual([
      [backend({ pid: 200, sock: 1 })],
      // The lowest pid speaks for the backend, whatever the arrival order.
      { ...none, updated: [backend({ pid: 100, sock: 2 })], firstEventTs: 1_000n },
      none,
    ]);
    const closes = [
      await reg.applyEvent(event("close", { pid: 100, sock: 2 })),
      await reg.applyEvent(event("close", { pid: 300, sock: 3 })),
      await reg.applyEvent(event("close", { pid: 200, sock: 1 })),
    ];
    expect(closes).toEqual([
      { ...none, updated: [backend({ pid: 200, sock: 1 })], firstEventTs: 1_000n },
      none,
      { ...none, removed: [backend({ pid: 200, sock: 1 })], firstEventTs: 1_000n },
    ]);
  });

  it("counts a socket seen in both the snapshot and the stream once", async () => {
    const { reg } = registry();
    const seeded = await reg.reconcile([listener()]);
    const duplicate = await reg.applyEvent(event("listen"));
    expect([seeded, duplicate, reg.backends()]).toEqual([{ ...none, added: [backend()] }, none, [backend()]]);
    expect(await reg.applyEvent(event("close"))).toEqual({
      ...none,
      removed: [backend()],
      firstEventTs: 1_000n,
    });
  });

  it("ignores a close of a socket it never saw", async () => {
    const { reg } = registry();
    expect(await reg.applyEvent(event("close", { sock: 999 }))).toEqual(none);
  });

  it("replaces a held socket whose listen reports another address (its close was lost)", async () => {
    const { reg } = registry();
    await reg.applyEvent(event("listen"));
    expect(await reg.applyEvent(event("listen", { port: 8001 }))).toEqual({
      added: [backend({ id: "b127_0_0_1_8001", port: 8001, endpoint: "127.0.0.1:8001" })],
      removed: [backend()],
      updated: [],
      firstEventTs: 1_000n,
    });
  });

  it("reconciles with a fresh snapshot after lost events, returning only the wrong entries", async () => {
    const { reg } = registry();
    await reg.applyEvent(event("listen", { sock: 1, port: 8001 }));
    await reg.applyEvent(event("listen", { sock: 2, port: 8002 }));
    // Lost: the close of sock 1, the listen of sock 3. The snapshot tells the truth.
    const change = await reg.reconcile([
      listener({ sock: 2, port: 8002 }),
      listener({ sock: 3, port: 8003 }),
      listener({ sock: 3, port: 8003 }),
    ]);
    const at = (port: number, sock: number) =>
      backend({ id: `b127_0_0_1_${port}`, port, endpoint: `127.0.0.1:${port}`, sock });
    expect(change).toEqual({ added: [at(8003, 3)], removed: [at(8001, 1)], updated: [] });
    expect(reg.backends()).toEqual([at(8002, 2), at(8003, 3)]);
    expect(
      isEmptyChange(
        await reg.reconcile([listener({ sock: 2, port: 8002 }), listener({ sock: 3, port: 8003 })]),
      ),
    ).toBe(true);
  });

  it("maps every held listener again under new rules", async () => {
    const { reg } = registry();
    await reg.applyEvent(event("listen", { sock: 1, port: 8001 }));
    await reg.applyEvent(event("listen", { sock: 2, port: 9001 }));
    const api = { name: "api", ports: [{ from: 9000, to: 9099 }], netns: { kind: "any" as const } };
    const change = await reg.setRules({ ...config([api]), hostAddress: "127.0.0.9" });
    expect(change).toEqual({
      added: [
        backend({
          id: "b127_0_0_9_9001",
          service: "api",
          address: "127.0.0.9",
          port: 9001,
          endpoint: "127.0.0.9:9001",
          sock: 2,
        }),
      ],
      removed: [backend({ id: "b127_0_0_1_8001", port: 8001, endpoint: "127.0.0.1:8001", sock: 1 })],
      updated: [],
    });
  });

  it("matches cgroup rules by the path of the listener's cgroup", async () => {
    const { reg } = registry([{ ...web, cgroup: "/system.slice/web.service" }]);
    const changes = [
      await reg.applyEvent(event("listen", { pid: 100, cgroupId: 7n, sock: 1 })),
      await reg.applyEvent(event("listen", { pid: 555, cgroupId: 8n, sock: 2, port: 8001 })),
    ];
    expect(changes.map((c) => c.added.map((b) => b.sock))).toEqual([[1], []]);
  });

  it("reaches a listener in another netns on its routed address, and refuses loopback-only ones with one warning each", async () => {
    const { inspector } = fakeInspector({ [CONTAINER]: { v4: ["10.200.0.2"], routed: ["10.200.0.2"] } });
    const { reg, lines } = registry([web], inspector);
    const inContainer = await reg.applyEvent(event("listen", { netns: CONTAINER, sock: 1 }));
    const loopback = await reg.applyEvent(
      event("listen", { netns: CONTAINER, sock: 2, addr: "127.0.0.1", port: 8001 }),
    );
    expect([inContainer.added, loopback]).toEqual([
      [
        backend({
          id: "b10_200_0_2_8000",
          address: "10.200.0.2",
          endpoint: "10.200.0.2:8000",
          netns: CONTAINER,
          sock: 1,
        }),
      ],
      none,
    ]);
    // A resync places every socket again: the refusal must not be logged again.
    await reg.reconcile([
      listener({ netns: CONTAINER, sock: 1 }),
      listener({ netns: CONTAINER, sock: 2, addr: "127.0.0.1", port: 8001 }),
    ]);
    expect(lines.filter((l) => l.msg === "listener refused as a backend")).toEqual([
      {
        level: 40,
        msg: "listener refused as a backend",
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

  it("applies calls in call order even when an address lookup is slow", async () => {
    let release: () => void = () => {};
    const slow = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { inspector } = fakeInspector({ [CONTAINER]: { v4: ["10.200.0.2"], routed: ["10.200.0.2"] } });
    const { reg } = registry([web], {
      ...inspector,
      facts: async (pid, netns) => {
        await slow;
        return inspector.facts(pid, netns);
      },
    });
    const listen = reg.applyEvent(event("listen", { netns: CONTAINER }));
    const close = reg.applyEvent(event("close", { netns: CONTAINER }));
    release();
    const [opened, closed] = await Promise.all([listen, close]);
    expect([opened.added.length, closed.removed.length, reg.backends()]).toEqual([1, 1, []]);
  });
});
