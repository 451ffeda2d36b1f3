/**
 * One error family for the whole project. `code` is stable and documented in README; callers branch
 * on `code`, never on message text. Messages name the place (a key path, a file:line, a flag) and the fix.
 */
export type ErrorCode =
  | "E_CONFIG" // invalid config file or flag value
  | "E_USAGE" // bad command-line usage
  | "E_TEMPLATE" // template syntax or strict-mode reference error
  | "E_BPF_PERM" // not allowed to load BPF (needs root or CAP_BPF+CAP_PERFMON)
  | "E_BPF_LOAD" // no hook could be loaded/attached on this kernel
  | "E_ADDON" // the native addon is missing or failed to load
  | "E_PROC" // reading /proc failed in a way that matters
  | "E_CHECK_FAILED" // a target's check command failed
  | "E_RELOAD_FAILED" // a target's reload command failed
  | "E_WRITE" // writing a destination failed
  | "E_HAPROXY_API" // the HAProxy Runtime API or master CLI answered with an error
  | "E_LB_DOWN" // the load balancer is not running: dest is written, activation waits for it
  | "E_UNREACHABLE"; // a service lbwatch needs did not answer: the status URL, or a source at `run --once`

export class LbwatchError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LbwatchError";
    this.code = code;
  }
}

export function isLbwatchError(err: unknown, code?: ErrorCode): err is LbwatchError {
  return err instanceof LbwatchError && (code === undefined || err.code === code);
}
