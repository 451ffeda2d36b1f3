/**
 * One target's pipeline. render → compare with what the load balancer runs → (changed):
 * - when the activator can apply the change live (HAProxy's Runtime API, server lines only), it does so
 *   first, and dest is then staged, checked and renamed in the background (DestWriter.writeBehind),
 *   so the change is routed without waiting for the check and the next change does not wait for it;
 * - otherwise stage beside dest → check → rename over dest → activate (reload).
 * Anything that fails leaves the previous state and is retried by the next apply.
 */
import { rm } from "node:fs/promises";
import type { TargetConfig } from "../config/types.js";
import { isLbwatchError, LbwatchError } from "../errors.js";
import type { Logger } from "../log.js";
import type { RegistryChange } from "../registry/registry.js";
import type { RenderContext } from "../render/context.js";
import { type ActivateResult, type Activator, needsFile } from "./activator.js";
import { readDest, writeAtomic } from "./atomic-write.js";
import { DestWriter, failureFields, type WriteMethod } from "./dest-writer.js";
import { renderDiff } from "./dry-run.js";
import { StageTimes, toMs } from "./stage-times.js";

/** What a compiled template offers the pipeline (CompiledTemplate from src/render/template.ts). */
export interface Renderer {
  render(context: RenderContext): string;
}

/** "deferred": applied live, and dest is being written behind it (see flush()). */
export type ApplyWrite = WriteMethod | "deferred";

export type ApplyOutcome =
  | { status: "unchanged" }
  | { status: "applied"; method: ActivateResult["method"]; write: ApplyWrite }
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
  readonly #writer: DestWriter;
  /** The render the load balancer runs, once this target applied one; before that, dest is read. */
  #running: string | undefined;
  /** --dry-run never changes dest, so remember what was shown to print each distinct render once. */
  #lastDiffed: string | undefined;

  constructor(options: FileTargetOptions) {
    this.config = options.config;
    this.#renderer = options.renderer;
    this.#activator = options.activator;
    this.#log = options.log.child({ target: options.config.dest });
    this.#clock = options.clock;
    this.#dryRun = options.dryRun;
    this.#writer = new DestWriter(options.config, this.#log, options.clock);
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
      this.#log.error(failureFields(error), "target not applied: dest left as it was");
      return { status: "failed", error };
    }
  }

  /** Resolves when dest has been written behind every live apply: true unless one of those failed. */
  flush(): Promise<boolean> {
    return this.#writer.flush();
  }

  async #apply(context: RenderContext, change: RegistryChange): Promise<ApplyOutcome> {
    const times = new StageTimes(this.#clock);
    // Probe, registry, `wait` and earlier applies: the part of latencyMs spent before this apply.
    if (change.firstEventTs !== undefined) times.ms.beforeApplyMs = toMs(this.#clock() - change.firstEventTs);
    const next = this.#render(context);
    times.lap("render");
    if (this.#dryRun) return this.#printDiff(await readDest(this.config.dest), next);
    const running = this.#running ?? (await readDest(this.config.dest));
    times.lap("read");
    this.#running = running;
    if (next === running) {
      if (this.#writer.behind) this.#writer.writeBehind(next);
      return { status: "unchanged" };
    }

    let reason: string | undefined;
    if (this.#activator.applyLive) {
      const live = await this.#activator.applyLive({ previous: running, next, change });
      times.lap("live");
      if (!needsFile(live)) {
        this.#running = next;
        this.#writer.writeBehind(next);
        this.#logApplied(change, live, "deferred", times);
        return { status: "applied", method: live.method, write: "deferred" };
      }
      reason = live.fallback;
    }

    await this.#writer.flush();
    const before = await readDest(this.config.dest);
    const write = await this.#writer.write(next, times);
    let activation: ActivateResult;
    try {
      activation = await this.#activator.activate({
        previous: running,
        next,
        dest: this.config.dest,
        change,
        ...(reason === undefined ? {} : { reason }),
      });
    } catch (err) {
      await this.#restore(before);
      if (isLbwatchError(err)) throw err;
      throw new LbwatchError("E_RELOAD_FAILED", `${this.config.dest}: activation failed: ${String(err)}`, {
        cause: err,
      });
    }
    times.lap("activate");
    this.#running = next;
    this.#logApplied(change, activation, write, times);
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

  /**
   * `latencyMs`: from the kernel event behind the change to the load balancer using it (Runtime API
   * commands done, or dest written and activated). The debug line has the time of each stage.
   */
  #logApplied(
    change: RegistryChange,
    activation: ActivateResult,
    write: ApplyWrite,
    times: StageTimes,
  ): void {
    const latencyMs =
      change.firstEventTs === undefined ? undefined : toMs(this.#clock() - change.firstEventTs);
    this.#log.debug({ latencyMs, ...times.ms }, "apply stages");
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
  }
}
