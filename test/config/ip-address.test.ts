import { describe, expect, it } from "vitest";
import { addressSortKey, canonicalIp, unmapV4 } from "../../src/config/ip-address.js";

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
