/**
 * Writes keys as an agent would (the real key layout and encoders), for tests of the etcd source, and
 * the claim the source should make of them.
 */
import type { Etcd3 } from "etcd3";
import { backendKey, hostKey, keyLayout } from "../../src/etcd/keys.js";
import { type BackendValue, encodeBackendValue, encodeHostValue } from "../../src/etcd/values.js";
import { backendId } from "../../src/registry/backend-id.js";
import type { BackendClaim } from "../../src/sources/source.js";

export const PREFIX = "/lbwatch-test";
export const layout = keyLayout(PREFIX);

export function backendValue(
  address: string,
  port: number,
  fields: Partial<BackendValue> = {},
): BackendValue {
  return {
    address,
    port,
    family: address.includes(":") ? 6 : 4,
    pid: 4242,
    comm: "python3",
    uid: 1000,
    netns: 4026531840,
    backlog: 128,
    since: 1_700_000_000_000,
    ...fields,
  };
}

export function keyOf(service: string, hostId: string, value: BackendValue): string {
  return backendKey(layout, service, hostId, backendId(value.family, value.address, value.port));
}

export function claimOf(service: string, hostId: string, value: BackendValue): BackendClaim {
  return { key: keyOf(service, hostId, value), service, host: hostId, ...value };
}

export async function putHost(client: Etcd3, hostId: string, addresses: string[]): Promise<void> {
  const value = { version: "0.1.0", bootId: "b00t", startTime: 1_700_000_000_000, addresses };
  await client.put(hostKey(layout, hostId)).value(encodeHostValue(value));
}

/** Puts one backend key and returns the claim the source should deliver for it. */
export async function putBackend(
  client: Etcd3,
  service: string,
  hostId: string,
  value: BackendValue,
): Promise<BackendClaim> {
  await client.put(keyOf(service, hostId, value)).value(encodeBackendValue(value));
  return claimOf(service, hostId, value);
}
