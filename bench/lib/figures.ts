/** The two published plots, drawn from the result files: latency CDF per contender, idle CPU vs. listeners. */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ResultFile } from "./bench.js";
import { cdfPoints, linePlot, type Series } from "./svg-plot.js";

export const LATENCY_SVG = "lb-latency.svg";
export const IDLE_SVG = "lb-idle-cpu.svg";
/** A log axis cannot show 0: idle figures below this are drawn at it (the table has the exact value). */
const IDLE_FLOOR = 0.01;

type Contenders = Record<string, { samples?: { listenToServedMs: number[] } }>;
type IdleRow = { listeners: number; contender: string; cpuSecPerMin?: number };

export function latencySeries(result: Record<string, unknown> | undefined): Series[] {
  const contenders = (result?.contenders ?? {}) as Contenders;
  return Object.entries(contenders)
    .filter(([, c]) => (c.samples?.listenToServedMs.length ?? 0) > 0)
    .map(([name, c]) => ({ name, points: cdfPoints(c.samples?.listenToServedMs ?? []) }));
}

export function idleSeries(result: Record<string, unknown> | undefined): Series[] {
  const rows = ((result?.rows ?? []) as IdleRow[]).filter((r) => typeof r.cpuSecPerMin === "number");
  const names = [...new Set(rows.map((r) => r.contender))];
  return names.map((name) => ({
    name,
    points: rows
      .filter((r) => r.contender === name)
      .map((r): [number, number] => [r.listeners, Math.max(IDLE_FLOOR, r.cpuSecPerMin as number)]),
  }));
}

export async function writeFigures(dir: string, results: Map<string, ResultFile>): Promise<void> {
  const latency = latencySeries(results.get("lb-contenders")?.result);
  if (latency.length > 0) {
    const svg = linePlot({
      title: "listen() → first request served through HAProxy",
      xLabel: "milliseconds (log)",
      yLabel: "fraction of trials",
      series: latency,
      logX: true,
      steps: true,
    });
    await writeFile(join(dir, LATENCY_SVG), svg);
  }
  const idle = idleSeries(results.get("lb-idle-cpu")?.result);
  if (idle.length > 0) {
    const svg = linePlot({
      title: "Idle CPU vs. idle listeners (all backends of one service)",
      xLabel: "idle listeners (log)",
      yLabel: `CPU seconds per minute (log; < ${IDLE_FLOOR} drawn at ${IDLE_FLOOR})`,
      series: idle,
      logX: true,
      logY: true,
    });
    await writeFile(join(dir, IDLE_SVG), svg);
  }
}
