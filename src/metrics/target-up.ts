import type { TargetStatus } from "../targets/target.js";

/**
 * A target is up when its load balancer runs the latest render: the reconcile loop is ok and its last
 * pass did not fail. The one definition behind `lbwatch_target_up` and `lbwatch status`'s exit code.
 */
export function targetUp(status: Pick<TargetStatus, "state" | "failures">): boolean {
  return status.state === "ok" && status.failures === 0;
}
