/**
 * The last step of a target's pipeline, after the new file is in place: make the load balancer use it.
 * Pluggable so that a target with `haproxy:` set can apply server changes through the Runtime API
 * (src/targets/haproxy/) while every other target runs its `reload` argv.
 */
import type { TargetConfig } from "../config/types.js";
import type { RegistryChange } from "../registry/registry.js";
import { runCommand } from "./command.js";

export interface ActivateInput {
  /** dest's content before this apply; undefined when dest did not exist. */
  previous: string | undefined;
  /** The content now in dest. */
  next: string;
  dest: string;
  change: RegistryChange;
}

export interface ActivateResult {
  method: "reload" | "runtime-api" | "none";
  /** Why this method was chosen (e.g. the reason for falling back to a reload). */
  detail?: string;
}

/** Rejects (E_RELOAD_FAILED, E_HAPROXY_API) when the load balancer could not be made to use `next`. */
export interface Activator {
  activate(input: ActivateInput): Promise<ActivateResult>;
}

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
