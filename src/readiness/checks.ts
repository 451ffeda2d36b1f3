/**
 * One readiness attempt against one backend, bounded by a hard timeout: an HTTP GET (the status
 * decides; the body is never read) or an argv run without a shell (exit 0, and `stdout` when given).
 * The backend is any listener: it may answer slowly, never, or with garbage, so every path ends by the
 * timeout and nothing it sends is kept but a short description for the log.
 */
import { request } from "node:http";
import type { ReadyCheck } from "../config/types.js";
import { safeText } from "../render/safe-text.js";
import { CommandError, runCommand } from "../targets/command.js";

export interface CheckTarget {
  address: string;
  port: number;
  family: 4 | 6;
  endpoint: string;
}

export interface CheckResult {
  ok: boolean;
  /** What happened, for the log: "status 503", "connect ECONNREFUSED", "timed out after 1000 ms"... */
  detail: string;
}

/** Enough of a command's output to say why it failed. */
const DETAIL_CHARS = 200;

const short = (text: string) => safeText(text.trim()).slice(0, DETAIL_CHARS);

function httpCheck(
  check: Extract<ReadyCheck, { kind: "http" }>,
  target: CheckTarget,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<CheckResult> {
  return new Promise((resolve) => {
    const req = request({
      host: target.address,
      family: target.family,
      port: target.port,
      path: check.path,
      method: "GET",
      headers: { host: check.host ?? target.endpoint, "user-agent": "lbwatch-ready", connection: "close" },
      agent: false,
      signal,
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve({ ok: false, detail: `timed out after ${timeoutMs} ms` });
    }, timeoutMs);
    req.once("response", (res) => {
      clearTimeout(timer);
      const status = res.statusCode ?? 0;
      // Only the status matters: the connection goes now, whatever the body would have been.
      res.destroy();
      req.destroy();
      const ok = check.expect.some((r) => status >= r.from && status <= r.to);
      resolve({ ok, detail: `status ${status}` });
    });
    req.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, detail: `request failed: ${err.code ?? short(err.message)}` });
    });
    req.end();
  });
}

/** `{address}` and `{port}` in every argument (also inside one, as in `--url=http://{address}`). */
export function substituteTarget(argv: readonly string[], target: CheckTarget): string[] {
  return argv.map((arg) =>
    arg.replaceAll("{address}", target.address).replaceAll("{port}", `${target.port}`),
  );
}

async function execCheck(
  check: Extract<ReadyCheck, { kind: "exec" }>,
  target: CheckTarget,
  timeoutMs: number,
): Promise<CheckResult> {
  try {
    const stdout = await runCommand("check", substituteTarget(check.argv, target), { timeoutMs });
    if (check.stdout === undefined || stdout.trimEnd() === check.stdout)
      return { ok: true, detail: "exit 0" };
    return { ok: false, detail: `exit 0, but stdout is ${JSON.stringify(short(stdout))}` };
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    const how = err.timedOut
      ? `timed out after ${timeoutMs} ms`
      : err.exitCode === undefined
        ? "could not run"
        : `exit ${err.exitCode}`;
    return { ok: false, detail: err.stderr ? `${how}: ${short(err.stderr)}` : how };
  }
}

/** One attempt; never rejects for anything the backend does. */
export function runCheck(
  check: ReadyCheck,
  target: CheckTarget,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<CheckResult> {
  return check.kind === "http"
    ? httpCheck(check, target, timeoutMs, signal)
    : execCheck(check, target, timeoutMs);
}
