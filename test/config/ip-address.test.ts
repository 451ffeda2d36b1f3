import { describe, expect, it } from "vitest";
import { addressSortKey, canonicalIp, unmapV4, unroutableReason } from "../../src/config/ip-address.js";

describe("canonicalIp", () => {
  it.each([
    ["127.0.0.1", { family: 4, address: "127.0.0.1" }],
    ["::1", { family: 6, address: "::1" }],
    ["2001:DB8:0:0:1:0:0:1", { family: 6, address: "2001:db8::1:0:0:1" }],
    ["::FFFF:10.0.0.1", { family: 6, address: "::ffff:10.0.0.1" }],
    ["::ffff:a00:1", { family: 6, address: "::ffff:10.0.0.1" }],
    ["0:0:0:0:0:0:0:0", { family: 6, address: "::" }],
  ])("writes %s as the probe does", (text, ip) => {
    expect(canonicalIp(text)).toEqual(ip);
  });

  it.each([["localhost"], ["1.2.3"], ["010.0.0.1"], ["fe80::1%eth0"], [""]])("refuses %j", (text) => {
    expect(canonicalIp(text)).toBeUndefined();
  });
});

describe("unmapV4", () => {
  it("turns an IPv4-mapped IPv6 address into IPv4 and leaves others alone", () => {
    expect([
      unmapV4({ family: 6, address: "::ffff:10.0.0.1" }),
      unmapV4({ family: 6, address: "::1" }),
      unmapV4({ family: 4, address: "10.0.0.1" }),
    ]).toEqual([
      { family: 4, address: "10.0.0.1" },
      { family: 6, address: "::1" },
      { family: 4, address: "10.0.0.1" },
    ]);
  });
});

describe("addressSortKey", () => {
  it("orders by family, then numerically", () => {
    const texts = [
      "::1",
      "10.0.0.10",
      "2001:db8::1",
      "10.0.0.9",
      "::ffff:1.2.3.4",
      "9.255.255.255",
      "fe80::",
    ];
    const sorted = texts
      .map((t) => canonicalIp(t) ?? { family: 4 as const, address: t })
      .sort((a, b) => (addressSortKey(a) < addressSortKey(b) ? -1 : 1))
      .map((ip) => ip.address);
    expect(sorted).toEqual([
      "9.255.255.255",
      "10.0.0.9",
      "10.0.0.10",
      "::1",
      "::ffff:1.2.3.4",
      "2001:db8::1",
      "fe80::",
    ]);
  });
});

describe("unroutableReason", () => {
  it("names why an address cannot be another host's backend, and passes routable unicast ones", () => {
    const texts = [
      "0.0.0.0",
      "0.1.2.3",
      "127.0.0.1",
      "169.254.169.254",
      "224.0.0.1",
      "239.255.255.250",
      "255.255.255.255",
      "240.0.0.1",
      "::",
      "::1",
      "fe80::1",
      "febf::1",
      "ff02::1",
      "::ffff:10.0.0.1",
      "10.0.0.1",
      "192.168.1.7",
      "223.255.255.255",
      "2001:db8::1",
      "fd00::3",
      "fec0::1",
    ];
    const reasons = texts.map((t) => [t, unroutableReason(canonicalIp(t) ?? { family: 4, address: t })]);
    expect(Object.fromEntries(reasons)).toEqual({
      "0.0.0.0": "unspecified",
      "0.1.2.3": "unspecified",
      "127.0.0.1": "loopback",
      "169.254.169.254": "link-local",
      "224.0.0.1": "multicast",
      "239.255.255.250": "multicast",
      "255.255.255.255": "broadcast or reserved",
      "240.0.0.1": "broadcast or reserved",
      "::": "unspecified",
      "::1": "loopback",
      "fe80::1": "link-local",
      "febf::1": "link-local",
      "ff02::1": "multicast",
      "::ffff:10.0.0.1": "IPv4-mapped (write it as IPv4)",
      "10.0.0.1": undefined,
      "192.168.1.7": undefined,
      "223.255.255.255": undefined,
      "2001:db8::1": undefined,
      "fd00::3": undefined,
      "fec0::1": undefined,
    });
  });
});
