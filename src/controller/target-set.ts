/**
 * The configured targets as live FileTargets: compiled templates, chosen activators, and the
 * template-edit path (recompile; a broken edit keeps the last good template and output).
 */
import type { Config } from "../config/types.js";
import { isLbwatchError } from "../errors.js";
import type { Logger } from "../log.js";
import type { RegistryChange } from "../registry/registry.js";
import type { RenderContext } from "../render/context.js";
import { compileTemplate } from "../render/template.js";
import { type ApplyOutcome, FileTarget, type FileTargetOptions } from "../targets/file-target.js";
import { pickActivator } from "./pick-activator.js";

export type TargetSetOptions = Pick<FileTargetOptions, "log" | "clock" | "dryRun">;

export class TargetSet {
  readonly #targets: FileTarget[];
  readonly #log: Logger;

  private constructor(targets: FileTarget[], log: Logger) {
    this.#targets = targets;
    this.#log = log;
  }

  /** Compiles every template; throws E_TEMPLATE (file:line:column) on the first that does not compile. */
  static async build(config: Config, options: TargetSetOptions): Promise<TargetSet> {
    const targets = await Promise.all(
      config.targets.map(
        async (target) =>
          new FileTarget({
            ...options,
            config: target,
            renderer: await compileTemplate(target.template),
            activator: pickActivator(target, options.log),
          }),
      ),
    );
    return new TargetSet(targets, options.log);
  }

  templates(): string[] {
    return [...new Set(this.#targets.map((t) => t.config.template))];
  }

  /** Targets are independent files: apply them side by side. */
  applyAll(context: RenderContext, change: RegistryChange): Promise<ApplyOutcome[]> {
    return Promise.all(this.#targets.map((t) => t.apply(context, change)));
  }

  /** Waits for dest writes behind live applies: true when every dest holds what its load balancer runs. */
  async flush(): Promise<boolean> {
    return (await Promise.all(this.#targets.map((t) => t.flush()))).every(Boolean);
  }

  /**
   * Recompile an edited template for every target that uses it. Returns false (and logs where the
   * error is) when it does not compile: those targets keep their last good template.
   */
  async recompile(path: string): Promise<boolean> {
    const users = this.#targets.filter((t) => t.config.template === path);
    if (users.length === 0) return false;
    try {
      const renderer = await compileTemplate(path);
      for (const t of users) t.setRenderer(renderer);
      this.#log.info({ template: path }, "template recompiled");
      return true;
    } catch (err) {
      if (!isLbwatchError(err)) throw err;
      this.#log.error(
        { template: path, code: err.code, error: err.message },
        "template not recompiled: keeping the last good one",
      );
      return false;
    }
  }
}
