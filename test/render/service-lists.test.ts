import { describe, expect, it } from "vitest";
import type { Backend } from "../../src/registry/backend.js";
import { buildContext } from "../../src/render/context.js";
import { ServiceLists, snapshotContext } from "../../src/render/service-lists.js";
import { backendAt } from "../registry/fakes.js";

const rule = (name: string) => ({ name, ports: [{ from: 1, to: 65535 }], netns: { kind: "any" as const } });
const change = (added: Backend[], removed: Backend[] = [], updated: Backend[] = []) => ({
  added,
  removed,
  updated,
});

describe("ServiceLists", () => {
  it("keeps every service's backends in the order buildContext sorts them, change by change", () => {
    const all = [
      backendAt("web", 6, "::1", 80),
      backendAt("web", 4, "10.0.0.10", 80),
      backendAt("web", 4, "10.0.0.9", 81),
      backendAt("api", 4, "127.0.0.1", 9000),
      backendAt("web", 4, "10.0.0.9", 80),
    ];
    const lists = new ServiceLists(["web", "api", "empty"]);
    for (const b of all) lists.apply(change([b]));
    expect(lists.context()).toEqual(buildContext([rule("web"), rule("api"), rule("empty")], all));
    lists.apply(change([], [all[1] as Backend]));
    expect(lists.context()).toEqual(
      buildContext(
        [rule("web"), rule("api"), rule("empty")],
        all.filter((_, i) => i !== 1),
      ),
    );
  });

  it("replaces an updated backend in place and ignores services it does not know", () => {
    const b = backendAt("web", 4, "10.0.0.1", 80);
    const lists = new ServiceLists(["web"]);
    lists.apply(change([b, backendAt("gone", 4, "10.0.0.2", 80)]));
    lists.apply(change([], [], [{ ...b, comm: "new" }]));
    expect(lists.context().services.web?.backends.map((v) => v.comm)).toEqual(["new"]);
    expect(Object.keys(lists.context().services)).toEqual(["web"]);
  });

  it("renders a delta of only some backends, with every service present", () => {
    const lists = new ServiceLists(["web", "api"]);
    const web = [backendAt("web", 4, "10.0.0.2", 80), backendAt("web", 4, "10.0.0.1", 80)];
    lists.apply(change(web));
    expect(lists.delta([web[0] as Backend])).toEqual({
      services: {
        api: { name: "api", backends: [] },
        web: { name: "web", backends: [expect.objectContaining({ address: "10.0.0.2" })] },
      },
    });
  });

  it("hands out lists a later change alters, unless the caller snapshots them", () => {
    const lists = new ServiceLists(["web"]);
    const live = lists.context();
    const frozen = snapshotContext(live);
    lists.apply(change([backendAt("web", 4, "10.0.0.1", 80)]));
    expect([live.services.web?.backends.length, frozen.services.web?.backends.length]).toEqual([1, 0]);
  });
});
