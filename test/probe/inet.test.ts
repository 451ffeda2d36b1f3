import { SocketAddress } from "node:net";
import { describe, expect, it } from "vitest";
import { formatInet, formatIPv4, formatIPv6 } from "../../src/probe/inet.js";

function v6(...groups: number[]): Uint8Array {
  const b = new Uint8Array(16);
  groups.forEach((g, i) => {
    b[2 * i] = g >> 8;
    b[2 * i + 1] = g & 0xff;
  });
  return b;
}

describe("formatIPv4", () => {
  it("prints network-order bytes as a dotted quad, honouring the offset", () => {
    expect(formatIPv4(Uint8Array.of(9, 127, 0, 0, 1), 1)).toBe("127.0.0.1");
    expect(formatIPv4(Uint8Array.of(0, 0, 0, 0))).toBe("0.0.0.0");
  });
});

describe("formatIPv6", () => {
  it("prints the canonical forms lbwatch documents", () => {
    expect(formatIPv6(v6(0, 0, 0, 0, 0, 0, 0, 0))).toBe("::");
    expect(formatIPv6(v6(0, 0, 0, 0, 0, 0, 0, 1))).toBe("::1");
    expect(formatIPv6(v6(0, 0, 0, 0, 0, 0xffff, 0x7f00, 1))).toBe("::ffff:127.0.0.1");
    expect(formatIPv6(v6(0xfe80, 0, 0, 0, 0, 0, 0, 1))).toBe("fe80::1");
  });

  it("compresses the longest zero run, the first on a tie, and never a single zero group", () => {
    expect(formatIPv6(v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1))).toBe("2001:db8::1:0:0:1");
    expect(formatIPv6(v6(0x2001, 0xdb8, 0, 1, 0, 0, 0, 1))).toBe("2001:db8:0:1::1");
    expect(formatIPv6(v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1))).toBe("2001:db8:0:1:1:1:1:1");
    expect(formatIPv6(v6(1, 0, 0, 0, 0, 0, 0, 0))).toBe("1::");
  });

  it("agrees with node:net on a spread of addresses", () => {
    const samples = [
      v6(0x2001, 0xdb8, 0, 0, 0, 0, 0xab, 0xcdef),
      v6(0, 0, 0, 0, 0, 0, 0x0a00, 1),
      v6(0, 0, 0, 0, 0, 0, 1, 0),
      v6(0, 0, 0, 0, 0, 0xffff, 0, 0),
      v6(0, 0, 0, 0, 0, 0xfffe, 0, 1),
      v6(0xff02, 0, 0, 0, 0, 0, 0, 0xfb),
      v6(0, 0, 0, 0, 0, 0xffff, 0x0a01, 0x0203),
      v6(0xfd00, 1, 2, 3, 4, 5, 6, 7),
    ];
    for (const b of samples) {
      const long = Array.from({ length: 8 }, (_, i) =>
        ((b[2 * i] ?? 0) * 256 + (b[2 * i + 1] ?? 0)).toString(16),
      );
      expect(formatIPv6(b)).toBe(new SocketAddress({ address: long.join(":"), family: "ipv6" }).address);
    }
  });
});

describe("formatInet", () => {
  it("picks the formatter by family", () => {
    expect(formatInet(4, Uint8Array.of(10, 0, 0, 1))).toBe("10.0.0.1");
    expect(formatInet(6, v6(0, 0, 0, 0, 0, 0, 0, 1))).toBe("::1");
  });
});
