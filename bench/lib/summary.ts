/**
 * bench/results/summary.md: the README's benchmark tables, generated from the result files so the
 * README quotes measured figures only. A benchmark that failed or did not run shows as such. The
 * load-balancer tables are in summary-lb.ts.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ResultFile } from "./bench.js";
import { IDLE_SVG, LATENCY_SVG, SCALE_SVG } from "./figures.js";
import { cmd, get, num, type Obj, type Stat, stat } from "./summary-format.js";
import { aimRows, coldStartRows, contenderRows, familyRows, soakRows } from "./summary-lb.js";

function status(results: Map<string, ResultFile>, name: string): string | undefined {
  const r = results.get(name);
  if (!r) return "not run";
  if (r.error) return `failed: ${r.error.split("\n")[0]}`;
  return undefined;
}

interface Cell {
  ringBytes: number;
  producers: number;
  deliveredPerSec: number;
  drops: number;
}

/** The best cell at the default ring and its own drops; the drops of every producer count apart. */
function throughputRow(tp: Obj | undefined): string {
  const ring = get(tp, "defaultRingBytes");
  const cells = ((get(tp, "cells") ?? []) as Cell[]).filter((c) => c.ringBytes === ring);
  const best = cells.reduce<Cell | undefined>(
    (a, c) => (!a || c.deliveredPerSec > a.deliveredPerSec ? c : a),
    undefined,
  );
  const summed = cells.reduce((a, c) => a + c.drops, 0);
  const measured = best
    ? `${best.deliveredPerSec} with ${best.producers} producer(s), ${best.drops} dropped; ${summed} dropped over all ${cells.length} producer counts`
    : "–";
  return `| Events/s delivered to JS, default 4 MiB ring (best of 1–4 producers) | ${measured} | 200,000/s, no drop | ${cmd("probe-throughput")} |`;
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
    throughputRow(tp),
    `| First drops seen at | ${first ? `${first.ringBytes / 1024} KiB ring, ${first.producers} producers` : first === null ? "none in the grid" : "–"} | | ${cmd("probe-throughput")} |`,
    `| listen() returns → JS callback, p50 / p99 / max (negative: the callback ran before listen() returned) | ${stat(get(lat, "listenReturnToJs") as Stat, " µs")} | p99 < 1 ms | ${cmd("probe-latency")} |`,
    `| kernel event → JS callback, p50 / p99 / max | ${stat(get(lat, "kernelEventToJs") as Stat, " µs")} | | ${cmd("probe-latency")} |`,
    `| Loopback conn/s, probe attached vs detached (median of rounds) | ${num(get(ov, "medianAttached"))} vs ${num(get(ov, "medianDetached"))} (${num(get(ov, "slowdownPercent"), " %")} slower; rounds spread ${num(get(ov, "detachedSpreadPercent"), " %")}) | < 1 % | ${cmd("probe-overhead")} |`,
    `| Attached vs neighbouring detached round: slowdown median (quartiles) | ${num(get(ov, "pairSlowdownPercent", "median"), " %")} (${num(get(ov, "pairSlowdownPercent", "q1"))} to ${num(get(ov, "pairSlowdownPercent", "q3"), " %")}) | < 1 % | ${cmd("probe-overhead")} |`,
    `| BPF program per connection (bpf_stats): calls × ns = ns, share of a connection | ${num(get(ov, "kernel", "callsPerConnection"))} × ${num(get(ov, "kernel", "nsPerCall"))} = ${num(get(ov, "kernel", "nsPerConnection"), " ns")}, ${num(get(ov, "kernel", "percentOfDetachedConnection"), " %")} | < 1 % | ${cmd("probe-overhead")} |`,
    `| \`lbwatch events\` idle: CPU s/min, wake-ups/s (events printed in window) | ${num(get(idle, "cpuSecondsPerMinute"))}, ${num(get(idle, "wakeupsPerSecond"))} (${num(get(idle, "eventsPrintedDuringWindow"))}) | ≈ 0 | ${cmd("idle-cpu")} |`,
  ];
}

const p = (s: unknown, unit = " ms") => {
  const v = s as { p50?: number; p99?: number } | undefined;
  return v?.p50 === undefined ? "–" : `${v.p50} / ${v.p99}${unit}`;
};

/** Issue 13's memory aim, where the run held 100,000 (`--full`, or `--quick` with 4 changes). */
function memoryAim(rows: Obj[]): string[] {
  const row = rows.find((r) => r.backends === 100_000);
  const after = get(row?.live, "memoryAfterChanges", "rssMiB");
  if (typeof after !== "number") return [];
  return [
    "",
    `Aim (issue 13): 100,000 backends held and 100 live changes applied in < 250 MiB RSS: ${after} MiB after ${row?.changes} changes, ${after < 250 ? "met" : "**missed**"}${row?.changes === 100 ? "" : " (fewer changes than the aim names)"}.`,
  ];
}

