/** The load-balancer tables of summary.md: contenders (quiet), the churn and scale families, aims, cold start, soak. */
import type { ResultFile } from "./bench.js";
import { idleCostOf } from "./figures.js";
import { cmd, get, num, type Obj, type Stat, stat } from "./summary-format.js";

type Scenarios = Record<
  string,
  { otherBackends: number; churnPerSec?: number; contenders: Record<string, Obj> }
>;

const scenariosOf = (results: Map<string, ResultFile>) =>
  (get(results.get("lb-contenders")?.result, "scenarios") ?? {}) as Scenarios;

const pair = (s: unknown) => {
  const v = s as Stat;
  return v ? `${v.p50} / ${v.p99}` : "–";
};
const failed = (c: Obj) => `failed: ${String(c.error).split("\n")[0]}`;

export function contenderRows(results: Map<string, ResultFile>): string[] {
  const scenarios = scenariosOf(results);
  const quiet = scenarios.quiet?.contenders ?? {};
  const idleSizes = Object.values(scenarios)
    .filter((s, i) => i === 0 || s.otherBackends > 0)
    .filter((s) => Object.values(s.contenders).some((c) => c.idle));
  const idle = (name: string) =>
    idleSizes.map((s) => {
      const c = s.contenders[name];
      if (!c) return "–";
      const cost = idleCostOf(c);
      const err = (get(c, "idle", "controller", "error") ?? get(c, "idle", "haproxy", "error")) as string;
      return cost !== undefined ? String(cost) : err ? "failed" : "–";
    });
  const sizes = idleSizes
    .map((s) => (s.otherBackends === 0 ? "quiet" : `+${s.otherBackends / 1000}k`))
    .join(" / ");
  const restart = (c: Obj) => {
    const r = c.rollingRestart as Obj | undefined;
    return r ? `${r.failed} / ${r.sent}` : "–";
  };
  return [
    `| Contender (quiet) | listen → served p50 / p99 / max | listen → routed | close → unrouted | close → last request | failed / sent in rolling restart | idle CPU s/min, ${sizes} |`,
    "|---|---|---|---|---|---|---|",
    ...Object.entries(quiet).map(([name, c]) =>
      c.error
        ? `| ${name} | ${failed(c)} | | | | | ${idle(name).join(" / ")} |`
        : `| ${name}${c.haproxyExited ? " (HAProxy's worker died during the run: see lb-contenders.json)" : ""} | ${stat(c.listenToServedMs as Stat)}${c.lost ? ` (${c.lost} lost)` : ""} | ${stat(c.listenToRoutedMs as Stat)} | ${stat(c.closeToUnroutedMs as Stat)} | ${stat(c.closeToLastAttemptMs as Stat)} | ${restart(c)} | ${idle(name).join(" / ")} |`,
    ),
  ];
}

export function familyRows(results: Map<string, ResultFile>): string[] {
  const rows: string[] = [];
  for (const [name, s] of Object.entries(scenariosOf(results))) {
    if (name === "quiet") continue;
    for (const [contender, c] of Object.entries(s.contenders)) {
      const churn = c.churn as { eventsPerSec?: number } | undefined;
      const load = s.churnPerSec
        ? `${num(churn?.eventsPerSec)} events/s measured`
        : `ready in ${num(c.readyMs, " ms")}`;
      rows.push(
        c.error
          ? `| ${name} | ${contender} | ${failed(c)} | | | |`
          : `| ${name} | ${contender}${c.haproxyExited ? " (HAProxy's worker died)" : ""} | ${pair(c.listenToRoutedMs)} | ${pair(c.closeToUnroutedMs)} | ${pair(c.listenToServedMs)}${c.lost ? ` (${c.lost} lost)` : ""} | ${load} |`,
      );
    }
  }
  return [
    "| Scenario | Contender | listen → routed p50 / p99 ms | close → unrouted p50 / p99 ms | listen → served p50 / p99 ms | load |",
    "|---|---|---|---|---|---|",
    ...rows,
  ];
}

