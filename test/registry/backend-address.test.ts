import { describe, expect, it } from "vitest";
import { BackendAddresses, type NetnsAddresses } from "../../src/registry/backend-address.js";
import { HOST_NETNS, listener } from "./fakes.js";

const CONTAINER = 4026532999;

function resolver(answers: Record<number, NetnsAddresses | Error>) {
  const calls: number[] = [];
  const addresses = new BackendAddresses({
    hostNetns: HOST_NETNS,
    hostAddress: "127.0.0.1",
    hostAddress6: "::1",
    netnsAddresses: async (pid) => {
      calls.push(pid);
      const answer = answers[pid] ?? { v4: [], v6: [] };
      if (answer instanceof Error) throw answer;
      return answer;
    },
  });
  return { addresses, calls };
}

describe("BackendAddresses", () => {
  it("maps host-netns wildcards to hostAddress and hostAddress6, and keeps specific addresses", async () => {
    const { addresses } = resolver({});
    const results = await Promise.all(
      [
        listener({ addr: "0.0.0.0" }),
        listener({ family: 6, addr: "::" }),
        listener({ addr: "127.0.0.5" }),
        listener({ family: 6, addr: "::ffff:127.0.0.6" }),
        listener({ family: 6, addr: "::ffff:0.0.0.0" }),
      ].map((l) => addresses.resolve(l)),
    );
    expect(results).toEqual([
      { ip: { family: 4, address: "127.0.0.1" } },
      { ip: { family: 6, address: "::1" } },
      { ip: { family: 4, address: "127.0.0.5" } },
      { ip: { family: 4, address: "127.0.0.6" } },
      { ip: { family: 4, address: "127.0.0.1" } },
    ]);
  });

  it("maps a wildcard in another netns to that netns's lowest non-loopback address, read once per netns", async () => {
    const { addresses, calls } = resolver({
      42: { v4: ["10.200.0.9", "10.200.0.10"], v6: ["fe80::1", "fd00::2"] },
    });
    const results = [
      await addresses.resolve(listener({ pid: 42, netns: CONTAINER })),
      await addresses.resolve(listener({ pid: 43, netns: CONTAINER, family: 6, addr: "::" })),
      await addresses.resolve(listener({ pid: 42, netns: CONTAINER, addr: "10.200.0.10" })),
    ];
    expect(results).toEqual([
      { ip: { family: 4, address: "10.200.0.9" } },
      { ip: { family: 6, address: "fd00::2" } },
      { ip: { family: 4, address: "10.200.0.10" } },
    ]);
    expect(calls).toEqual([42]);
  });

  it("reaches a dual-stack listener in an IPv4-only netns on its IPv4 address", async () => {
    const { addresses } = resolver({ 42: { v4: ["10.200.0.9"], v6: ["fe80::1"] } });
    expect(await addresses.resolve(listener({ pid: 42, netns: CONTAINER, family: 6, addr: "::" }))).toEqual({
      ip: { family: 4, address: "10.200.0.9" },
    });
  });

  it("leaves out loopback listeners in another netns and netns without an address, asking again later", async () => {
    const { addresses, calls } = resolver({ 42: new Error("ENOENT") });
    const results = [
      await addresses.resolve(listener({ pid: 41, netns: CONTAINER, addr: "127.0.0.1" })),
      await addresses.resolve(listener({ pid: 40, netns: CONTAINER })),
      await addresses.resolve(listener({ pid: 42, netns: CONTAINER + 1 })),
      await addresses.resolve(listener({ pid: 40, netns: CONTAINER })),
    ];
    expect(results).toEqual([
      { unreachable: "loopback-only listener in another network namespace" },
      { unreachable: "its network namespace has no non-loopback address" },
      { unreachable: "cannot read the addresses of its network namespace: ENOENT" },
      { unreachable: "its network namespace has no non-loopback address" },
    ]);
    expect(calls).toEqual([40, 42, 40]);
  });

  it("reads netns addresses again after clear", async () => {
    const { addresses, calls } = resolver({ 42: { v4: ["10.0.0.1"], v6: [] } });
    await addresses.resolve(listener({ pid: 42, netns: CONTAINER }));
    addresses.clear();
    await addresses.resolve(listener({ pid: 42, netns: CONTAINER }));
    expect(calls).toEqual([42, 42]);
  });
});
