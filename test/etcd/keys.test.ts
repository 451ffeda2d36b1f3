import { describe, expect, it } from "vitest";
import { backendKey, hostKey, keyLayout, parseKey } from "../../src/etcd/keys.js";

const layout = keyLayout("/lbwatch");

describe("key layout", () => {
  it("puts backends and hosts under <prefix>/v1/", () => {
    expect(layout).toEqual({
      root: "/lbwatch/v1/",
      backends: "/lbwatch/v1/backends/",
      hosts: "/lbwatch/v1/hosts/",
    });
    expect(backendKey(layout, "web", "web-3", "b10_0_0_3_8000")).toBe(
      "/lbwatch/v1/backends/web/web-3/b10_0_0_3_8000",
    );
    expect(hostKey(layout, "web-3")).toBe("/lbwatch/v1/hosts/web-3");
  });

  it("parses what it writes and says why anything else is not a key of its own", () => {
    const keys = [
      "/lbwatch/v1/backends/web/web-3/b10_0_0_3_8000",
      "/lbwatch/v1/hosts/web-3",
      "/lbwatch/v1/hosts/web 3",
      "/lbwatch/v1/hosts/",
      "/lbwatch/v1/backends/web/web-3",
      "/lbwatch/v1/backends/web/web-3/b1/extra",
      "/lbwatch/v1/backends/web//b1",
      "/lbwatch/v1/backends/web/-x/b1",
      "/lbwatch/v1/other",
    ];
    expect(keys.map((k) => parseKey(layout, k))).toEqual([
      { kind: "backend", service: "web", hostId: "web-3", id: "b10_0_0_3_8000" },
      { kind: "host", hostId: "web-3" },
      { kind: "unknown", why: "not a valid hostId" },
      { kind: "unknown", why: "not a valid hostId" },
      { kind: "unknown", why: "not backends/<service>/<hostId>/<backend id>" },
      { kind: "unknown", why: "not backends/<service>/<hostId>/<backend id>" },
      { kind: "unknown", why: "not backends/<service>/<hostId>/<backend id>" },
      { kind: "unknown", why: "not a valid hostId" },
      { kind: "unknown", why: "neither under backends/ nor under hosts/" },
    ]);
  });
});
