import { describe, expect, it } from "vitest";
import type { ServiceRule } from "../../src/config/types.js";
import { matchService } from "../../src/registry/match-rules.js";
import { HOST_NETNS, listener } from "./fakes.js";

const ctx = { hostNetns: HOST_NETNS, cgroupPath: "/system.slice/web.service" };
const rule = (fields: Partial<ServiceRule>): ServiceRule => ({
  name: "web",
  ports: [{ from: 8000, to: 8099 }],
  netns: { kind: "any" },
  ...fields,
});

describe("matchService", () => {
  it("gives a listener to the first rule whose filters all match", () => {
    const rules = [rule({ name: "narrow", uid: [0] }), rule({ name: "wide" }), rule({ name: "later" })];
    expect(matchService(listener(), rules, ctx)?.name).toBe("wide");
  });

  it("ignores a listener outside every port range", () => {
    expect(matchService(listener({ port: 8100 }), [rule({})], ctx)).toBeUndefined();
  });

  it.each([
    ["uid", rule({ uid: [1000, 0] }), rule({ uid: [33] })],
    ["comm glob", rule({ comm: ["node*", "python3"] }), rule({ comm: ["py*2", "node"] })],
    ["cgroup prefix", rule({ cgroup: "/system.slice" }), rule({ cgroup: "/system.slice/web" })],
    ["exact cgroup", rule({ cgroup: "/system.slice/web.service" }), rule({ cgroup: "/user.slice" })],
    [
      "netns host",
      rule({ netns: { kind: "host" } }),
      rule({ netns: { kind: "inode", inode: 1, source: "1" } }),
    ],
    [
      "netns inode",
      rule({ netns: { kind: "inode", inode: HOST_NETNS, source: "x" } }),
      rule({ netns: { kind: "inode", inode: 5, source: "5" } }),
    ],
    ["addr", rule({ addr: ["127.0.0.1", "0.0.0.0"] }), rule({ addr: ["::"] })],
  ])("applies the %s filter", (_name, matching, failing) => {
    expect([
      matchService(listener(), [matching], ctx)?.name,
      matchService(listener(), [failing], ctx),
    ]).toEqual(["web", undefined]);
  });

  it("fails a cgroup filter when the listener's cgroup path is unknown", () => {
    expect(
      matchService(listener(), [rule({ cgroup: "/" })], { ...ctx, cgroupPath: undefined }),
    ).toBeUndefined();
  });

  it("matches a listener in another netns only with netns any or its inode", () => {
    const inContainer = listener({ netns: 4026532000 });
    const rules = [rule({ name: "host", netns: { kind: "host" } }), rule({ name: "any" })];
    expect(matchService(inContainer, rules, ctx)?.name).toBe("any");
  });
});
