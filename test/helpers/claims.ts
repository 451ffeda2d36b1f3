/** Backend claims as a local source would deliver them, for tests of what consumes claims. */
import type { BackendClaim } from "../../src/sources/source.js";

export function claim(address: string, port: number, fields: Partial<BackendClaim> = {}): BackendClaim {
  return {
    key: `sock-${address}-${port}`,
    service: "web",
    family: address.includes(":") ? 6 : 4,
    address,
    port,
    host: "web-3",
    pid: 1000 + port,
    comm: "python3",
    uid: 1000,
    netns: 4026531840,
    backlog: 128,
    since: 1_700_000_000_000,
    ...fields,
  };
}

/** One claim per port on `address`, service web. */
export function syntheticClaims(hostId: string, address: string, ports: number[]): BackendClaim[] {
  return ports.map((port) =>
    claim(address, port, { key: `${hostId}-${port}`, host: hostId, comm: "synthetic" }),
  );
}
