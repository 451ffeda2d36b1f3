import { describe, expect, it } from "vitest";
import {
  defaultRouteAddress,
  defaultRouteInterface,
  interfaceAddresses,
} from "../../src/agent/host-addresses.js";
import { unroutableReason } from "../../src/config/ip-address.js";

const ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth1\t00000000\t010200C0\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t00000000\t010200C0\t0003\t0\t0\t50\t00000000\t0\t0\t0
eth2\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
`;
const ROUTE6 = `fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000002 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth3
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`;

describe("default route", () => {
  it("is the up route to 0/0 with the lowest metric, never lo", () => {
    expect(defaultRouteInterface(ROUTE, 4)).toBe("eth0");
    expect(defaultRouteInterface(ROUTE6, 6)).toBe("eth3");
    expect(defaultRouteInterface("", 4)).toBeUndefined();
  });

  it("gives a routable address of this machine's default interface", async () => {
    const address = await defaultRouteAddress(4);
    expect(address).toBeDefined();
    expect(interfaceAddresses().map((ip) => ip.address)).toContain(address);
    expect(interfaceAddresses().every((ip) => unroutableReason(ip) === undefined)).toBe(true);
  });
});
