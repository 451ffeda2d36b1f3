import { describe, expect, it } from "vitest";
import { KnownServers } from "../../../src/targets/haproxy/known-servers.js";
import { compareRender } from "../../../src/targets/haproxy/render-match.js";

const render = (...servers: string[]) =>
  [
    "global",
    "    maxconn 100",
    "backend be_web",
    ...servers.map((s) => `    server ${s}`),
    "backend be_empty",
  ].join("\n");

function knownOf(...servers: [name: string, options?: string[]][]): KnownServers {
  const known = new KnownServers();
  for (const [name, options] of servers) {
    known.set({
      backend: "be_web",
      name,
      address: "127.0.0.1",
      port: 1,
      adminState: 0,
      ...(options ? { options } : {}),
    });
  }
  return known;
}

const none = { has: () => false, keys: () => [] };
const draining = (...keys: string[]) => ({ has: (k: string) => keys.includes(k), keys: () => keys });

describe("compareRender", () => {
  it("matches a render whose servers are exactly the known ones, options compared where known", () => {
    const { outline, matches } = compareRender(
      render("a 127.0.0.1:1 check inter 2s", "b 127.0.0.1:2"),
      knownOf(["a", ["check", "inter", "2s"]], ["b"]),
      none,
    );
    expect(matches).toBe(true);
    expect(outline.rest.map((r) => r.text)).toEqual([
      "global",
      "maxconn 100",
      "backend be_web",
      "backend be_empty",
    ]);
  });

  it("does not match when the render has a server lbwatch does not know runs, or other options", () => {
    expect([
      compareRender(render("a 127.0.0.1:1", "c 127.0.0.1:3"), knownOf(["a"]), none).matches,
      compareRender(render("a 127.0.0.1:1 check"), knownOf(["a", ["check", "inter", "2s"]]), none).matches,
    ]).toEqual([false, false]);
  });

  it("does not match when a known server of a backend it renders is missing from it", () => {
    expect(compareRender(render("a 127.0.0.1:1"), knownOf(["a"], ["b"]), none).matches).toBe(false);
  });

  it("leaves out the servers being deleted, and does not match a render that still has one", () => {
    expect([
      compareRender(render("a 127.0.0.1:1"), knownOf(["a"], ["b"]), draining("be_web/b")).matches,
      compareRender(render("a 127.0.0.1:1", "b 127.0.0.1:2"), knownOf(["a"], ["b"]), draining("be_web/b"))
        .matches,
    ]).toEqual([true, false]);
  });

  it("ignores known servers of backends the render does not have", () => {
    const known = knownOf(["a"]);
    known.set({ backend: "be_other", name: "x", address: "127.0.0.1", port: 9, adminState: 0 });
    expect(compareRender(render("a 127.0.0.1:1"), known, none).matches).toBe(true);
  });
});
