import { describe, expect, it } from "vitest";
import {
  ADMIN_FDRAIN,
  ADMIN_FMAINT,
  isEmptyPlan,
  type Memory,
  planChange,
  planFull,
  type RunningServer,
  splitAddress,
} from "../../../src/targets/haproxy/live-plan.js";
import type { ServerSpec } from "../../../src/targets/haproxy/runtime-commands.js";

const spec = (name: string, port: number, options: string[] = []): ServerSpec => ({
  backend: "be_web",
  name,
  address: `127.0.0.1:${port}`,
  options,
});
const running = (name: string, port: number, adminState = 0, options?: string[]): RunningServer => ({
  backend: "be_web",
  name,
  address: "127.0.0.1",
  port,
  adminState,
  ...(options ? { options } : {}),
});
const memory = (draining: string[] = [], operator: [string, "maint" | "drain"][] = []): Memory => ({
  draining: new Set(draining),
  enabling: new Set(),
  operator: new Map(operator),
});
const desired = (...specs: ServerSpec[]) => new Map(specs.map((s) => [`${s.backend}/${s.name}`, s]));
const managed = new Set(["be_web"]);

describe("planFull", () => {
  it("adds what is missing and takes out what no render has, in the backends lbwatch manages only", () => {
    const plan = planFull(
      desired(spec("a", 1), spec("b", 2)),
      managed,
      [running("a", 1), running("c", 3), { ...running("x", 9), backend: "be_other" }],
      memory(),
    );
    expect([plan.add, plan.remove, plan.ready, plan.park, plan.reload]).toEqual([
      [{ spec: spec("b", 2), state: "ready" }],
      [running("c", 3)],
      [],
      [],
      undefined,
    ]);
  });

  it("leaves a server it is deleting to the drain queue, unless its maintenance never took (ack lost)", () => {
    const plan = planFull(
      desired(),
      managed,
      [running("a", 1, ADMIN_FMAINT), running("b", 2)],
      memory(["be_web/a", "be_web/b"]),
    );
    expect(plan.remove).toEqual([running("b", 2)]);
  });

  it("sets ready a server it added whose enable was lost, instead of taking its maintenance for an operator's", () => {
    const live = [running("a", 1, ADMIN_FMAINT), running("b", 2, ADMIN_FMAINT)];
    const plan = planFull(desired(spec("a", 1), spec("b", 2)), managed, live, {
      ...memory(),
      enabling: new Set(["be_web/a"]),
    });
    expect([plan.ready, [...plan.operatorSeen]]).toEqual([[spec("a", 1)], [["be_web/b", "maint"]]]);
  });

  it("respects an operator's maintenance and drain, and forgets them once the operator sets ready", () => {
    const plan = planFull(
      desired(spec("a", 1), spec("b", 2), spec("c", 3)),
      managed,
      [running("a", 1, ADMIN_FMAINT), running("b", 2, ADMIN_FDRAIN), running("c", 3)],
      memory(
        [],
        [["c", "maint"]].map(([k, s]) => [`be_web/${k}`, s as "maint"]),
      ),
    );
    expect([plan.add, plan.ready, [...plan.operatorSeen]]).toEqual([
      [],
      [],
      [
        ["be_web/a", "maint"],
        ["be_web/b", "drain"],
        ["be_web/c", "ready"],
      ],
    ]);
  });

  it("puts back in rotation a server lbwatch was draining that is desired again, and not one it is not draining", () => {
    const plan = planFull(
      desired(spec("a", 1)),
      managed,
      [running("a", 1, ADMIN_FMAINT)],
      memory(["be_web/a"]),
    );
    expect(plan.ready).toEqual([spec("a", 1)]);
  });

  it("re-adds a server an operator had in maintenance in maintenance", () => {
    const plan = planFull(desired(spec("a", 1)), managed, [], memory([], [["be_web/a", "maint"]]));
    expect(plan.add).toEqual([{ spec: spec("a", 1), state: "maint" }]);
  });

  it("asks for a reload when a server's options changed, but not for `disabled` alone", () => {
    const changed = planFull(desired(spec("a", 1, ["check"])), managed, [running("a", 1, 0, [])], memory());
    expect(changed.reload).toBe("server be_web/a changed its options");
    const parked = planFull(
      desired(spec("a", 1, ["check", "disabled"])),
      managed,
      [running("a", 1, 0, ["check"])],
      memory(),
    );
    expect([parked.reload, parked.park, [...parked.operatorSeen]]).toEqual([
      undefined,
      [spec("a", 1, ["check", "disabled"])],
      [],
    ]);
  });

  it("readies a server whose line no longer says `disabled` (a backend that became ready)", () => {
    const plan = planFull(
      desired(spec("a", 1, ["check"])),
      managed,
      [running("a", 1, ADMIN_FMAINT | 0x04, ["check", "disabled"])],
      memory(),
    );
    expect([plan.ready, plan.reload]).toEqual([[spec("a", 1, ["check"])], undefined]);
  });

  it("readdresses a server that runs on another address under the same name", () => {
    const plan = planFull(desired(spec("a", 1)), managed, [running("a", 7)], memory());
    expect(plan.readdress).toEqual([{ ref: spec("a", 1), ip: "127.0.0.1", port: 1 }]);
  });
});

describe("planChange", () => {
  it("removes only servers known to run, and adds only those not known", () => {
    const known = new Map([["be_web/a", running("a", 1)]]);
    const plan = planChange(
      [spec("a", 1), spec("b", 2)],
      [{ backend: "be_web", name: "c" }],
      known,
      memory(),
    );
    expect([plan.add, plan.remove, plan.ready]).toEqual([[{ spec: spec("b", 2), state: "ready" }], [], []]);
    const gone = planChange([], [{ backend: "be_web", name: "a" }], known, memory());
    expect(gone.remove).toEqual([{ backend: "be_web", name: "a" }]);
  });

  it("keeps a remembered operator maintenance when a drained server comes back", () => {
    const known = new Map([["be_web/a", running("a", 1, ADMIN_FMAINT)]]);
    const plan = planChange([spec("a", 1)], [], known, memory(["be_web/a"], [["be_web/a", "maint"]]));
    // Not deleted after all, and not put back in rotation: it stays as the operator left it.
    expect([plan.add, plan.ready, plan.keep, isEmptyPlan(plan)]).toEqual([[], [], [spec("a", 1)], false]);
  });
});

describe("splitAddress", () => {
  it("reads IPv4 and bracketed IPv6 endpoints in canonical form, and nothing else", () => {
    expect([
      splitAddress("127.0.0.1:80"),
      splitAddress("[::0001]:81"),
      splitAddress("db.local:5432"),
    ]).toEqual([{ ip: "127.0.0.1", port: 80 }, { ip: "::1", port: 81 }, undefined]);
  });
});
