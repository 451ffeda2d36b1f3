import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { LeaseKeeper } from "../../src/agent/lease-keeper.js";
import { etcdPerSuite } from "../helpers/etcd-suite.js";
import { captureLog } from "../targets/capture-log.js";

const t = etcdPerSuite();
const keepers: LeaseKeeper[] = [];

function keeper(ttlSeconds: number): LeaseKeeper {
  const k = new LeaseKeeper({ client: t.client, ttlSeconds, log: captureLog().log, onReset: () => {} });
  keepers.push(k);
  return k;
}

afterEach(() => {
  for (const k of keepers.splice(0)) k.close();
});

describe("LeaseKeeper against a real etcd", () => {
  it("adopts a predecessor's lease with under a second left and renews it at once, before its first interval", async () => {
    const { ID } = await t.client.leaseClient.leaseGrant({ TTL: 3 });
    // etcd reports the remaining TTL in whole seconds: 0 here, though the lease still lives.
    await sleep(2300);
    const acquired = await keeper(3).acquire(ID);
    const left = await t.client.leaseClient.leaseTimeToLive({ ID, keys: false });
    expect({ id: acquired.id, adopted: acquired.adopted, renewed: Number(left.TTL) >= 2 }).toEqual({
      id: ID,
      adopted: true,
      renewed: true,
    });
  });

  it("grants a new lease when the candidate is gone or has another TTL", async () => {
    const gone = (await t.client.leaseClient.leaseGrant({ TTL: 5 })).ID;
    await t.client.leaseClient.leaseRevoke({ ID: gone });
    const other = (await t.client.leaseClient.leaseGrant({ TTL: 5 })).ID;
    const k = keeper(3);
    const fromGone = await k.acquire(gone);
    const fromOther = await k.acquire(other);
    expect([fromGone.adopted, fromGone.id === gone, fromOther.adopted, fromOther.id === other]).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});
