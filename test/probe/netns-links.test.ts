import { describe, expect, it } from "vitest";
import { netnsLinks, parseIpLinks } from "../../src/probe/netns-links.js";

describe("parseIpLinks", () => {
  it("keeps index, name, kind, bridge and peer of each link, and skips entries without an index", () => {
    const json = JSON.stringify([
      { ifindex: 1, ifname: "lo", flags: ["LOOPBACK"] },
      { ifindex: 2, ifname: "eth0", link_index: 7, link_netnsid: 0, linkinfo: { info_kind: "veth" } },
      {
        ifindex: 3,
        ifname: "veth3",
        master: "br0",
        link_index: 2,
        link_netnsid: 1,
        linkinfo: { info_kind: "veth" },
      },
      { ifname: "odd" },
    ]);
    expect(parseIpLinks(json)).toEqual([
      { ifindex: 1, name: "lo" },
      { ifindex: 2, name: "eth0", kind: "veth", peerIndex: 7, peerNetnsid: 0 },
      { ifindex: 3, name: "veth3", master: "br0", kind: "veth", peerIndex: 2, peerNetnsid: 1 },
    ]);
  });

  it("refuses output that is not a JSON array", () => {
    expect(() => parseIpLinks('{"ifindex":1}')).toThrow("ip -j link did not print a JSON array");
  });
});

describe("netnsLinks", () => {
  it("lists the host's own loopback", async () => {
    expect((await netnsLinks("self")).find((l) => l.name === "lo")).toEqual({ ifindex: 1, name: "lo" });
  });

  it("throws E_PROC naming the command for a pid that does not exist", async () => {
    await expect(netnsLinks(2 ** 22 + 1)).rejects.toMatchObject({
      code: "E_PROC",
      message: expect.stringMatching(
        /^reading the links of a network namespace with `nsenter --net=\/proc\/4194305\/ns\/net -- ip -j -d link show` failed: /,
      ),
    });
  });
});
