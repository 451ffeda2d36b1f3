/**
 * Writes one target's dest: stage beside it → check → rename over it. Writes run one at a time, in the
 * order asked. `writeBehind` is for a render the load balancer already runs (applied live): it returns
 * at once, a queued one is skipped when a newer one was queued after it, and a failure is logged and
 * remembered (`behind`) so that the next apply retries it.
 */
import type { TargetConfig } from "../config/types.js";
import { isLbwatchError, LbwatchError } from "../errors.js";
import type { Logger } from "../log.js";
import { readDest, stage } from "./atomic-write.js";
import { CommandError, runCommand, substituteStaged } from "./command.js";
import { StageTimes, toMs } from "./stage-times.js";

export type WriteMethod = "rename" | "in-place";

/** Log fields of a failed apply or write: a CommandError's argv, exit code and output, else the error. */
export function failureFields(error: LbwatchError): Record<string, unknown> {
  if (!(error instanceof CommandError)) return { code: error.code, err: error };
  const { code, argv, exitCode, stderr, timedOut } = error;
  return { code, argv, exitCode, stderr, timedOut };
}

export class DestWriter {
  readonly #config: TargetConfig;
  readonly #log: Logger;
  readonly #clock: () => bigint;
  #queue: Promise<unknown> = Promise.resolve();
  /** The latest content given to writeBehind: older queued ones are skipped. */
  #latest: string | undefined;
  #behind = false;

  constructor(config: TargetConfig, log: Logger, clock: () => bigint) {
    this.#config = config;
    this.#log = log;
    this.#clock = clock;
  }

  /** True when the last write behind a live apply failed: dest is older than what runs. */
  get behind(): boolean {
    return this.#behind;
  }

  /**
   * Stage, check and rename now (after the writes queued before). Rejects with E_CHECK_FAILED or
   * E_WRITE and leaves dest as it was; `times` gets the `stage`, `check` and `commit` laps.
   */
  write(content: string, times: StageTimes): Promise<WriteMethod> {
    return this.#serial(async () => {
      const write = await this.#stageCheckCommit(content, times, false);
      this.#behind = false;
      return write;
    });
  }

  /** Queues a write of a render the load balancer already runs, and returns at once. */
  writeBehind(content: string): void {
    this.#latest = content;
    const queuedAt = this.#clock();
    this.#serial(async () => {
      if (content !== this.#latest) return;
      const times = new StageTimes(this.#clock);
      try {
        if ((await readDest(this.#config.dest)) === content) {
          this.#behind = false;
          return;
        }
        const write = await this.#stageCheckCommit(content, times, true);
        this.#behind = false;
        const sinceQueuedMs = toMs(this.#clock() - queuedAt);
        this.#log.debug({ write, sinceQueuedMs, ...times.ms }, "dest written behind the live change");
      } catch (err) {
        this.#behind = true;
        const error = isLbwatchError(err)
          ? err
          : new LbwatchError("E_WRITE", `${this.#config.dest}: write failed: ${String(err)}`, { cause: err });
        this.#log.error(
          failureFields(error),
          "dest not written although the load balancer already runs this change: the next apply retries; a restart before then loads the older dest",
        );
      }
    });
  }

  /** Resolves when every queued write is done: true when none of them left dest behind. */
  async flush(): Promise<boolean> {
    await this.#queue;
    return !this.#behind;
  }

  /** `background`: nothing waits for this write, so its check runs at a lower CPU priority. */
  async #stageCheckCommit(content: string, times: StageTimes, background: boolean): Promise<WriteMethod> {
    const { dest, check, commandTimeoutMs } = this.#config;
    const staged = await stage(dest, content);
    times.lap("stage");
    if (check) {
      try {
        await runCommand("check", substituteStaged(check, staged.path), {
          timeoutMs: commandTimeoutMs,
          background,
        });
      } catch (err) {
        await staged.discard();
        throw err;
      }
      times.lap("check");
    }
    const write = await staged.commit();
    times.lap("commit");
    if (write === "in-place") {
      this.#log.warn("rename refused (EBUSY: dest is a bind mount): wrote in place instead");
    }
    return write;
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
