/**
 * A process that publishes a synthetic set of backends through the agent's own Publisher, without a
 * probe: for tests that kill an agent (SIGKILL) and for benchmarks that stand for many hosts.
 *
 *   node --import tsx test/helpers/publisher-process.ts '{"endpoints":[…],"prefix":"/x","hostId":"h",
 *                                         "ttlSeconds":3,"address":"10.77.0.3","ports":[8000,8001]}'
 * (publisher-run.ts builds that argv.)
 *
 * Prints "published" on stdout once etcd holds the set, then runs until killed.
 */
import { Publisher } from "../../src/agent/publisher.js";
import { createEtcdClient } from "../../src/etcd/client.js";
import { createLogger } from "../../src/log.js";
import { syntheticClaims } from "./claims.js";
import type { PublisherArgs } from "./publisher-run.js";

const args = JSON.parse(process.argv[2] ?? "{}") as PublisherArgs;
const startTime = Date.now();
const publisher = new Publisher({
  client: createEtcdClient({ endpoints: args.endpoints }),
  etcd: args,
  hostId: args.hostId,
  ttlSeconds: args.ttlSeconds,
  host: () => ({ version: "test", bootId: "synthetic", startTime, addresses: [args.address] }),
  log: createLogger({ pretty: false }),
});
publisher.replace(syntheticClaims(args.hostId, args.address, args.ports), { reason: "initial" });
await publisher.idle();
process.stdout.write("published\n");
