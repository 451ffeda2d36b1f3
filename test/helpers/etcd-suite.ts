/** etcd for the tests of a describe block (test/helpers/etcd.ts is free of vitest, so scripts can use it). */
import type { Etcd3 } from "etcd3";
import { afterAll, beforeAll } from "vitest";
import { type EtcdCluster, type EtcdOptions, startEtcdCluster } from "./etcd.js";

export interface EtcdSuite {
  readonly cluster: EtcdCluster;
  /** A client on every member. */
  readonly client: Etcd3;
}

/** A cluster for the tests of the enclosing describe block: started before them, removed after. */
export function etcdPerSuite(size = 1, options: EtcdOptions = {}): EtcdSuite {
  let cluster: EtcdCluster | undefined;
  let client: Etcd3 | undefined;
  beforeAll(async () => {
    cluster = await startEtcdCluster(size, options);
    client = cluster.client();
  }, 30_000);
  afterAll(() => cluster?.destroy());
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("etcd is not started yet: use it inside a test or a hook");
    return value;
  };
  return {
    get cluster() {
      return started(cluster);
    },
    get client() {
      return started(client);
    },
  };
}
