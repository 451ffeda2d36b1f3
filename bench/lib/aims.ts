/**
 * Issue 13's aims for lbwatch-api, checked against one lb-contenders run: each line names the
 * scenario, the figure, the aim and whether it was met, so a miss is never hidden by a summary.
 */
type Stat = { p50: number; p99: number } | undefined;
type Contender = Record<string, unknown> & { error?: string };
type ScenarioResult = { contenders: Record<string, Contender> };

export interface AimCheck {
  scenario: string;
  aim: string;
  measured: string;
  met: boolean;
}

const FIGURES = [
  ["listenToRoutedMs", "listen → routed"],
  ["closeToUnroutedMs", "close → unrouted"],
] as const;

/** Upper bounds on lbwatch-api's percentiles, by scenario. */
const BOUNDS: Record<string, { p50?: number; p99?: number }> = {
  quiet: { p50: 3, p99: 10 },
  "churn-1000": { p99: 15 },
  "scale-100k": { p50: 10 },
};

export function checkAims(scenarios: Record<string, unknown>): AimCheck[] {
  const checks: AimCheck[] = [];
  for (const [name, raw] of Object.entries(scenarios)) {
    const contenders = (raw as ScenarioResult).contenders;
    const api = contenders["lbwatch-api"];
    const hc = contenders["hc-aggressive"];
    if (!api) continue;
    for (const [field, label] of FIGURES) {
      const ours = api[field] as Stat;
      for (const [p, bound] of Object.entries(BOUNDS[name] ?? {}) as ["p50" | "p99", number][]) {
        const value = ours?.[p];
        checks.push({
          scenario: name,
          aim: `${label} ${p} ≤ ${bound} ms`,
          measured: value === undefined ? `not measured${api.error ? `: ${api.error}` : ""}` : `${value} ms`,
          met: value !== undefined && value <= bound,
        });
      }
      const theirs = (hc?.[field] as Stat)?.p50;
      if (hc && ours && theirs !== undefined) {
        const ratio = Math.round((theirs / Math.max(ours.p50, 0.1)) * 10) / 10;
        checks.push({
          scenario: name,
          aim: `${label} p50 ≥ 10× faster than hc-aggressive`,
          measured: `${ratio}× (${ours.p50} vs ${theirs} ms)`,
          met: ratio >= 10,
        });
      }
    }
  }
  return checks;
}