function scaleRows(results: Map<string, ResultFile>): string[] {
  const rows = (get(results.get("render-scale")?.result, "rows") ?? []) as Obj[];
  const burst = results.get("burst")?.result;
  const mem = (m: unknown) => {
    const v = m as { rssMiB?: number; heapUsedMiB?: number } | undefined;
    return v ? `${v.rssMiB} (heap ${v.heapUsedMiB})` : "–";
  };
  return [
    "| Backends held (render-scale) | live change applied p50 / p99 | of which synchronous (registry, lists, delta render, plan, sent) p50 | file lane behind it: idle again p50; full render, parse p50 | heap bytes per backend: registry + lists + rest | RSS MiB (heap) held / after changes / 3 s idle; peak |",
    "|---|---|---|---|---|---|",
    ...rows.map((r) => {
      const live = (r.live ?? {}) as Obj;
      const lane = (r.fileLane ?? {}) as Obj;
      const rest =
        Number(live.controllerBytesPerBackend) -
        Number(r.registryBytesPerBackend) -
        Number(r.listsBytesPerBackend);
      // Without checks where the open-files limit cannot hold a descriptor per checked server.
      const held = r.checks === false ? `${r.backends} (servers unchecked)` : `${r.backends}`;
      return `| ${held} | ${p(live.changeAppliedMs)} | ${num(get(live, "dispatchSyncUs", "p50"), " µs")} | ${num(get(live, "fileLaneIdleMs", "p50"), " ms")}; ${num(get(lane, "fullRenderMs", "p50"))}, ${num(get(lane, "parseServerLinesMs", "p50"), " ms")} | ${num(r.registryBytesPerBackend)} + ${num(r.listsBytesPerBackend)} + ${Number.isFinite(rest) ? rest : "–"} | ${mem(live.memoryHeld)} / ${mem(live.memoryAfterChanges)} / ${mem(live.memoryIdle3s)}; ${num(get(live, "memoryIdle3s", "peakRssMiB"))} |`;
    }),
    ...memoryAim(rows),
    "",
    "| Figure (issue 3) | Measured | Reproduce |",
    "|---|---|---|",
    `| Burst: 1,000 listeners over 1 s → renders, converged after last listen | ${num(get(burst, "up", "renders"))} renders, ${num(get(burst, "up", "convergeMsFromLastListen"), " ms")} | ${cmd("burst")} |`,
    `| Burst: the 1,000 close at once → renders, converged after close | ${num(get(burst, "down", "renders"))} renders, ${num(get(burst, "down", "convergeMsFromClose"), " ms")} | ${cmd("burst")} |`,
  ];
}

/** `figures`: where the plots are, as the README links them (bench/results or bench/results/full). */
export function summaryMarkdown(results: Map<string, ResultFile>, figures = "bench/results"): string {
  const any = [...results.values()][0];
  const m = any?.machine ?? {};
  const loads = [...results.values()].map(
    (r) => `${r.benchmark} ${r.machine.loadAverage1m ?? "–"} (${r.mode}, ${r.seconds} s)`,
  );
  const problems = [...results.keys()]
    .map((name) => [name, status(results, name)] as const)
    .filter(([, s]) => s !== undefined)
    .map(([name, s]) => `- ${name}: ${s}`);
  return [
    `Measured ${any?.startedAt.slice(0, 10) ?? "–"} on ${m.cpus} × ${m.cpuModel}, kernel ${m.kernel}, Node ${m.node}, ${m.haproxy}.`,
    `1-minute load average when each benchmark started (the machine was shared), with its mode and duration: ${loads.join(", ")}.`,
    "",
    ...probeRows(results),
    "",
    ...scaleRows(results),
    "",
    ...contenderRows(results),
    "",
    ...familyRows(results),
    "",
    ...aimRows(results),
    "",
    ...coldStartRows(results),
    "",
    ...soakRows(results),
    "",
    `![listen to served, per contender](${figures}/${LATENCY_SVG}) ![idle CPU vs backends](${figures}/${IDLE_SVG}) ![listen to routed vs backends](${figures}/${SCALE_SVG})`,
    ...(problems.length > 0 ? ["", "Not measured in this run:", ...problems] : []),
    "",
  ].join("\n");
}

export async function writeSummary(dir: string, results: Map<string, ResultFile>): Promise<string> {
  const text = summaryMarkdown(results, dir.slice(dir.lastIndexOf("bench/results")));
  await writeFile(join(dir, "summary.md"), text);
  return text;
}
