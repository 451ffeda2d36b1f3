/**
 * One target's pipeline: render → byte-compare with dest → (changed) stage beside dest → check →
 * rename over dest → activate → log. Anything that fails leaves the previous dest in place and is
 * retried by the next apply, because the next render then differs from dest again.
 */
import { rm } from "node:fs/promises";
import type { TargetConfig } from "../config/types.js";
import { isLbwatchError, LbwatchError } from "../errors.js";
import type { Logger } from "../log.js";
import type { RegistryChange } from "../registry/registry.js";
import type { RenderContext } from "../render/context.js";
import type { ActivateResult, Activator } from "./activator.js";
import { readDest, stage, writeAtomic } from "./atomic-write.js";
import { CommandError, runCommand, substituteStaged } from "./command.js";
import { renderDiff } from "./dry-run.js";

/** What a compiled template offers the pipeline (CompiledTemplate from src/render/template.ts). */
export interface Renderer {
  render(context: RenderContext): string;
}

export type ApplyOutcome =
  | { status: "unchanged" }
  | { status: "applied"; method: ActivateResult["method"]; write: "rename" | "in-place" }
  /** --dry-run: the diff was printed, nothing written. */
  | { status: "diffed" }
  | { status: "failed"; error: LbwatchError };

export interface FileTargetOptions {
  config: TargetConfig;
  renderer: Renderer;
  activator: Activator;
  log: Logger;
  /** Now, on the clock of RegistryChange.firstEventTs (kernel CLOCK_MONOTONIC ns): for `latencyMs`. */
  clock: () => bigint;
  /** --dry-run: print a diff per change here instead of writing or activating. */
  dryRun?: { out: NodeJS.WritableStream; color: boolean };
}

export class FileTarget {
  readonly config: TargetConfig;
  #renderer: Renderer;
  readonly #activator: Activator;
  readonly #log: Logger;
  readonly #clock: () => bigint;
  readonly #dryRun: FileTargetOptions["dryRun"];
  /** --dry-run never changes dest, so remember what was shown to print each distinct render once. */
  #lastDiffed: string | undefined;

  constructor(options: FileTargetOptions) {
    this.config = options.config;
    this.#renderer = options.renderer;
    this.#activator = options.activator;
    this.#log = options.log.child({ target: options.config.dest });
    this.#clock = options.clock;
    this.#dryRun = options.dryRun;
  }

  /** Swap in a recompiled template (after an edit); the caller re-applies. */
  setRenderer(renderer: Renderer): void {
    this.#renderer = renderer;
  }

  async apply(context: RenderContext, change: RegistryChange): Promise<ApplyOutcome> {
    try {
      return await this.#apply(context, change);
    } catch (err) {
      const error = isLbwatchError(err)
        ? err
        : new LbwatchError("E_WRITE", `${this.config.dest}: apply failed: ${String(err)}`, { cause: err });
      this.#logFailure(error);
      return { status: "failed", error };
    }
  }

  async #apply(context: RenderContext, change: RegistryChange): Promise<ApplyOutcome> {
    const next = this.#render(context);
    const previous = await readDest(this.config.dest);
    if (next === previous) return { status: "unchanged" };
    if (this.#dryRun) return this.#printDiff(previous, next);

    const staged = await stage(this.config.dest, next);
    if (this.config.check) {
      try {
        await runCommand("check", substituteStaged(this.config.check, staged.path), {
          timeoutMs: this.config.commandTimeoutMs,
        });
      } catch (err) {
        await staged.discard();
        throw err;
      }
    }
    const write = await staged.commit();
    const latencyMs = this.#latencyMs(change);
    if (write === "in-place") {
      this.#log.warn("rename refused (EBUSY: dest is a bind mount): wrote in place instead");
    }

    let activation: ActivateResult;
    try {
      activation = await this.#activator.activate({ previous, next, dest: this.config.dest, change });
    } catch (err) {
      await this.#restore(previous);
      if (isLbwatchError(err)) throw err;
      throw new LbwatchError("E_RELOAD_FAILED", `${this.config.dest}: activation failed: ${String(err)}`, {
        cause: err,
      });
    }
    this.#log.info(
      {
        added: change.added.map((b) => b.id),
        removed: change.removed.map((b) => b.id),
        latencyMs,
        write,
        activation: activation.method,
        ...(activation.detail ? { detail: activation.detail } : {}),
      },
      "target applied",
    );
    return { status: "applied", method: activation.method, write };
  }

  #render(context: RenderContext): string {
    try {
      return this.#renderer.render(context);
    } catch (err) {
      if (isLbwatchError(err)) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new LbwatchError("E_TEMPLATE", `${this.config.template}: render failed: ${reason}`, {
        cause: err,
      });
    }
  }

  #printDiff(previous: string | undefined, next: string): ApplyOutcome {
    if (next === this.#lastDiffed) return { status: "unchanged" };
    this.#lastDiffed = next;
    const { out, color } = this.#dryRun as NonNullable<FileTargetOptions["dryRun"]>;
    out.write(renderDiff(this.config.dest, previous, next, color));
    return { status: "diffed" };
  }

  /**
   * The load balancer refused the new file: put the previous one back so dest matches what is
   * running, and so the next render differs from dest and is tried again.
   */
  async #restore(previous: string | undefined): Promise<void> {
    try {
      if (previous === undefined) await rm(this.config.dest, { force: true });
      else await writeAtomic(this.config.dest, previous);
    } catch (err) {
      this.#log.error({ err }, "could not restore the previous dest after a failed activation");
    }
  }

  #latencyMs(change: RegistryChange): number | undefined {
    if (change.firstEventTs === undefined) return undefined;
    return Number(this.#clock() - change.firstEventTs) / 1e6;
  }

  #logFailure(error: LbwatchError): void {
    if (error instanceof CommandError) {
      const { code, argv, exitCode, stderr, timedOut } = error;
      this.#log.error({ code, argv, exitCode, stderr, timedOut }, "target not applied: dest left as it was");
    } else {
      this.#log.error({ code: error.code, err: error }, "target not applied: dest left as it was");
    }
  }
}
