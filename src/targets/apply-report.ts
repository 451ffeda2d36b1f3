/**
 * The `target applied` log line and the metrics record of one finished apply, the same for every
 * target kind. `added`/`removed` are exactly what this apply changed in the load balancer, and
 * `latencyMs` runs from the kernel's timestamp of the earliest event behind it to the load balancer
 * using it (CLOCK_MONOTONIC on both sides: bpf_ktime_get_ns and process.hrtime).
 */
import type { Logger } from "../log.js";
import type { FoldedChange } from "./pending-change.js";
import { toMs } from "./stage-times.js";
import type { Activation, ApplyRecord, TargetObserver } from "./target.js";

export interface AppliedChange {
  added: readonly string[];
  removed: readonly string[];
}

/** Ids listed in a log line: all of them up to this many, then the count (a cold start adds thousands). */
const IDS_LOGGED = 50;

/** `added`/`removed` for a log line: the ids, and their number when they are too many to list. */
export function idFields(applied: AppliedChange): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const key of ["added", "removed"] as const) {
    const ids = applied[key];
    fields[key] = ids.length > IDS_LOGGED ? ids.slice(0, IDS_LOGGED) : ids;
    if (ids.length > IDS_LOGGED) fields[`${key}Count`] = ids.length;
  }
  return fields;
}

export function reportApplied(
  report: { log: Logger; observer: TargetObserver | undefined; target: string; clock: () => bigint },
  change: FoldedChange,
  applied: AppliedChange,
  activation: Activation,
  startedNs: bigint,
  extra: Record<string, unknown> = {},
): number | undefined {
  const now = report.clock();
  const latency = (ts: bigint | undefined) => (ts === undefined ? undefined : toMs(now - ts));
  const latencyMs = latency(change.firstEventTs);
  report.log.info({ ...idFields(applied), latencyMs, activation, ...extra }, "target applied");
  const latencies: ApplyRecord["latencies"] = [];
  const listen = latency(change.firstListenTs);
  const close = latency(change.firstCloseTs);
  if (listen !== undefined && applied.added.length > 0)
    latencies.push({ type: "listen", seconds: listen / 1000 });
  if (close !== undefined && applied.removed.length > 0)
    latencies.push({ type: "close", seconds: close / 1000 });
  report.observer?.applied({
    target: report.target,
    activation,
    result: "ok",
    durationMs: toMs(now - startedNs),
    latencies,
  });
  return latencyMs;
}

export function reportFailed(
  report: { observer: TargetObserver | undefined; target: string; clock: () => bigint },
  activation: Activation,
  startedNs: bigint,
): void {
  report.observer?.applied({
    target: report.target,
    activation,
    result: "failed",
    durationMs: toMs(report.clock() - startedNs),
    latencies: [],
  });
}
