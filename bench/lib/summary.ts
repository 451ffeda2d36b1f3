/**
 * bench/results/summary.md: the README's benchmark tables, generated from the result files so the
 * README quotes measured figures only. A benchmark that failed or did not run shows as such.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ResultFile } from "./bench.js";
import { IDLE_SVG, LATENCY_SVG } from "./figures.js";

type Obj = Record<string, unknown>;
type Stat = { n: number; p50: number; p99: number; max: number } | undefined;

const get = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Obj)[k] : undefined), o);
const num = (v: unknown, unit = "") => (typeof v === "number" ? `${v}${unit}` : "–");
const stat = (s: Stat, unit = " ms") => (s ? `${s.p50} / ${s.p99} / ${s.max}${unit}` : "–");
const cmd = (name: string) => `\`npx tsx bench/run.ts --only=${name}\``;

function status(results: Map<string, ResultFile>, name: string): string | undefined {
  const r = results.get(name);
  if (!r) return "not run";
  if (r.error) return `failed: ${r.error.split("\n")[0]}`;
  return undefined;
}

function probeRows(results: Map<string, ResultFile>): string[] {
  const tp = results.get("probe-throughput")?.result;
  const lat = results.get("probe-latency")?.result;
  const ov = results.get("probe-overhead")?.result;
  const idle = results.get("idle-cpu")?.result;
  const first = get(tp, "firstDrop") as { ringBytes: number; producers: number } | null | undefined;
  return [
    "| Figure (issue 2) | Measured | Aim | Reproduce |",
    "|---|---|---|---|",
    `| Events/s delivered to JS, default 4 MiB ring (best of 1–4 producers) | ${num(get(tp, "maxDeliveredPerSecAtDefaultRing"))}, drops ${num(get(tp, "dropsAtDefaultRing"))} | 200,000/s, no drop | ${cmd("probe-throughput")} |`,
    `| First drops seen at | ${first ? `${first.ringBytes / 1024} KiB ring, ${first.producers} producers` : first === null ? "none in the grid" : "–"} | | ${cmd("probe-throughput")} |`,
    `| listen() returns → JS callback, p50 / p99 / max (negative: the callback ran before listen() returned) | ${stat(get(lat, "listenReturnToJs") as Stat, " µs")} | p99 < 1 ms | ${cmd("probe-latency")} |`,
    `| kernel event → JS callback, p50 / p99 / max | ${stat(get(lat, "kernelEventToJs") as Stat, " µs")} | | ${cmd("probe-latency")} |`,
    `| Loopback conn/s, probe attached vs detached (median of rounds) | ${num(get(ov, "medianAttached"))} vs ${num(get(ov, "medianDetached"))} (${num(get(ov, "slowdownPercent"), " %")} slower; rounds spread ${num(get(ov, "detachedSpreadPercent"), " %")}) | < 1 % | ${cmd("probe-overhead")} |`,
    `| Attached vs neighbouring detached round: slowdown median (quartiles) | ${num(get(ov, "pairSlowdownPercent", "median"), " %")} (${num(get(ov, "pairSlowdownPercent", "q1"))} to ${num(get(ov, "pairSlowdownPercent", "q3"), " %")}) | < 1 % | ${cmd("probe-overhead")} |`,
    `| BPF program per connection (bpf_stats): calls × ns = ns, share of a connection | ${num(get(ov, "kernel", "callsPerConnection"))} × ${num(get(ov, "kernel", "nsPerCall"))} = ${num(get(ov, "kernel", "nsPerConnection"), " ns")}, ${num(get(ov, "kernel", "percentOfDetachedConnection"), " %")} | < 1 % | ${cmd("probe-overhead")} |`,
    `| \`lbwatch events\` idle: CPU s/min, wake-ups/s (events printed in window) | ${num(get(idle, "cpuSecondsPerMinute"))}, ${num(get(idle, "wakeupsPerSecond"))} (${num(get(idle, "eventsPrintedDuringWindow"))}) | ≈ 0 | ${cmd("idle-cpu")} |`,
  ];
}

function controllerRows(results: Map<string, ResultFile>): string[] {
  const rows = (get(results.get("render-scale")?.result, "rows") ?? []) as Obj[];
  const burst = results.get("burst")?.result;
  return [
    "| Figure (issue 3) | Measured | Aim | Reproduce |",
    "|---|---|---|---|",
    ...rows.map(
      (r) =>
        `| ${r.backends} backends: one change rendered+compared+written, p50 (max); RSS holding them | ${num(r.changeApplyMsP50, " ms")} (${num(r.changeApplyMsMax, " ms")}); ${num(r.rssHeldMiB, " MiB")} (${num(r.rssBaseMiB, " MiB")} before any) | 10,000 in < 50 ms; 100,000 in < 200 MB | ${cmd("render-scale")} |`,
    ),
    `| Burst: 1,000 listeners over 1 s → renders, converged after last listen | ${num(get(burst, "up", "renders"))} renders, ${num(get(burst, "up", "convergeMsFromLastListen"), " ms")} | | ${cmd("burst")} |`,
    `| Burst: the 1,000 close at once → renders, converged after close | ${num(get(burst, "down", "renders"))} renders, ${num(get(burst, "down", "convergeMsFromClose"), " ms")} | | ${cmd("burst")} |`,
  ];
}

function contenderRows(results: Map<string, ResultFile>): string[] {
  const lb = results.get("lb-contenders")?.result;
  const contenders = (get(lb, "contenders") ?? {}) as Record<string, Obj>;
  const idleRows = (get(results.get("lb-idle-cpu")?.result, "rows") ?? []) as Obj[];
  const idle = (name: string, n: number) =>
    num(idleRows.find((r) => r.contender === name && r.listeners === n)?.cpuSecPerMin);
  const restart = (c: Obj) => {
    const r = c.rollingRestart as Obj | undefined;
    return r ? `${r.failed} / ${r.sent}` : "–";
  };
  return [
    "| Contender | listen → served p50 / p99 / max | close → last request p50 / p99 / max | failed / sent in rolling restart | idle CPU s/min at 10 / 1k / 10k listeners |",
    "|---|---|---|---|---|",
    ...Object.entries(contenders).map(([name, c]) =>
      c.error
        ? `| ${name} | failed: ${String(c.error).split("\n")[0]} | | | ${idle(name, 10)} / ${idle(name, 1000)} / ${idle(name, 10000)} |`
        : `| ${name} | ${stat(c.listenToServedMs as Stat)}${c.lost ? ` (${c.lost} lost)` : ""} | ${stat(c.closeToLastAttemptMs as Stat)} | ${restart(c)} | ${idle(name, 10)} / ${idle(name, 1000)} / ${idle(name, 10000)} |`,
    ),
  ];
}

export function summaryMarkdown(results: Map<string, ResultFile>): string {
  const any = [...results.values()][0];
  const m = any?.machine ?? {};
  const loads = [...results.values()].map((r) => `${r.benchmark} ${r.machine.loadAverage1m ?? "–"}`);
  const problems = [...results.keys()]
    .map((name) => [name, status(results, name)] as const)
    .filter(([, s]) => s !== undefined)
    .map(([name, s]) => `- ${name}: ${s}`);
  return [
    `Measured ${any?.startedAt.slice(0, 10) ?? "–"} (${any?.mode ?? "–"} mode) on ${m.cpus} × ${m.cpuModel}, kernel ${m.kernel}, Node ${m.node}, ${m.haproxy}.`,
    `1-minute load average when each benchmark started (the machine was shared): ${loads.join(", ")}.`,
    "",
    ...probeRows(results),
    "",
    ...controllerRows(results),
    "",
    ...contenderRows(results),
    "",
    `![listen to served, per contender](bench/results/${LATENCY_SVG}) ![idle CPU vs listeners](bench/results/${IDLE_SVG})`,
    ...(problems.length > 0 ? ["", "Not measured in this run:", ...problems] : []),
    "",
  ].join("\n");
}

export async function writeSummary(dir: string, results: Map<string, ResultFile>): Promise<string> {
  const text = summaryMarkdown(results);
  await writeFile(join(dir, "summary.md"), text);
  return text;
}
