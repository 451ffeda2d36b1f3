/**
 * How a target's load balancer takes a new render. Every activator has `activate`, run after the
 * checked file replaced dest (the default runs the target's `reload` argv). An activator that can
 * change the running load balancer directly (HAProxy's Runtime API, src/targets/haproxy/) also has
 * `applyLive`, which the pipeline tries first, before any file work: the change is routed at once and
 * the file follows behind it (src/targets/file-target.ts).
 */
import type { TargetConfig } from "../config/types.js";
import type { RegistryChange } from "../registry/registry.js";
import { runCommand } from "./command.js";

export interface LiveInput {
  /** What the load balancer runs: the last render applied to it, else dest's content (undefined: none). */
  previous: string | undefined;
  /** The new render. */
  next: string;
  change: RegistryChange;
}

export interface ActivateInput extends LiveInput {
  /** dest's path; `next` is its content now. */
  dest: string;
  /** Why `applyLive` left this change to the file and `activate` (logged with the reload). */
  reason?: string;
}

export interface ActivateResult {
  method: "reload" | "runtime-api" | "none";
  /** Why this method was chosen (e.g. the reason for falling back to a reload). */
  detail?: string;
}

/** `applyLive`'s answer when the change needs the checked file and `activate`, and why. */
export interface NeedsFile {
  fallback: string;
}

export interface Activator {
  /**
   * Apply `previous → next` to the running load balancer without a reload and before dest is written.
   * Resolves how it was applied, or NeedsFile when it cannot be (then nothing was left half-done that
   * `activate` would not redo). Rejects only on errors that also doom `activate`.
   */
  applyLive?(input: LiveInput): Promise<ActivateResult | NeedsFile>;
  /** Rejects (E_RELOAD_FAILED, E_HAPROXY_API) when the load balancer could not be made to use `next`. */
  activate(input: ActivateInput): Promise<ActivateResult>;
}

export const needsFile = (result: ActivateResult | NeedsFile): result is NeedsFile => "fallback" in result;

/** Runs the target's `reload` argv with its timeout; a target without `reload` only gets its file written. */
export function createReloadActivator(target: Pick<TargetConfig, "reload" | "commandTimeoutMs">): Activator {
  const { reload, commandTimeoutMs } = target;
  return {
    async activate() {
      if (!reload) return { method: "none" };
      await runCommand("reload", reload, { timeoutMs: commandTimeoutMs });
      return { method: "reload" };
    },
  };
}
