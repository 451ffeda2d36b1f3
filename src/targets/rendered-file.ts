/**
 * The file side of a target, shared by every kind: render the desired state (without what this
 * target quarantined) and bring dest to it, checked. A check that fails is answered by the quarantine
 * search (src/targets/quarantine.ts) before it counts as a failure.
 */
import type { TargetConfig } from "../config/types.js";
import { isLbwatchError } from "../errors.js";
import type { Logger } from "../log.js";
import { backendKey } from "../registry/backend.js";
import type { RenderContext } from "../render/context.js";
import { snapshotContext } from "../render/service-lists.js";
import { DestFile, type WriteMethod } from "./dest-file.js";
import { contextWithout, findCulprits, Quarantine, type Suspect } from "./quarantine.js";
import type { DesiredState, Renderer, TargetObserver } from "./target.js";

export interface DryRun {
  out: NodeJS.WritableStream;
  color: boolean;
}

export type FileOutcome = "unchanged" | WriteMethod | "diffed";

export class RenderedFile {
  readonly file: DestFile;
  readonly quarantine: Quarantine;
  readonly #desired: DesiredState;
  readonly #dryRun: DryRun | undefined;
  readonly #signal: AbortSignal;
  readonly #observer: TargetObserver | undefined;
  #renderer: Renderer;
  /**
   * The context of the last render that passed the check (undefined until one did): copied lists, a
   * pointer each, since its keys are needed only when a check fails.
   */
  #lastGood: RenderContext | undefined;
  /** --dry-run never changes dest: what was shown, so each distinct render prints once. */
  #lastDiffed: string | undefined;

  constructor(options: {
    config: TargetConfig;
    renderer: Renderer;
    desired: DesiredState;
    log: Logger;
    dryRun?: DryRun;
    signal: AbortSignal;
    observer?: TargetObserver;
  }) {
    this.#observer = options.observer;
    this.file = new DestFile(options.config, options.log, options.signal);
    this.quarantine = new Quarantine(options.log);
    this.#desired = options.desired;
    this.#renderer = options.renderer;
    this.#dryRun = options.dryRun;
    this.#signal = options.signal;
  }

  get renderer(): Renderer {
    return this.#renderer;
  }

  set renderer(renderer: Renderer) {
    this.#renderer = renderer;
    this.quarantine.clear();
  }

  get dryRun(): boolean {
    return this.#dryRun !== undefined;
  }

  /** The desired context as this target applies it: quarantined backends left out. */
  context(): RenderContext {
    return contextWithout(this.#desired.context(), this.quarantine.keys);
  }

  render(context: RenderContext = this.context()): string {
    try {
      return this.#renderer.render(context);
    } catch (err) {
      this.#observer?.templateError(this.#renderer.file);
      throw err;
    }
  }

  /**
   * Brings dest to `text` (the render of `context`). "quarantined" means backends were just kept out:
   * render again. Rejects with the check's E_CHECK_FAILED when no backend is to blame, or E_WRITE.
   */
  async converge(
    text: string,
    context: RenderContext,
    options: { background: boolean; refresh?: boolean },
  ): Promise<FileOutcome | "quarantined"> {
    const current = await this.file.content(options.refresh);
    if (this.#dryRun) return this.#printDiff(current, text);
    if (text === current) {
      this.#lastGood ??= snapshotContext(context);
      return "unchanged";
    }
    try {
      const method = await this.file.write(text, options);
      this.#lastGood = snapshotContext(context);
      return method;
    } catch (err) {
      if (!isLbwatchError(err, "E_CHECK_FAILED")) throw err;
      if (this.#signal.aborted) throw err;
      if (await this.#quarantineCulprits(context, err.message, options.background)) return "quarantined";
      throw err;
    }
  }

  /** After a failed check: keep out the backends that cause it; false when none does. */
  async #quarantineCulprits(context: RenderContext, reason: string, background: boolean): Promise<boolean> {
    const frozen = snapshotContext(context);
    const good = this.#lastGood ? keysOf(this.#lastGood) : new Set<string>();
    const suspects: Suspect[] = [];
    for (const [service, s] of Object.entries(frozen.services)) {
      for (const b of s.backends) {
        if (!good.has(`${service}/${b.id}`)) suspects.push({ ...b, service });
      }
    }
    if (suspects.length === 0) return false;
    const culprits = await findCulprits(suspects, async (excluded) => {
      const failure = await this.file.tryCheck(this.render(contextWithout(frozen, excluded)), { background });
      return failure === undefined;
    });
    if (!culprits || culprits.length === 0) return false;
    for (const b of culprits) this.quarantine.add(b, reason);
    return true;
  }

  async #printDiff(current: string | undefined, next: string): Promise<FileOutcome> {
    if (next === (this.#lastDiffed ?? current)) return "unchanged";
    this.#lastDiffed = next;
    const { out, color } = this.#dryRun as DryRun;
    // Only --dry-run diffs: every other start-up skips the ~20 ms of importing the diff library.
    const { renderDiff } = await import("./dry-run.js");
    out.write(renderDiff(this.file.path, current, next, color));
    return "diffed";
  }
}

function keysOf(context: RenderContext): Set<string> {
  const keys = new Set<string>();
  for (const [service, s] of Object.entries(context.services)) {
    for (const b of s.backends) keys.add(backendKey({ service, id: b.id }));
  }
  return keys;
}
