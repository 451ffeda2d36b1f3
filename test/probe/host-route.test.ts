import { describe, expect, it } from "vitest";
import { hostPath, parseRouteGet, pathThrough } from "../../src/probe/host-route.js";
import type { NetnsLink } from "../../src/probe/netns-links.js";

describe("parseRouteGet", () => {
  it.each([
    [
      '[{"dst":"10.0.0.2","dev":"veth0","prefsrc":"10.0.0.1","flags":[],"uid":0,"cache":[]}]',
      { dev: "veth0" },
    ],
    ['[{"type":"local","dst":"127.0.0.1","dev":"lo"}]', { none: "it is an address of the host itself" }],
    ['[{"type":"blackhole","dst":"10.1.1.1"}]', { none: "its route is blackhole" }],
    ['[{"dst":"10.1.1.1"}]', { none: "its route names no interface" }],
  ])("reads %s", (json, answer) => {
    expect(parseRouteGet(json)).toEqual(answer);
  });
});

describe("pathThrough", () => {
  const links: NetnsLink[] = [
    { ifindex: 1, name: "lo" },
    { ifindex: 2, name: "eth0" },
    { ifindex: 3, name: "br0", kind: "bridge" },
    { ifindex: 4, name: "veth4", kind: "veth", master: "br0", peerIndex: 2, peerNetnsid: 0 },
    { ifindex: 5, name: "veth5", kind: "veth", master: "br0", peerIndex: 2, peerNetnsid: 1 },
    { ifindex: 6, name: "veth6", kind: "veth", peerIndex: 2, peerNetnsid: 2 },
  ];

  it("is the device itself, or every port of a bridge", () => {
    expect([pathThrough("veth6", links), pathThrough("br0", links), pathThrough("gone0", links)]).toEqual([
      { dev: "veth6", ports: [links[5]] },
      { dev: "br0", ports: [links[3], links[4]] },
      { none: "its route leaves through gone0, which ip link does not list" },
    ]);
  });
});

describe("hostPath on this host", () => {
  it("says an address of the host itself leads nowhere", async () => {
    expect(await hostPath("127.0.0.1")).toEqual({ none: "it is an address of the host itself" });
  });
});
