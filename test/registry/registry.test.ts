import { describe, expect, it } from "vitest";
import type { Backend } from "../../src/registry/backend.js";
import { isEmptyChange, Registry } from "../../src/registry/registry.js";
import type { BackendClaim } from "../../src/sources/source.js";

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
    netns: 4026531840,
    backlog: 128,
    since: 1,
    ...fields,
  };
}

function backend(fields: Partial<Backend> = {}): Backend {
  return {
    id: "b127_0_0_1_8000",
    service: "web",
    address: "127.0.0.1",
    port: 8000,
    endpoint: "127.0.0.1:8000",
    family: 4,
    host: "h1",
    pid: 100,
    comm: "python3",
    uid: 1000,
    netns: 4026531840,
    backlog: 128,
    source: "local",
    claim: "5000",
    since: 1,
    ready: true,
    slot: 1,
    ...fields,
  };
}

const none = { added: [], removed: [], updated: [] };

describe("Registry", () => {
  it("turns a claim into a backend and its withdrawal into a removal, with the event's timestamp", () => {
    const reg = new Registry();
    expect(reg.update("local", [claim()], [], 7n)).toEqual({ ...none, added: [backend()], firstEventTs: 7n });
    expect([...reg.backends()]).toEqual([backend()]);
    expect(reg.update("local", [], ["5000"], 9n)).toEqual({
      ...none,
      removed: [backend()],
      firstEventTs: 9n,
    });
    expect([...reg.backends()]).toEqual([]);
  });

  it("keeps one backend for several claims until the last one goes, the lowest pid speaking for it", () => {
    const reg = new Registry();
    const first = reg.update("local", [claim({ key: "1", pid: 200 })], []);
    const sibling = reg.update("local", [claim({ key: "2", pid: 100 })], []);
    const third = reg.update("local", [claim({ key: "3", pid: 300 })], []);
    expect([first.added, sibling, isEmptyChange(third)]).toEqual([
      [backend({ pid: 200, claim: "1" })],
      {
        ...none,
        updated: [backend({ pid: 100, claim: "2" })],
        updatedFrom: [backend({ pid: 200, claim: "1" })],
      },
      true,
    ]);
    expect(reg.update("local", [], ["2"])).toEqual({
      ...none,
      updated: [backend({ pid: 200, claim: "1" })],
      updatedFrom: [backend({ pid: 100, claim: "2" })],
    });
    expect(isEmptyChange(reg.update("local", [], ["3"]))).toBe(true);
    expect(reg.update("local", [], ["1"])).toEqual({ ...none, removed: [backend({ pid: 200, claim: "1" })] });
  });

  it("counts a backend claimed by two sources once, and keeps it while either still claims it", () => {
    const reg = new Registry();
    reg.update("local", [claim()], []);
    const second = reg.update("etcd-0", [claim({ key: "/lbwatch/v1/backends/web/h1/b" })], []);
    expect([second.added, second.removed, reg.size]).toEqual([[], [], 1]);
    const first = reg.update("local", [], ["5000"]);
    expect([first.added, first.removed, reg.size]).toEqual([[], [], 1]);
    expect(reg.update("etcd-0", [], ["/lbwatch/v1/backends/web/h1/b"]).removed).toHaveLength(1);
  });

  it("counts and lists the backends of several services, each once, as they come and go", () => {
    const reg = new Registry();
    reg.update(
      "local",
      [claim({ key: "1" }), claim({ key: "2", service: "api" }), claim({ key: "3", port: 8001 })],
      [],
    );
    expect([reg.size, [...reg.backends()].map((b) => `${b.service}:${b.port}`).sort()]).toEqual([
      3,
      ["api:8000", "web:8000", "web:8001"],
    ]);
    expect(reg.get("api", "b127_0_0_1_8000")?.claim).toBe("2");
    reg.update("local", [], ["2", "1"]);
    expect([reg.size, reg.get("api", "b127_0_0_1_8000"), [...reg.backends()].map((b) => b.port)]).toEqual([
      1,
      undefined,
      [8001],
    ]);
  });

  it("never compares keys across sources: the same key in two sources is two claims", () => {
    const reg = new Registry();
    reg.update("a", [claim({ key: "1", port: 8001 })], []);
    reg.update("b", [claim({ key: "1", port: 8002 })], []);
    expect([...reg.backends()].map((b) => b.port).sort()).toEqual([8001, 8002]);
  });

  it("changes nothing when a claim is repeated, also with a later `since`", () => {
    const reg = new Registry();
    reg.update("local", [claim()], []);
    expect(reg.update("local", [claim({ since: 99 })], [])).toEqual(none);
    expect(reg.replace("local", [claim({ since: 99 })])).toEqual(none);
    expect(reg.get("web", "b127_0_0_1_8000")?.since).toBe(1);
  });

  it("moves a key that now claims another backend (its withdrawal was lost)", () => {
    const reg = new Registry();
    reg.update("local", [claim()], []);
    const moved = reg.update("local", [claim({ port: 8001 })], []);
    expect(moved.removed.map((b) => b.port)).toEqual([8000]);
    expect(moved.added.map((b) => b.port)).toEqual([8001]);
  });

  it("replaces a source's claims with a full view and returns only what differed", () => {
    const reg = new Registry();
    reg.update("local", [claim({ key: "1", port: 8001 }), claim({ key: "2", port: 8002 })], []);
    reg.update("etcd-0", [claim({ key: "k", port: 9000 })], []);
    const change = reg.replace("local", [claim({ key: "2", port: 8002 }), claim({ key: "3", port: 8003 })]);
    expect([change.added.map((b) => b.port), change.removed.map((b) => b.port), change.updated]).toEqual([
      [8003],
      [8001],
      [],
    ]);
    expect([...reg.backends()].map((b) => b.port).sort()).toEqual([8002, 8003, 9000]);
  });

  it("reports a changed per-process field of the speaking claim as an update", () => {
    const reg = new Registry();
    reg.update("local", [claim()], []);
    expect(reg.update("local", [claim({ comm: "gunicorn" })], [])).toEqual({
      ...none,
      updated: [backend({ comm: "gunicorn" })],
      updatedFrom: [backend()],
    });
  });

  it("drops every claim of a source that goes away", () => {
    const reg = new Registry();
    reg.update("etcd-0", [claim({ key: "a" }), claim({ key: "b", port: 8001 })], []);
    expect(reg.drop("etcd-0").removed).toHaveLength(2);
    expect(reg.claimCount("etcd-0")).toBe(0);
  });

  it("orders the speaking claim by pid, then source, then numeric key, whatever the arrival order", () => {
    const orders = [
      ["10", "9"],
      ["9", "10"],
    ];
    const speakers = orders.map((keys) => {
      const reg = new Registry();
      for (const key of keys) reg.update("local", [claim({ key })], []);
      return reg.get("web", "b127_0_0_1_8000")?.claim;
    });
    expect(speakers).toEqual(["9", "9"]);
  });

  describe("readiness", () => {
    const gatedWeb = (service: string) => service === "web";

    it("starts a backend of a gated service not ready and makes it ready as an ordinary update", () => {
      const reg = new Registry(gatedWeb);
      expect(reg.update("local", [claim()], []).added).toEqual([backend({ ready: false })]);
      expect(reg.update("local", [claim({ key: "1", port: 9000, service: "api" })], []).added).toEqual([
        backend({
          ready: true,
          service: "api",
          port: 9000,
          claim: "1",
          id: "b127_0_0_1_9000",
          endpoint: "127.0.0.1:9000",
        }),
      ]);
      expect(reg.markReady("web", "b127_0_0_1_8000", 42n)).toEqual({
        ...none,
        updated: [backend({ ready: true })],
        updatedFrom: [backend({ ready: false })],
        firstEventTs: 42n,
      });
      expect([reg.markReady("web", "b127_0_0_1_8000"), reg.markReady("web", "nothing")]).toEqual([
        none,
        none,
      ]);
    });

    it("keeps a backend ready while a claim stands behind it, and makes one that came back wait again", () => {
      const reg = new Registry(gatedWeb);
      reg.update("local", [claim({ key: "1" })], []);
      reg.markReady("web", "b127_0_0_1_8000");
      expect(reg.update("local", [claim({ key: "2", pid: 50 })], []).updated).toEqual([
        backend({ ready: true, pid: 50, claim: "2" }),
      ]);
      reg.update("local", [], ["1", "2"]);
      expect(reg.update("local", [claim({ key: "3" })], []).added).toEqual([
        backend({ ready: false, claim: "3" }),
      ]);
    });

    it("makes the waiting backends of a service that lost its gate ready, and leaves the others", () => {
      const reg = new Registry(() => true);
      reg.update("local", [claim(), claim({ key: "1", port: 9000, service: "api" })], []);
      const change = reg.regate(gatedWeb);
      expect(change.updated.map((b) => [b.service, b.ready])).toEqual([["api", true]]);
      expect(change.updatedFrom?.map((b) => [b.service, b.ready])).toEqual([["api", false]]);
      expect(reg.get("web", "b127_0_0_1_8000")?.ready).toBe(false);
      expect(reg.regate(() => true)).toEqual(none);
    });
  });

  describe("slots", () => {
    const slotsOf = (reg: Registry, service: string) =>
      Object.fromEntries(
        [...reg.backends()].filter((b) => b.service === service).map((b) => [b.port, b.slot]),
      );

    it("numbers each service's backends from 1, keeps a number through updates and reuses the lowest free", () => {
      const reg = new Registry();
      const at = (key: string, port: number, fields: Partial<BackendClaim> = {}) =>
        claim({ key, port, ...fields });
      reg.update(
        "local",
        [at("1", 8001), at("2", 8002), at("3", 8003), at("9", 9000, { service: "api" })],
        [],
      );
      expect([slotsOf(reg, "web"), slotsOf(reg, "api")]).toEqual([
        { 8001: 1, 8002: 2, 8003: 3 },
        { 9000: 1 },
      ]);
      // Another process behind 8002 (a restart that raced its close) is an update: the number stays.
      expect(reg.update("local", [at("4", 8002, { pid: 7 })], ["2"]).updated.map((b) => b.slot)).toEqual([2]);
      reg.update("local", [], ["1", "3"]);
      reg.update("local", [at("5", 8005), at("6", 8006), at("7", 8007)], []);
      expect(slotsOf(reg, "web")).toEqual({ 8002: 2, 8005: 1, 8006: 3, 8007: 4 });
    });

    it("gives a backend that came back after its last claim went the lowest free number, not its old one", () => {
      const reg = new Registry();
      reg.update("local", [claim({ key: "1", port: 8001 }), claim({ key: "2", port: 8002 })], []);
      reg.update("local", [], ["1"]);
      reg.update("local", [], ["2"]);
      reg.update("local", [claim({ key: "3", port: 8002 })], []);
      expect(slotsOf(reg, "web")).toEqual({ 8002: 1 });
    });
  });
});
