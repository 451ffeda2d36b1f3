/**
 * Several hosts (issue 10): the multi-host tests' lab (test/helpers/cluster-lab.ts: three network
 * namespaces on a bridge, `lbwatch agent` in each, etcd, HAProxy and `lbwatch run` here), timed.
 * - remote listen → first request through HAProxy, and close → out of rotation (bench/cluster-trials.ts);
 * - an agent restarted → servers HAProxy removed or added (aim 0);
 * - an agent SIGKILLed (its host dead) → out of rotation, against the lease TTL;
 * - an agent's RSS, and how many fit this machine;
 * - a synthetic fleet (bench/cluster-fleet.ts, the agent's publishing code) standing for 1,000 hosts
 *   × 10 backends: controller convergence, RSS, CPU per 1,000 remote changes (bench/cluster-scale.ts).
 */
import { totalmem } from "node:os";
import { type ClusterLab, startClusterLab } from "../test/helpers/cluster-lab.js";
import { startTimedBackends, type TimedBackends } from "../test/helpers/timed-backend.js";
import { fleetScale } from "./cluster-scale.js";
import { hostDeathTrials, restartTrials, rotationAt, routingTrials } from "./cluster-trials.js";
import type { Benchmark } from "./lib/bench.js";
import { rssBytes } from "./lib/cpu-time.js";
import { round } from "./lib/percentiles.js";

const TTL_SECONDS = 3;
const MiB = 2 ** 20;
/** Each agent's probe has its own ring buffer (4 MiB by default), in locked kernel memory. */
const RING_BYTES = 4 * MiB;
const FLEET_SERVICES = 10;

const PLANS = {
  full: { trials: 60, warmup: 10, restarts: 6, deaths: 4, hosts: 1000, perHost: FLEET_SERVICES, churn: 1000 },
  quick: { trials: 20, warmup: 5, restarts: 2, deaths: 2, hosts: 200, perHost: FLEET_SERVICES, churn: 200 },
};

async function agentMemory(lab: ClusterLab) {
  const rss = await Promise.all(lab.agents.map((a) => rssBytes(a.process?.pid ?? 0)));
  const mean = rss.reduce((a, b) => a + b, 0) / rss.length;
  return {
    rssMiB: rss.map((r) => round(r / MiB, 1)),
    meanRssMiB: round(mean / MiB, 1),
    ringMiB: RING_BYTES / MiB,
    machineMemMiB: round(totalmem() / MiB, 0),
    agentsFit: Math.floor(totalmem() / (mean + RING_BYTES)),
  };
}

/** Agent 0 restarts with two backends of its host up: what a restart could flap. */
async function withBackends<T>(
  lab: ClusterLab,
  b: TimedBackends,
  ports: number[],
  body: () => Promise<T>,
): Promise<T> {
  for (const port of ports) await b.listen(port);
  try {
    for (const port of ports) await rotationAt(lab, port, "in", 5000);
    return await body();
  } finally {
    for (const port of ports) await b.close(port);
  }
}

export const cluster: Benchmark = {
  name: "cluster",
  async run(ctx) {
    const plan = ctx.quick ? PLANS.quick : PLANS.full;
    const services = Object.fromEntries(
      // Never dialled (nothing listens at the fleet's addresses): the template's health check would take them down.
      Array.from({ length: FLEET_SERVICES }, (_, j) => [`fleet${j}`, ["meta: { check: false }"]]),
    );
    const lab = await startClusterLab({
      hosts: 3,
      ttlSeconds: TTL_SECONDS,
      services,
      lifetimeMs: 9 * 60_000,
    });
    try {
      const backends = lab.net.hosts.map((h) => startTimedBackends(h));
      ctx.log("cluster: remote listen → served", { trials: plan.trials });
      const routing = await routingTrials(lab, backends, plan.trials, plan.warmup);
      const agents = await agentMemory(lab);
      ctx.log("cluster: agent restarts", { restarts: plan.restarts });
      const host0 = backends[0] as TimedBackends;
      const restarts = await withBackends(lab, host0, [lab.base + 96, lab.base + 97], () =>
        restartTrials(lab, plan.restarts),
      );
      ctx.log("cluster: host deaths", { trials: plan.deaths, ttlSeconds: TTL_SECONDS });
      const hostDeath = await hostDeathTrials(lab, backends, plan.deaths, TTL_SECONDS);
      ctx.log("cluster: synthetic fleet", { hosts: plan.hosts, perHost: plan.perHost });
      const fleet = await fleetScale(lab, {
        hosts: plan.hosts,
        perHost: plan.perHost,
        churnChanges: plan.churn,
      });
      return {
        setup: {
          hosts: lab.net.hosts.length,
          etcdMembers: lab.etcd.members.length,
          ttlSeconds: TTL_SECONDS,
          requestsPerSecondWhileWaiting: 500,
        },
        routing,
        restarts,
        hostDeath,
        agents,
        fleet,
        aims: { listenToServedP50Ms: 15, listenToServedP99Ms: 50, restartFlaps: 0 },
      };
    } finally {
      await lab.destroy();
    }
  },
};
