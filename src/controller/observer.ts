/**
 * What the controller reports as it works, for metrics (src/metrics/): one interface, so the
 * controller does not know who listens. Every method is called synchronously on the event path and
 * must be cheap (a counter increment), never I/O.
 */
import type { ReplaceReason } from "../sources/source.js";
import type { TargetObserver } from "../targets/target.js";

export interface Observer extends TargetObserver {
  /** A kernel listen/close event reached lbwatch (matched or not). */
  kernelEvent(type: "listen" | "close"): void;
  /** Events were lost: the ring buffer overflowed, or a listen's port could not be resolved. */
  eventsLost(reason: string, count: number): void;
  /** A source delivered a full view again; `wrong` is what it had wrong (0 and 0 when nothing). */
  resynced(source: string, reason: ReplaceReason, wrong: { listeners: number; backends: number }): void;
  /** A config reload was tried (file edit or SIGHUP). */
  configReloaded(ok: boolean): void;
}
