/**
 * How a file target makes its load balancer load dest, and how it tells whether the load balancer is
 * running at all: a reload argv (with `pidFile` to see the process), or HAProxy's master CLI. A load
 * balancer that is not running is not a failed reload: it will load dest when it starts, which is why
 * dest is written first whatever the answer.
 */
import { readFile } from "node:fs/promises";
import type { TargetConfig } from "../config/types.js";
import { isLbwatchError } from "../errors.js";
import { parseProcStat } from "../proc-stat.js";
import { runCommand } from "./command.js";
import { MasterCli } from "./haproxy/master-cli.js";

export type Running =
  | { running: false; why: string }
  /** `startedAtMs`: wall-clock start of the process, when known. */
  | { running: true; startedAtMs?: number };

export interface Reloader {
  /** undefined: lbwatch cannot tell (no pidFile, no master CLI); then it just reloads. */
  running(): Promise<Running | undefined>;
  reload(): Promise<void>;
}

/** Linux reports process start times in clock ticks; USER_HZ is 100 on every architecture it runs on. */
const USER_HZ = 100;

/** Wall-clock ms of boot, to 10 ms (/proc/stat's btime is whole seconds: too coarse to order a start and a write). */
async function bootTimeMs(): Promise<number> {
  const uptime = Number.parseFloat(await readFile("/proc/uptime", "utf8"));
  return Date.now() - uptime * 1000;
}

/** The process named by a pid file: running or not, and when it started. */
export async function pidFileProcess(pidFile: string): Promise<Running> {
  const text = await readFile(pidFile, "utf8").catch(() => undefined);
  const pid = Number.parseInt(text ?? "", 10);
  if (!Number.isInteger(pid) || pid <= 0) return { running: false, why: `no pid in ${pidFile}` };
  const statText = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  const stat = statText === undefined ? undefined : parseProcStat(statText);
  if (stat === undefined) return { running: false, why: `pid ${pid} from ${pidFile} is not running` };
  return { running: true, startedAtMs: (await bootTimeMs()) + (stat.startTicks * 1000) / USER_HZ };
}

const NOT_RUNNING = /ENOENT|ECONNREFUSED/;

/** `signal`: aborted when lbwatch stops, which ends a running reload command. */
export function createReloader(target: TargetConfig, signal: AbortSignal): Reloader | undefined {
  const { reload, pidFile, commandTimeoutMs, haproxy } = target;
  const master = haproxy?.masterSocket ? new MasterCli(haproxy.masterSocket) : undefined;
  const running = async (): Promise<Running | undefined> => {
    if (pidFile) return pidFileProcess(pidFile);
    if (!master) return undefined;
    try {
      await master.showProc();
      return { running: true };
    } catch (err) {
      if (isLbwatchError(err, "E_HAPROXY_API") && NOT_RUNNING.test(err.message)) {
        return { running: false, why: `${master.socketPath} refuses connections` };
      }
      throw err;
    }
  };
  if (reload) {
    return {
      running,
      reload: () => runCommand("reload", reload, { timeoutMs: commandTimeoutMs, signal }).then(() => {}),
    };
  }
  if (master) return { running, reload: () => master.reload({ timeoutMs: commandTimeoutMs }).then(() => {}) };
  return undefined;
}
