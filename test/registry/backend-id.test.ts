import { describe, expect, it } from "vitest";
import { backendId, endpointOf } from "../../src/registry/backend-id.js";

describe("backendId", () => {
  it.each([
    [4, "127.0.0.1", 8001, "b127_0_0_1_8001"],
    [6, "::1", 80, "b6__1_80"],
    [6, "2001:db8::1", 443, "b62001_db8__1_443"],
    [6, "fd00:1:2:3:4:5:6:7", 8080, "b6fd00_1_2_3_4_5_6_7_8080"],
  ] as const)("names %s %s port %d as %s", (family, address, port, id) => {
    expect(backendId(family, address, port)).toBe(id);
  });

  it("uses only characters valid in HAProxy server and nginx names", () => {
    expect(backendId(6, "fe80::abcd:1", 65535)).toMatch(/^[A-Za-z0-9_]+$/);
  });

  it("never gives an IPv4 and an IPv6 backend the same id", () => {
    const v4: string[] = [];
    const v6: string[] = [];
    for (const a of [0, 1, 6, 62, 127, 255]) {
      for (const port of [1, 6, 62, 80]) {
        v4.push(backendId(4, `${a}.${a}.0.1`, port), backendId(4, `6.${a}.1.${a}`, port));
        v6.push(
          backendId(6, `${a}::1`, port),
          backendId(6, `::${a}`, port),
          backendId(6, `6:${a}:1:${a}:0:1:2:3`, port),
        );
      }
    }
    expect(v4.filter((id) => v6.includes(id))).toEqual([]);
  });
});

describe("endpointOf", () => {
  it("brackets IPv6 addresses only", () => {
    expect([endpointOf(4, "10.0.0.1", 80), endpointOf(6, "::1", 80)]).toEqual(["10.0.0.1:80", "[::1]:80"]);
  });
});
