/**
 * The published plots, drawn from the result files: listen → served CDF per contender (quiet),
 * idle CPU vs. other backends routed, and listen → routed p50 vs. other backends (scale family).
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ResultFile } from "./bench.js";
import { cdfPoints, linePlot, type Series } from "./svg-plot.js";

export const LATENCY_SVG = "lb-latency.svg";
export const IDLE_SVG = "lb-idle-cpu.svg";
export const SCALE_SVG = "lb-scale.svg";
/** A log axis cannot show 0: figures below this are drawn at it (the tables have the exact value). */
const FLOOR = 0.01;

type Obj = Record<string, unknown>;
type Scenarios = Record<string, { otherBackends: number; contenders: Record<string, Obj> }>;

const scenariosOf = (result: Obj | undefined) => (result?.scenarios ?? {}) as Scenarios;

export function latencySeries(result: Obj | undefined): Series[] {
  const quiet = scenariosOf(result).quiet?.contenders ?? {};
  return Object.entries(quiet)
    .map(([name, c]) => ({ name, samples: (c.samples as { listenToServedMs?: number[] })?.listenToServedMs }))
    .filter((c) => (c.samples?.length ?? 0) > 0)
    .map((c) => ({ name: c.name, points: cdfPoints(c.samples ?? []) }));
}

/**
 * One series per contender over the scenarios with an idle window or the scale family: x is the
 * number of backends routed (quiet counts its 5 web backends), y what `pick` reads.
 */
function byBackends(result: Obj | undefined, pick: (c: Obj) => number | undefined, scaleOnly: boolean) {
  const points = new Map<string, [number, number][]>();
  for (const [name, s] of Object.entries(scenariosOf(result))) {
    if (scaleOnly && !name.startsWith("scale")) continue;
    for (const [contender, c] of Object.entries(s.contenders)) {
      const y = pick(c);
      if (y === undefined) continue;
      const list = points.get(contender) ?? [];
      list.push([s.otherBackends + 5, Math.max(FLOOR, y)]);
      points.set(contender, list);
    }
  }
  return [...points].map(([name, p]) => ({ name, points: p.sort((a, b) => a[0] - b[0]) }));
}

/** The contender's own cost: its controller, or for health checks HAProxy itself. */
export function idleCostOf(c: Obj): number | undefined {
  const idle = c.idle as { controller?: Obj; haproxy?: Obj } | undefined;
  const cost = (idle?.controller ?? idle?.haproxy)?.cpuSecPerMin;
  return typeof cost === "number" ? cost : undefined;
}

export async function writeFigures(dir: string, results: Map<string, ResultFile>): Promise<void> {
  const lb = results.get("lb-contenders")?.result;
  const plots: [string, Parameters<typeof linePlot>[0]][] = [
    [
      LATENCY_SVG,
      {
        title: "listen() → first request served through HAProxy (quiet)",
        xLabel: "milliseconds (log)",
        yLabel: "fraction of trials",
        series: latencySeries(lb),
        logX: true,
        steps: true,
      },
    ],
    [
      IDLE_SVG,
      {
        title: "Idle CPU vs. backends routed",
        xLabel: "backends routed (log)",
        yLabel: `CPU seconds per minute (log; < ${FLOOR} drawn at ${FLOOR})`,
        series: byBackends(lb, idleCostOf, false),
        logX: true,
        logY: true,
      },
    ],
    [
      SCALE_SVG,
      {
        title: "listen() → routed, median, with other backends routed",
        xLabel: "backends routed (log)",
        yLabel: "milliseconds (log)",
        series: byBackends(lb, (c) => (c.listenToRoutedMs as { p50?: number } | undefined)?.p50, true),
        logX: true,
        logY: true,
      },
    ],
  ];
  for (const [file, plot] of plots) {
    if (plot.series.length > 0) await writeFile(join(dir, file), linePlot(plot));
  }
}
