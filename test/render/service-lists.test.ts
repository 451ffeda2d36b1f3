import { describe, expect, it } from "vitest";
import type { Backend } from "../../src/registry/backend.js";
import { buildContext } from "../../src/render/context.js";
import { ServiceLists, snapshotContext } from "../../src/render/service-lists.js";
import { backendAt } from "../registry/fakes.js";

const rule = (name: string) => ({ name, ports: [{ from: 1, to: 65535 }], netns: { kind: "any" as const } });
const services = (...names: string[]) => names.map((name) => ({ name }));
const change = (added: Backend[], removed: Backend[] = [], updated: Backend[] = []) => ({
  added,
  removed,
  updated,
});
const waiting = (b: Backend): Backend => ({ ...b, ready: false });

describe("ServiceLists", () => {
  it("keeps every service's backends in the order buildContext sorts them, change by change", () => {
    const all = [
      backendAt("web", 6, "::1", 80),
      backendAt("web", 4, "10.0.0.10", 80),
      waiting(backendAt("web", 4, "10.0.0.9", 81)),
      backendAt("api", 4, "127.0.0.1", 9000),
      waiting(backendAt("web", 4, "10.0.0.9", 80)),
      backendAt("web", 4, "10.0.0.8", 80),
    ];
    const lists = new ServiceLists(services("web", "api", "empty"));
    for (const b of all) lists.apply(change([b]));
    expect(lists.context()).toEqual(buildContext([rule("web"), rule("api"), rule("empty")], all));
    lists.apply(change([], [all[1] as Backend, all[2] as Backend]));
    expect(lists.context()).toEqual(
      buildContext(
        [rule("web"), rule("api"), rule("empty")],
        all.filter((_, i) => i > 2 || i === 0),
      ),
    );
  });

  it("builds the same lists from a reset as from the changes one by one", () => {
    const all = [
      backendAt("web", 4, "10.0.0.3", 80),
      waiting(backendAt("web", 4, "10.0.0.1", 80)),
      backendAt("web", 4, "10.0.0.2", 80),
    ];
    const byChanges = new ServiceLists(services("web"));
    for (const b of all) byChanges.apply(change([b]));
    expect(new ServiceLists(services("web"), all).context()).toEqual(byChanges.context());
  });

  it("moves a backend that became ready from waiting to backends, in order", () => {
    const [a, b, c] = [
      backendAt("web", 4, "10.0.0.1", 80),
      backendAt("web", 4, "10.0.0.2", 80),
      backendAt("web", 4, "10.0.0.3", 80),
    ] as [Backend, Backend, Backend];
    const lists = new ServiceLists(services("web"), [a, waiting(b), c]);
    const ids = () => {
      const web = lists.context().services.web;
      return {
        backends: web?.backends.map((v) => [v.address, v.ready]),
        waiting: web?.waiting.map((v) => v.address),
      };
    };
    expect(ids()).toEqual({
      backends: [
        ["10.0.0.1", true],
        ["10.0.0.3", true],
      ],
      waiting: ["10.0.0.2"],
    });
    lists.apply(change([], [], [b]));
    expect(ids()).toEqual({
      backends: [
        ["10.0.0.1", true],
        ["10.0.0.2", true],
        ["10.0.0.3", true],
      ],
      waiting: [],
    });
  });

  it("replaces an updated backend in place and ignores services it does not know", () => {
    const b = backendAt("web", 4, "10.0.0.1", 80);
    const lists = new ServiceLists(services("web"));
    lists.apply(change([b, backendAt("gone", 4, "10.0.0.2", 80)]));
    lists.apply(change([], [], [{ ...b, comm: "new" }]));
    expect(lists.context().services.web?.backends.map((v) => v.comm)).toEqual(["new"]);
    expect(Object.keys(lists.context().services)).toEqual(["web"]);
  });

  it("gives every service its meta, {} without one", () => {
    const meta = Object.freeze({ mode: "tcp", bind: "127.0.0.1:6379" });
    const lists = new ServiceLists([{ name: "redis", meta }, { name: "web" }]);
    expect([lists.context().services.redis?.meta, lists.context().services.web?.meta]).toEqual([meta, {}]);
  });

  it("renders a delta of only some backends, each in the list its readiness says, with every service present", () => {
    const lists = new ServiceLists(services("web", "api"));
    const web = [
      backendAt("web", 4, "10.0.0.2", 80),
      backendAt("web", 4, "10.0.0.1", 80),
      waiting(backendAt("web", 4, "10.0.0.3", 80)),
    ];
    lists.apply(change(web));
    expect(lists.delta([web[0] as Backend, web[2] as Backend])).toEqual({
      services: {
        api: { name: "api", meta: {}, backends: [], waiting: [] },
        web: {
          name: "web",
          meta: {},
          backends: [expect.objectContaining({ address: "10.0.0.2", ready: true })],
          waiting: [expect.objectContaining({ address: "10.0.0.3", ready: false })],
        },
      },
    });
  });

  it("hands out lists a later change alters, unless the caller snapshots them", () => {
    const lists = new ServiceLists(services("web"));
    const live = lists.context();
    const frozen = snapshotContext(live);
    lists.apply(change([backendAt("web", 4, "10.0.0.1", 80), waiting(backendAt("web", 4, "10.0.0.2", 80))]));
    expect([
      live.services.web?.backends.length,
      live.services.web?.waiting.length,
      frozen.services.web?.backends.length,
      frozen.services.web?.waiting.length,
    ]).toEqual([1, 1, 0, 0]);
  });
});
