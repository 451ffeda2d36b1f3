/**
 * The master CLI of HAProxy in master-worker mode (`haproxy -W -S <socket>`): reload and process
 * supervision. In HAProxy 2.6 `reload` answers nothing and closes the connection, so a reload is
 * confirmed by watching `show proc` until the master counts one more reload, and a failed one is seen
 * in its "failed" counter (the master then keeps the old workers on the old config).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { LbwatchError } from "../../errors.js";
import { sendCommand } from "./cli-socket.js";

const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_RELOAD_TIMEOUT_MS = 10_000;
const POLL_MS = 20;

export interface ProcessTable {
  master: { pid: number; reloads: number; failedReloads: number };
  /** Workers started by the latest successful (re)load. */
  workers: number[];
  /** Workers of earlier configs still finishing their connections. */
  oldWorkers: number[];
}

export class MasterCli {
  readonly socketPath: string;
  readonly #timeoutMs: number;

  constructor(socketPath: string, options: { timeoutMs?: number } = {}) {
    this.socketPath = socketPath;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async showProc(): Promise<ProcessTable> {
    const answer = await sendCommand(this.socketPath, "show proc", { timeoutMs: this.#timeoutMs });
    return parseShowProc(answer, this.socketPath);
  }

  /**
   * Reload and wait until the master has re-read its config: resolves when it did, rejects with
   * E_RELOAD_FAILED when it refused the config (the old workers keep serving) or did not finish in time.
   */
  async reload(options: { timeoutMs?: number } = {}): Promise<ProcessTable> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_RELOAD_TIMEOUT_MS;
    const before = await this.showProc();
    await sendCommand(this.socketPath, "reload", { timeoutMs: this.#timeoutMs });
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await sleep(POLL_MS);
      // The master re-executes itself during a reload: its socket may refuse us for a moment.
      const now = await this.showProc().catch(() => undefined);
      if (!now || now.master.reloads <= before.master.reloads) continue;
      if (now.master.failedReloads > before.master.failedReloads) {
        throw new LbwatchError(
          "E_RELOAD_FAILED",
          `${this.socketPath}: HAProxy refused the new config on reload and keeps the old one (run "haproxy -c -f <config>" to see why)`,
        );
      }
      if (now.workers.length > 0) return now;
    }
    throw new LbwatchError(
      "E_RELOAD_FAILED",
      `${this.socketPath}: HAProxy did not finish reloading within ${timeoutMs} ms`,
    );
  }
}

/**
 * `show proc` (HAProxy 2.6): a header, the master's line ("<pid> master <n> [failed: <f>] ..."), then
 * "# workers", "# old workers" and "# programs" sections of "<pid> <type> ..." lines.
 */
export function parseShowProc(answer: string, socketPath = "master CLI"): ProcessTable {
  let section = "master";
  let master: ProcessTable["master"] | undefined;
  const workers: number[] = [];
  const oldWorkers: number[] = [];
  for (const line of answer.split("\n")) {
    if (line.startsWith("#")) {
      section = line.replace(/^#\s*/, "").trim();
      continue;
    }
    const pid = Number.parseInt(line, 10);
    if (!Number.isInteger(pid)) continue;
    const m = /^\d+\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]/.exec(line);
    if (m) master = { pid, reloads: Number(m[1]), failedReloads: Number(m[2]) };
    else if (section === "workers") workers.push(pid);
    else if (section === "old workers") oldWorkers.push(pid);
  }
  if (!master) {
    const said = answer.trim().split("\n")[0] || "(nothing)";
    throw new LbwatchError("E_HAPROXY_API", `${socketPath}: "show proc" gave no master line: ${said}`);
  }
  return { master, workers, oldWorkers };
}
