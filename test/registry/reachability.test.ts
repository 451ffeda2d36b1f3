import { describe, expect, it } from "vitest";
import type { NetnsLink } from "../../src/probe/netns-links.js";
import { portInto, unusableAddress } from "../../src/registry/reachability.js";

describe("unusableAddress", () => {
  it.each([
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["169.254.169.254", "link-local"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.255", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["::", "unspecified"],
    ["fe80::1", "link-local"],
    ["febf::1", "link-local"],
    ["ff02::1", "multicast"],
  ])("refuses %s anywhere: %s", (address, kind) => {
    const ip = { family: address.includes(":") ? 6 : 4, address } as const;
    expect([unusableAddress(ip, false), unusableAddress(ip, true)]).toEqual([kind, kind]);
  });

  it.each([["127.0.0.1"], ["127.8.9.10"], ["::1"]])(
    "allows loopback %s only in the host netns",
    (address) => {
      const ip = { family: address.includes(":") ? 6 : 4, address } as const;
      expect([unusableAddress(ip, false), unusableAddress(ip, true)]).toEqual([
        undefined,
        "the loopback of another network namespace",
      ]);
    },
  );

  it.each([
    ["10.0.0.1"],
    ["192.0.2.1"],
    ["223.255.255.255"],
    ["240.0.0.1"],
    ["fd00::1"],
    ["2001:db8::1"],
    ["fec0::1"],
  ])("allows %s", (address) => {
    const ip = { family: address.includes(":") ? 6 : 4, address } as const;
    expect([unusableAddress(ip, false), unusableAddress(ip, true)]).toEqual([undefined, undefined]);
  });
});

describe("portInto", () => {
  const hostVeth: NetnsLink = { ifindex: 7, name: "veth7", kind: "veth", peerIndex: 2, peerNetnsid: 3 };
  const inside: NetnsLink[] = [
    { ifindex: 1, name: "lo" },
    { ifindex: 2, name: "eth0", kind: "veth", peerIndex: 7, peerNetnsid: 0 },
  ];

  it("finds the host veth whose peer is the namespace's veth, directly or among bridge ports", () => {
    const other: NetnsLink = { ifindex: 8, name: "veth8", kind: "veth", peerIndex: 2, peerNetnsid: 4 };
    expect([
      portInto({ dev: "veth7", ports: [hostVeth] }, inside),
      portInto({ dev: "br0", ports: [other, hostVeth] }, inside),
    ]).toEqual([hostVeth, hostVeth]);
  });

  it("needs both directions to agree, both ends to be veths and both peers elsewhere", () => {
    expect([
      // Host port 8 names peer 2, but the namespace's veth 2 names 7: another namespace's pair.
      portInto({ dev: "veth8", ports: [{ ...hostVeth, ifindex: 8 }] }, inside),
      // A NIC whose index numbers happen to match.
      portInto({ dev: "eth0", ports: [{ ifindex: 7, name: "eth0", peerIndex: 2 }] }, inside),
      // A veth pair whose both ends are inside the namespace (made there, with chosen indexes).
      portInto({ dev: "veth7", ports: [hostVeth] }, [{ ...inside[1], peerNetnsid: undefined } as NetnsLink]),
      portInto({ dev: "veth7", ports: [{ ...hostVeth, peerNetnsid: undefined }] }, inside),
    ]).toEqual([undefined, undefined, undefined, undefined]);
  });
});
