/**
 * One target's dest: staged beside it → checked → renamed over it, one write at a time. It remembers
 * what it last wrote, so a pass compares a render with dest without reading the file each time; a
 * full reconcile reads it again (someone may have edited it).
 */
import type { TargetConfig } from "../config/types.js";
import type { Logger } from "../log.js";
import { SerialQueue } from "../serial-queue.js";
import { readDest, stage } from "./atomic-write.js";
import { type CommandError, runCommand, substituteStaged } from "./command.js";

export type WriteMethod = "rename" | "in-place";

export class DestFile {
  readonly #config: TargetConfig;
  readonly #log: Logger;
  readonly #queue = new SerialQueue();
  readonly #signal: AbortSignal;
  #known: { content: string | undefined } | undefined;

  /** `signal`: aborted when lbwatch stops, which ends a running check. */
  constructor(config: TargetConfig, log: Logger, signal: AbortSignal) {
    this.#config = config;
    this.#log = log;
    this.#signal = signal;
  }

  get path(): string {
    return this.#config.dest;
  }

  /** dest's content (undefined: it does not exist); `refresh` reads the file again. */
  async content(refresh = false): Promise<string | undefined> {
    if (refresh || !this.#known) this.#known = { content: await readDest(this.#config.dest) };
    return this.#known.content;
  }

  /**
   * Stage, check and rename. Rejects with E_CHECK_FAILED (the staged file removed, dest untouched) or
   * E_WRITE. `background`: nothing waits for it, so the check runs at a lower CPU priority.
   */
  write(content: string, options: { background: boolean }): Promise<WriteMethod> {
    return this.#queue.run(async () => {
      const staged = await stage(this.#config.dest, content);
      try {
        await this.#check(staged.path, options.background);
      } catch (err) {
        await staged.discard();
        throw err;
      }
      const method = await staged.commit();
      this.#known = { content };
      if (method === "in-place") {
        this.#log.warn("rename refused (EBUSY: dest is a bind mount): wrote in place instead");
      }
      return method;
    });
  }

  /** Runs the check on `content` without touching dest: undefined when it passes. */
  tryCheck(content: string, options: { background: boolean }): Promise<CommandError | undefined> {
    return this.#queue.run(async () => {
      const staged = await stage(this.#config.dest, content);
      try {
        await this.#check(staged.path, options.background);
        return undefined;
      } catch (err) {
        return err as CommandError;
      } finally {
        await staged.discard();
      }
    });
  }

  async #check(path: string, background: boolean): Promise<void> {
    const { check, commandTimeoutMs } = this.#config;
    if (!check) return;
    const options = { timeoutMs: commandTimeoutMs, background, signal: this.#signal };
    await runCommand("check", substituteStaged(check, path), options);
  }
}
