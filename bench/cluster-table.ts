/**
 * The README's "Several hosts" figures, from bench/results/cluster.json (so the README quotes measured
 * figures only): `npx tsx bench/cluster-table.ts` prints the markdown table.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { BENCH_DIR } from "./lib/helpers.js";

type Stat = { n: number; p50: number; p99: number; max: number } | undefined;
type Obj = Record<string, unknown>;

const get = (o: unknown, path: string): unknown =>
  path.split(".").reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Obj)[k] : undefined), o);
const num = (v: unknown, unit = "") => (typeof v === "number" ? `${v}${unit}` : "–");
const stat = (s: unknown, unit = " ms") => {
  const v = s as Stat;
  return v ? `${v.p50} / ${v.p99} / ${v.max}${unit} (n=${v.n})` : "–";
};

export function clusterTable(file: Obj): string {
  const r = file.result as Obj | undefined;
  if (!r)
    return `cluster benchmark: ${file.error ? `failed: ${String(file.error).split("\n")[0]}` : "no result"}`;
  const g = (path: string) => get(r, path);
  const cmd = "`npx tsx bench/run.ts --only=cluster`";
  const rows = [
    [
      "Remote listen → first request through HAProxy, p50 / p99 / max",
      stat(g("routing.listenToServedMs")),
      "p50 ≤ 15 ms, p99 ≤ 50 ms",
    ],
    ["… of which listen → the agent's write seen in etcd", stat(g("routing.listenToEtcdMs")), ""],
    ["Remote close → out of HAProxy's rotation", stat(g("routing.closeToUnroutedMs")), ""],
    [
      `Agent restarts (SIGTERM and SIGKILL, ${num(g("restarts.restarts"))}) → servers removed or added in HAProxy`,
      `${num(g("restarts.flaps"))} (lease adopted ${num(g("restarts.adopted"))} times; new agent published in ${stat(g("restarts.startMs"))})`,
      "0",
    ],
    [
      `Agent SIGKILLed (host dead), ttl ${num(g("hostDeath.ttlSeconds"), " s")} → out of rotation`,
      stat(g("hostDeath.outOfRotationMs")),
      "≤ ttl + election timeout",
    ],
    [
      "Agent RSS; agents this machine holds (RSS + 4 MiB ring each)",
      `${num(g("agents.meanRssMiB"), " MiB")}; ${num(g("agents.agentsFit"))} in ${num(g("agents.machineMemMiB"), " MiB")}`,
      "",
    ],
    [
      `Synthetic fleet ${num(g("fleet.hosts"))} hosts × ${num(g("fleet.backendsPerHost"))}: start → HAProxy runs all ${num(g("fleet.backends"))}`,
      `${num(g("fleet.convergeMs"), " ms")} (etcd had all after ${num(g("fleet.publishMs"), " ms")}); controller CPU ${num(g("fleet.controllerCpuSecondsToConverge.own"), " s")} + ${num(g("fleet.controllerCpuSecondsToConverge.children"), " s")} haproxy -c`,
      "",
    ],
    [
      "Controller RSS holding them (before the fleet; peak)",
      `${num(g("fleet.controllerRssMiB"), " MiB")} (${num(g("fleet.controllerRssBeforeMiB"), " MiB")}; ${num(g("fleet.controllerPeakRssMiB"), " MiB")})`,
      "",
    ],
    [
      `Controller CPU per 1,000 remote changes (${num(g("fleet.churn.changes"))} at ~1,000/s among the ${num(g("fleet.backends"))})`,
      `${num(g("fleet.churn.controllerCpuSecondsPer1000.own"), " s")} + ${num(g("fleet.churn.controllerCpuSecondsPer1000.children"), " s")} haproxy -c`,
      "",
    ],
    [
      `The whole fleet SIGKILLed, ttl ${num(g("fleet.massExpiry.ttlSeconds"), " s")} → all out of rotation`,
      num(g("fleet.massExpiry.allOutMs"), " ms"),
      "",
    ],
  ];
  return [
    "| Figure (issue 10) | Measured | Aim |",
    "|---|---|---|",
    ...rows.map((cells) => `| ${cells.join(" | ")} |`),
    "",
    `Measured ${String(file.startedAt).slice(0, 10)} (${String(file.mode)} mode, ${num(file.seconds, " s")}, 1-minute load average ${num(get(file, "machine.loadAverage1m"))}); reproduce with ${cmd}.`,
  ].join("\n");
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const file = JSON.parse(await readFile(join(BENCH_DIR, "results", "cluster.json"), "utf8")) as Obj;
  console.log(clusterTable(file));
}
