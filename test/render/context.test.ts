import { describe, expect, it } from "vitest";
import type { ServiceRule } from "../../src/config/types.js";
import { buildContext } from "../../src/render/context.js";
import { backendAt } from "../registry/fakes.js";

const rule = (name: string): ServiceRule => ({
  name,
  ports: [{ from: 1, to: 65535 }],
  netns: { kind: "any" },
});

describe("buildContext", () => {
  it("lists every configured service by name, with its backends by family, numeric address and port", () => {
    const backends = [
      backendAt("web", 6, "::1", 80),
      backendAt("web", 4, "10.0.0.10", 80),
      backendAt("web", 4, "10.0.0.9", 81),
      backendAt("web", 4, "10.0.0.9", 80),
      backendAt("api", 4, "127.0.0.1", 9000),
      backendAt("gone", 4, "127.0.0.1", 1),
    ];
    const context = buildContext([rule("web"), rule("empty"), rule("api")], backends);
    expect(Object.keys(context.services)).toEqual(["api", "empty", "web"]);
    expect(context.services.empty).toEqual({ name: "empty", meta: {}, backends: [], waiting: [] });
    expect(context.services.web?.backends.map((b) => b.endpoint)).toEqual([
      "10.0.0.9:80",
      "10.0.0.9:81",
      "10.0.0.10:80",
      "[::1]:80",
    ]);
    expect(context.services.api?.backends).toEqual([
      {
        id: "id-127.0.0.1:9000",
        slot: 9000,
        address: "127.0.0.1",
        port: 9000,
        endpoint: "127.0.0.1:9000",
        family: 4,
        host: "h1",
        pid: 10,
        comm: "srv",
        uid: 0,
        netns: 1,
        backlog: 4096,
        ready: true,
      },
    ]);
  });

  it("lists backends waiting to be ready apart, in the same order, and each service's meta", () => {
    const backends = [
      { ...backendAt("web", 4, "10.0.0.3", 80), ready: false },
      backendAt("web", 4, "10.0.0.2", 80),
      { ...backendAt("web", 4, "10.0.0.1", 80), ready: false },
    ];
    const meta = Object.freeze({ mode: "http", check: false });
    const web = buildContext([{ ...rule("web"), meta }], backends).services.web;
    expect({
      meta: web?.meta,
      backends: web?.backends.map((b) => [b.address, b.ready]),
      waiting: web?.waiting.map((b) => [b.address, b.ready]),
    }).toEqual({
      meta,
      backends: [["10.0.0.2", true]],
      waiting: [
        ["10.0.0.1", false],
        ["10.0.0.3", false],
      ],
    });
  });

  it("gives the same context whatever order backends and services come in", () => {
    const backends = [
      backendAt("a", 4, "10.0.0.2", 1),
      backendAt("b", 4, "10.0.0.1", 2),
      backendAt("a", 4, "10.0.0.1", 3),
    ];
    const forward = buildContext([rule("a"), rule("b")], backends);
    const backward = buildContext([rule("b"), rule("a")], [...backends].reverse());
    expect(JSON.stringify(backward)).toBe(JSON.stringify(forward));
  });

  it("keeps a service named like an Object property an ordinary key", () => {
    const context = buildContext([rule("__proto__"), rule("constructor")], []);
    expect(Object.keys(context.services)).toEqual(["__proto__", "constructor"]);
  });
});
