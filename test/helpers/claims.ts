/** Backend claims as a local source would deliver them, for tests of what consumes claims. */
import type { BackendClaim } from "../../src/sources/source.js";
import { backendValue } from "./etcd-keys.js";

export function claim(address: string, port: number, fields: Partial<BackendClaim> = {}): BackendClaim {
  return {
    key: `sock-${address}-${port}`,
    service: "web",
    host: "web-3",
    ...backendValue(address, port, { pid: 1000 + port }),
    ...fields,
  };
}

/** One claim per port on `address`, service web. */
export function syntheticClaims(hostId: string, address: string, ports: number[]): BackendClaim[] {
  return ports.map((port) =>
    claim(address, port, { key: `${hostId}-${port}`, host: hostId, comm: "synthetic" }),
  );
}