export function aimRows(results: Map<string, ResultFile>): string[] {
  const aims = (get(results.get("lb-contenders")?.result, "aims") ?? []) as {
    scenario: string;
    aim: string;
    measured: string;
    met: boolean;
  }[];
  return [
    "| Aim (issue 13, lbwatch-api) | Scenario | Measured | Met |",
    "|---|---|---|---|",
    ...aims.map((a) => `| ${a.aim} | ${a.scenario} | ${a.measured} | ${a.met ? "yes" : "**no**"} |`),
  ];
}

export function coldStartRows(results: Map<string, ResultFile>): string[] {
  const file = results.get("cold-start");
  const rows = (get(file?.result, "rows") ?? []) as Obj[];
  const reproduce = cmd("cold-start", file?.mode === "full" ? " --full" : "");
  // Issue 13's aim: 10,000 servers into an empty backend routable in under a second.
  const one = rows.find((r) => r.listeners === 10_000 && r.perBackend === 10_000 && !r.error);
  const aim =
    one === undefined
      ? []
      : [
          "",
          `Aim (issue 13): 10,000 servers into one empty backend routable in < 1 s: ${num(one.readyMs, " ms")}, ${Number(one.readyMs) < 1000 ? "met" : "**missed**"}.`,
        ];
  return [
    "| Cold start: listeners (servers per backend) | all routable after | lbwatch: snapshot merged, servers added at | lbwatch CPU s, RSS MiB | HAProxy CPU s | Reproduce |",
    "|---|---|---|---|---|---|",
    ...rows.map((r) =>
      r.error
        ? `| ${r.listeners} (${r.perBackend}) | ${failed(r)} | | | | ${reproduce} |`
        : `| ${r.listeners} (${r.perBackend}) | ${num(r.readyMs, " ms")} | ${num(get(r, "lbwatchPhasesMs", "snapshotMerged"), " ms")}, ${num(get(r, "lbwatchPhasesMs", "serversAdded"), " ms")} | ${num(r.lbwatchCpuSeconds)}, ${num(r.lbwatchRssMiB)} | ${num(r.haproxyCpuSeconds)} | ${reproduce} |`,
    ),
    ...aim,
  ];
}

export function soakRows(results: Map<string, ResultFile>): string[] {
  const soak = results.get("soak")?.result;
  const kinds = (get(soak, "faults") ?? {}) as Record<string, Obj>;
  if (Object.keys(kinds).length === 0) return ["Fault soak: not run (`make soak`)."];
  const runs = (get(soak, "rssMiB", "runs") ?? []) as { first: number; last: number; max: number }[];
  const perRun = runs.map((r) => `${r.first} → ${r.last} (max ${r.max})`).join("; ");
  const outside = (get(soak, "traffic", "outsideFaultsAtS") ?? []) as number[];
  return [
    `Fault soak (\`make soak\`, ${num(get(soak, "seconds"))} s, seed ${num(get(soak, "seed"))}, load average ${num(get(results.get("soak"), "machine", "loadAverage1m"))}): ${num(get(soak, "checks", "converged"))} of ${num(get(soak, "checks", "total"))} comparisons after 10 s of quiet converged within 2 s; ${num(get(soak, "lbwatchLog", "eventsLost"))} ring overflows seen by lbwatch; ${outside.length} failed requests outside any fault. lbwatch RSS MiB per process (it is restarted by faults), first → last sample: ${perRun || "–"}.`,
    "",
    "| Fault | injected | HAProxy converged after its end p50 / max | dest too (written behind) p50 / max | late: HAProxy > 2 s or dest > 4 s | client requests failed / sent during it |",
    "|---|---|---|---|---|---|",
    ...Object.entries(kinds)
      .filter(([, k]) => Number(k.injected) > 0)
      .map(
        ([kind, k]) =>
          `| ${kind} | ${num(k.injected)} | ${num(get(k, "haproxyMs", "p50"))} / ${num(get(k, "haproxyMs", "max"), " ms")} | ${num(get(k, "convergeMs", "p50"))} / ${num(get(k, "convergeMs", "max"), " ms")} | ${num(k.late)} | ${num(k.failedRequests)} / ${num(k.sentRequests)} |`,
      ),
  ];
}
