import { describe, expect, it } from "vitest";
import { BackendSet, backendValueOf } from "../../src/agent/backend-set.js";
import { keyLayout } from "../../src/etcd/keys.js";
import { claim } from "../helpers/claims.js";

const layout = keyLayout("/lbwatch");
const key = (id: string) => `/lbwatch/v1/backends/web/web-3/${id}`;

describe("BackendSet", () => {
  it("makes one backend of sibling sockets, valued by the lowest pid whatever the order", () => {
    const set = new BackendSet(layout, "web-3");
    const high = claim("10.0.0.3", 8000, { key: "s1", pid: 300 });
    const low = claim("10.0.0.3", 8000, { key: "s2", pid: 200, comm: "worker" });
    expect(set.replace([high, low])).toEqual(new Set([key("b10_0_0_3_8000")]));
    expect(set.value(key("b10_0_0_3_8000"))).toEqual(backendValueOf(low));
    expect(set.update([], ["s2"])).toEqual(new Set([key("b10_0_0_3_8000")]));
    expect(set.value(key("b10_0_0_3_8000"))).toEqual(backendValueOf(high));
    set.update([], ["s1"]);
    expect([...set.keys()]).toEqual([]);
  });

  it("moves a claim whose socket now listens elsewhere, touching both keys", () => {
    const set = new BackendSet(layout, "web-3");
    set.replace([claim("10.0.0.3", 8000, { key: "s1" })]);
    expect(set.update([claim("fd00::3", 8001, { key: "s1" })], [])).toEqual(
      new Set([key("b10_0_0_3_8000"), key("b6fd00__3_8001")]),
    );
    expect([...set.keys()]).toEqual([key("b6fd00__3_8001")]);
    expect(set.replace([])).toEqual(new Set([key("b6fd00__3_8001")]));
  });
});
