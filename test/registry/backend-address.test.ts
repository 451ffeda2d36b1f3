import { describe, expect, it } from "vitest";
import type { ServiceRule } from "../../src/config/types.js";
import { BackendAddresses } from "../../src/registry/backend-address.js";
import { type FakeNetns, fakeInspector, HOST_NETNS, listener, web } from "./fakes.js";

const CONTAINER = 4026532999;
const OTHER = 4026533000;

function resolver(namespaces: Record<number, FakeNetns | Error>) {
  const { inspector, calls } = fakeInspector(namespaces);
  const addresses = new BackendAddresses({
    hostNetns: HOST_NETNS,
    hostAddress: "127.0.0.1",
    hostAddress6: "::1",
    inspector,
  });
  return { addresses, calls };
}

const USERNS_REFUSED =
  "its network namespace belongs to a user namespace other than the initial one (any user can make " +
  "such a namespace, with any address); set userns: allow on the service to accept it";

describe("BackendAddresses", () => {
  it("maps host-netns wildcards to hostAddress and hostAddress6, and keeps specific addresses", async () => {
    const { addresses, calls } = resolver({});
    const results = await Promise.all(
      [
        listener({ addr: "0.0.0.0" }),
        listener({ family: 6, addr: "::" }),
        listener({ addr: "127.0.0.5" }),
        listener({ family: 6, addr: "::ffff:127.0.0.6" }),
        listener({ family: 6, addr: "::ffff:0.0.0.0" }),
        listener({ family: 6, addr: "::1" }),
      ].map((l) => addresses.resolve(l, web)),
    );
    expect(results).toEqual([
      { ip: { family: 4, address: "127.0.0.1" } },
      { ip: { family: 6, address: "::1" } },
      { ip: { family: 4, address: "127.0.0.5" } },
      { ip: { family: 4, address: "127.0.0.6" } },
      { ip: { family: 4, address: "127.0.0.1" } },
      { ip: { family: 6, address: "::1" } },
    ]);
    expect(calls).toEqual([]);
  });

  it("refuses link-local, multicast and broadcast addresses even in the host netns", async () => {
    const { addresses } = resolver({});
    const refused = await Promise.all(
      ["169.254.169.254", "224.0.0.1", "255.255.255.255", "::ffff:169.254.1.1", "fe80::1", "ff02::1"].map(
        (addr) => addresses.resolve(listener({ family: addr.includes(":") ? 6 : 4, addr }), web),
      ),
    );
    expect(refused).toEqual([
      { refused: "169.254.169.254 is link-local" },
      { refused: "224.0.0.1 is multicast" },
      { refused: "255.255.255.255 is broadcast" },
      { refused: "169.254.1.1 is link-local" },
      { refused: "fe80::1 is link-local" },
      { refused: "ff02::1 is multicast" },
    ]);
  });

  it("reaches a listener in another netns on an address the host routes into it, reading each netns once", async () => {
    const { addresses, calls } = resolver({
      [CONTAINER]: { v4: ["10.200.0.10", "10.200.0.9"], v6: ["fd00::2"], routed: ["10.200.0.9", "fd00::2"] },
    });
    const results = [
      await addresses.resolve(listener({ pid: 42, netns: CONTAINER }), web),
      await addresses.resolve(listener({ pid: 43, netns: CONTAINER, family: 6, addr: "::" }), web),
      await addresses.resolve(listener({ pid: 42, netns: CONTAINER, addr: "10.200.0.9", port: 8001 }), web),
    ];
    expect(results).toEqual([
      { ip: { family: 4, address: "10.200.0.9" } },
      { ip: { family: 6, address: "fd00::2" } },
      { ip: { family: 4, address: "10.200.0.9" } },
    ]);
    expect(calls).toEqual([
      `userns ${CONTAINER} via 42`,
      `facts ${CONTAINER} via 42`,
      "route 10.200.0.9",
      "route fd00::2",
    ]);
  });

  it("picks the lowest address the host reaches, and a dual-stack listener's IPv4 one without IPv6", async () => {
    const { addresses } = resolver({
      [CONTAINER]: { v4: ["10.1.0.1", "10.200.0.9"], routed: ["10.200.0.9"] },
    });
    expect(
      await addresses.resolve(listener({ pid: 42, netns: CONTAINER, family: 6, addr: "::" }), web),
    ).toEqual({
      ip: { family: 4, address: "10.200.0.9" },
    });
  });

  it("refuses an address the host does not route into the listener's netns, or that the netns does not have", async () => {
    const { addresses } = resolver({
      [CONTAINER]: { v4: ["10.9.9.9"] },
      [OTHER]: { v4: ["10.200.0.9"], routed: ["10.200.0.9"] },
    });
    const results = [
      await addresses.resolve(listener({ pid: 42, netns: CONTAINER, addr: "10.9.9.9" }), web),
      await addresses.resolve(listener({ pid: 42, netns: CONTAINER }), web),
      // OTHER's address, bound in CONTAINER with IP_FREEBIND: the host would reach OTHER, not it.
      await addresses.resolve(listener({ pid: 42, netns: CONTAINER, addr: "10.200.0.9" }), web),
    ];
    expect(results).toEqual([
      {
        refused: "the host reaches 10.9.9.9 through eth0, which does not lead into its network namespace",
      },
      {
        refused:
          "no address of its network namespace is reached from the host: the host reaches 10.9.9.9 " +
          "through eth0, which does not lead into its network namespace",
      },
      { refused: "10.200.0.9 is not an address of its network namespace" },
    ]);
  });

  it("refuses another netns's loopback and link-local addresses before reading anything", async () => {
    const { addresses, calls } = resolver({ [CONTAINER]: { v4: ["169.254.169.254"] } });
    const results = [
      await addresses.resolve(listener({ netns: CONTAINER, addr: "127.0.0.1" }), web),
      await addresses.resolve(listener({ netns: CONTAINER, family: 6, addr: "::1" }), web),
      await addresses.resolve(listener({ netns: CONTAINER, addr: "169.254.169.254" }), web),
    ];
    expect(results).toEqual([
      { refused: "127.0.0.1 is the loopback of another network namespace" },
      { refused: "::1 is the loopback of another network namespace" },
      { refused: "169.254.169.254 is link-local" },
    ]);
    expect(calls).toEqual([]);
    expect(await addresses.resolve(listener({ netns: CONTAINER }), web)).toEqual({
      refused: "its network namespace has no address the host could use",
    });
  });

  it("refuses a netns of another user namespace unless the service allows it, without reading it", async () => {
    const { addresses, calls } = resolver({
      [CONTAINER]: { foreignUserns: true, v4: ["10.200.0.9"], routed: ["10.200.0.9"] },
    });
    const allowing: ServiceRule = { ...web, userns: "allow" };
    expect([
      await addresses.resolve(listener({ pid: 42, netns: CONTAINER }), web),
      await addresses.resolve(listener({ pid: 42, netns: CONTAINER }), allowing),
    ]).toEqual([{ refused: USERNS_REFUSED }, { ip: { family: 4, address: "10.200.0.9" } }]);
    expect(calls).toEqual([`userns ${CONTAINER} via 42`, `facts ${CONTAINER} via 42`, "route 10.200.0.9"]);
  });

  it("trusts the addresses of a netns its service names, without asking for routes", async () => {
    const { addresses, calls } = resolver({ [CONTAINER]: { v4: ["10.9.9.9"] } });
    const named: ServiceRule = { ...web, netns: { kind: "inode", inode: CONTAINER, source: "/run/netns/c" } };
    expect([
      await addresses.resolve(listener({ pid: 42, netns: CONTAINER }), named),
      await addresses.resolve(listener({ pid: 42, netns: CONTAINER, addr: "10.1.2.3" }), named),
      await addresses.resolve(listener({ pid: 42, netns: CONTAINER, addr: "127.0.0.1" }), named),
    ]).toEqual([
      { ip: { family: 4, address: "10.9.9.9" } },
      { ip: { family: 4, address: "10.1.2.3" } },
      { refused: "127.0.0.1 is the loopback of another network namespace" },
    ]);
    expect(calls).toEqual([`userns ${CONTAINER} via 42`, `facts ${CONTAINER} via 42`]);
  });

  it("refuses while a netns cannot be read and asks again for the next listener, also after an empty answer", async () => {
    const { addresses, calls } = resolver({ [CONTAINER]: new Error("ENOENT"), [OTHER]: {} });
    expect([
      await addresses.resolve(listener({ pid: 42, netns: CONTAINER }), web),
      await addresses.resolve(listener({ pid: 43, netns: CONTAINER }), web),
      await addresses.resolve(listener({ pid: 0, netns: OTHER }), web),
      await addresses.resolve(listener({ pid: 44, netns: OTHER }), web),
      await addresses.resolve(listener({ pid: 44, netns: OTHER }), web),
    ]).toEqual([
      { refused: "its network namespace cannot be inspected: ENOENT" },
      { refused: "its network namespace cannot be inspected: ENOENT" },
      { refused: "no readable process holds it, so its namespace cannot be inspected" },
      { refused: "its network namespace has no address the host could use" },
      { refused: "its network namespace has no address the host could use" },
    ]);
    expect(calls).toEqual([
      `userns ${CONTAINER} via 42`,
      `userns ${CONTAINER} via 43`,
      `userns ${OTHER} via 44`,
      `facts ${OTHER} via 44`,
      `facts ${OTHER} via 44`,
    ]);
  });

  it("reads namespaces and routes again after clear", async () => {
    const { addresses, calls } = resolver({ [CONTAINER]: { v4: ["10.0.0.1"], routed: ["10.0.0.1"] } });
    await addresses.resolve(listener({ pid: 42, netns: CONTAINER }), web);
    addresses.clear();
    await addresses.resolve(listener({ pid: 42, netns: CONTAINER }), web);
    expect(calls).toEqual([
      `userns ${CONTAINER} via 42`,
      `facts ${CONTAINER} via 42`,
      "route 10.0.0.1",
      `userns ${CONTAINER} via 42`,
      `facts ${CONTAINER} via 42`,
      "route 10.0.0.1",
    ]);
  });
});
