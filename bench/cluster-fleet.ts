/**
 * A synthetic fleet in one process, for bench/cluster.ts: `hosts` Publishers (the agent's own
 * publishing code: one lease each, its host key, a transaction per change) sharing one etcd client,
 * each publishing `perHost` backends, backend j of every host in service `fleet<j>`, without probes.
 *
 *   node --import tsx bench/cluster-fleet.ts '<FleetArgs as JSON>'
 *
 * Prints JSON lines: {"event":"published","ms":…} once etcd holds every host's set; then per stdin
 * line "churn N" it makes N changes, 10 per 10 ms tick, each to the next host: the first round of
 * `hosts` changes withdraws every host's backend 0, the next restores them, then backend 1, and so
 * on; it prints {"event":"churned","ms":…} once etcd holds them all.
 */
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { Publisher } from "../src/agent/publisher.js";
import { createEtcdClient } from "../src/etcd/client.js";
import { createLogger } from "../src/log.js";
import type { BackendClaim } from "../src/sources/source.js";
import { claim } from "../test/helpers/claims.js";

export interface FleetArgs {
  endpoints: string[];
  prefix: string;
  hosts: number;
  perHost: number;
  ttlSeconds: number;
  /** Addresses the synthetic hosts share (those of real simulated hosts: nothing else is ever dialled). */
  addresses: string[];
  firstPort: number;
}

export const FLEET_SCRIPT = new URL("./cluster-fleet.ts", import.meta.url).pathname;
const CHANGES_PER_TICK = 10;
const TICK_MS = 10;

/** Host i's backends: on address i mod |addresses|, on ports unique to it among hosts sharing that address. */
export function fleetClaims(args: FleetArgs, i: number): BackendClaim[] {
  const address = args.addresses[i % args.addresses.length] as string;
  const hostId = `fleet-${i}`;
  const first = args.firstPort + Math.floor(i / args.addresses.length) * args.perHost;
  return Array.from({ length: args.perHost }, (_, j) =>
    claim(address, first + j, { key: `${hostId}-${j}`, service: `fleet${j}`, host: hostId, comm: "fleet" }),
  );
}

async function main(args: FleetArgs): Promise<void> {
  const client = createEtcdClient({ endpoints: args.endpoints, callTimeoutMs: 30_000 });
  const log = createLogger({ pretty: false, level: "warn" });
  const startTime = Date.now();
  const fleet = Array.from({ length: args.hosts }, (_, i) => {
    const claims = fleetClaims(args, i);
    const address = claims[0]?.address ?? "";
    const publisher = new Publisher({
      client,
      etcd: args,
      hostId: `fleet-${i}`,
      ttlSeconds: args.ttlSeconds,
      host: () => ({ version: "bench", bootId: "fleet", startTime, addresses: [address] }),
      log,
    });
    return { publisher, claims, withdrawn: new Set<number>() };
  });
  const started = performance.now();
  for (const h of fleet) h.publisher.replace(h.claims, { reason: "initial" });
  await Promise.all(fleet.map((h) => h.publisher.idle()));
  const say = (event: string, fields: Record<string, number> = {}) =>
    process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);
  say("published", { ms: performance.now() - started });

  let k = 0;
  const churn = async (n: number) => {
    const t0 = performance.now();
    for (let done = 0; done < n; ) {
      for (let c = 0; c < CHANGES_PER_TICK && done < n; c++, done++, k++) {
        const h = fleet[k % fleet.length];
        if (!h) continue;
        // Every host's backend j withdrawn in turn, then restored in the same turn: j moves on after both.
        const j = Math.floor(k / (2 * fleet.length)) % args.perHost;
        const target = h.claims[j] as BackendClaim;
        if (h.withdrawn.delete(j)) h.publisher.update([target], []);
        else {
          h.withdrawn.add(j);
          h.publisher.update([], [target.key]);
        }
      }
      await sleep(TICK_MS);
    }
    await Promise.all(fleet.map((h) => h.publisher.idle()));
    say("churned", { ms: performance.now() - t0 });
  };
  let queue = Promise.resolve();
  createInterface({ input: process.stdin }).on("line", (line) => {
    const [verb, count] = line.trim().split(" ");
    if (verb === "churn") queue = queue.then(() => churn(Number(count)));
  });
  process.stdin.on("end", () => process.exit(0));
}

if (process.argv[1] === FLEET_SCRIPT) await main(JSON.parse(process.argv[2] ?? "{}") as FleetArgs);
