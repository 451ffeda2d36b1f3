/**
 * A target whose load balancer learns of changes from a file: render → dest (staged, checked,
 * renamed) → reload. Desired is the render; observed is dest's content and the content whose reload
 * last succeeded (src/targets/applied-record.ts, which survives restarts), so a pass does whatever
 * part of the work is not yet true: write, reload, both or nothing. Passes are coalesced by `wait`
 * (a burst costs at most two reloads) and retried with backoff until they succeed.
 */
import type { TargetConfig, WaitConfig } from "../config/types.js";
import type { Logger } from "../log.js";
import type { RegistryChange } from "../registry/registry.js";
import { AppliedRecord, contentHash } from "./applied-record.js";
import { reportApplied, reportFailed } from "./apply-report.js";
import { PendingChange } from "./pending-change.js";
import { Quiescence } from "./quiescence.js";
import { LoadBalancerDown, ReconcileLoop } from "./reconcile-loop.js";
import { createReloader, type Reloader } from "./reloader.js";
import { type DryRun, RenderedFile } from "./rendered-file.js";
import { removeStaleStaged } from "./staged-files.js";
import type { Activation, DesiredState, Renderer, Target, TargetObserver, TargetStatus } from "./target.js";

/** Process start times are known to 10 ms (clock ticks, /proc/uptime): closer than this, reload to be sure. */
const START_TIME_SLACK_MS = 30;

export interface TargetDeps {
  config: TargetConfig;
  renderer: Renderer;
  desired: DesiredState;
  log: Logger;
  /** Now, on the clock of kernel event timestamps (CLOCK_MONOTONIC ns). */
  clock: () => bigint;
  wait: WaitConfig;
  dryRun?: DryRun;
  observer?: TargetObserver;
}

export class FileTarget implements Target {
  readonly name: string;
  readonly kind = "file";
  readonly #deps: TargetDeps;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  readonly #file: RenderedFile;
  readonly #reloader: Reloader | undefined;
  readonly #record: AppliedRecord;
  readonly #loop: ReconcileLoop;
  readonly #quiescence: Quiescence;
  #pending = new PendingChange();
  /** dest must be read again (start, resync): it may have been edited behind lbwatch's back. */
  #refresh = true;
  #started = false;
  /** sha256 of the content whose reload last succeeded (undefined: unknown, reload to be sure). */
  #reloaded: string | undefined;
  /** Wall-clock ms when dest last changed: a load balancer started after that loaded it. */
  #writtenAt = 0;
  #lastApplied: TargetStatus["lastApplied"];

  constructor(deps: TargetDeps) {
    this.#deps = deps;
    this.name = deps.config.dest;
    this.#log = deps.log.child({ target: deps.config.dest });
    this.#file = new RenderedFile({ ...deps, log: this.#log, signal: this.#abort.signal });
    this.#reloader = deps.dryRun ? undefined : createReloader(deps.config, this.#abort.signal);
    this.#record = new AppliedRecord(deps.config.dest);
    this.#loop = new ReconcileLoop(() => this.#pass(), this.#log);
    this.#quiescence = new Quiescence(deps.wait, () => this.#loop.wake());
  }

  start(): void {
    this.#started = true;
    this.#loop.wake();
  }

  changed(change: RegistryChange): void {
    const released = this.#file.quarantine.release(change);
    if ((this.#pending.add(change) || released) && this.#started) this.#quiescence.poke();
  }

  resync(): void {
    this.#refresh = true;
    this.#loop.wake();
  }

  setRenderer(renderer: Renderer): void {
    this.#file.renderer = renderer;
    this.#loop.wake();
  }

  noticeListen(): void {
    // A load balancer waited for may be starting: look now instead of at the next retry.
    if (this.#loop.status().state === "lb-down") this.#loop.wake({ now: true });
  }

  status(): TargetStatus {
    const status: TargetStatus = {
      ...this.#loop.status(),
      target: this.name,
      kind: this.kind,
      pending: !this.#pending.empty || this.#quiescence.pending || this.#loop.busy,
      quarantined: this.#file.quarantine.list(),
    };
    if (this.#lastApplied) status.lastApplied = this.#lastApplied;
    return status;
  }

  async settled(): Promise<TargetStatus> {
    await this.#loop.settled();
    return this.status();
  }

  abort(): void {
    this.#abort.abort();
  }

  async close(): Promise<void> {
    this.#quiescence.cancel();
    await this.#loop.close();
  }

  async #pass(): Promise<void> {
    if (this.#refresh && !this.#file.dryRun) {
      await removeStaleStaged(this.name, this.#log);
      this.#reloaded ??= await this.#record.read();
    }
    const change = this.#pending.take();
    const started = this.#deps.clock();
    let activation: Activation = "none";
    let write: string | undefined;
    try {
      ({ activation, write } = await this.#converge());
    } catch (err) {
      // Not applied: these changes are still owed, before any that arrived meanwhile.
      const owed = new PendingChange();
      owed.add(change);
      owed.add(this.#pending.take());
      this.#pending = owed;
      if (!(err instanceof LoadBalancerDown)) reportFailed(this.#report(), activation, started);
      throw err;
    }
    if (activation === "none") return;
    const applied = { added: change.added.map((b) => b.id), removed: change.removed.map((b) => b.id) };
    const latencyMs = reportApplied(this.#report(), change, applied, activation, started, { write });
    this.#lastApplied = { at: Date.now(), activation, ...(latencyMs === undefined ? {} : { latencyMs }) };
  }

  /** Does what is not yet true; returns what it had to do. */
  async #converge(): Promise<{ activation: Activation; write: "rename" | "in-place" | "none" }> {
    const refresh = this.#refresh;
    this.#refresh = false;
    let context = this.#file.context();
    let text = this.#file.render(context);
    let outcome = await this.#file.converge(text, context, { background: false, refresh });
    while (outcome === "quarantined") {
      context = this.#file.context();
      text = this.#file.render(context);
      outcome = await this.#file.converge(text, context, { background: false });
    }
    // --dry-run printed the diff: nothing was applied.
    if (outcome === "diffed") return { activation: "none", write: "none" };
    const write = outcome === "unchanged" ? "none" : outcome;
    if (write !== "none") this.#writtenAt = Date.now();
    const written = { activation: write === "none" ? "none" : "write", write } as const;
    if (!this.#reloader) return written;
    const hash = contentHash(text);
    if (this.#reloaded === hash) return written;
    const running = await this.#reloader.running();
    if (running?.running === false) {
      throw new LoadBalancerDown(`${this.name}: written; load balancer not running (${running.why})`);
    }
    if (
      running?.startedAtMs !== undefined &&
      this.#writtenAt > 0 &&
      running.startedAtMs > this.#writtenAt + START_TIME_SLACK_MS
    ) {
      // Started after dest got this content: it loaded it, a reload would only repeat that.
      this.#log.info("load balancer started after dest was written: it runs this render");
    } else await this.#reloader.reload();
    this.#reloaded = hash;
    await this.#record.write(hash);
    return { activation: "reload", write };
  }

  #report() {
    return { log: this.#log, observer: this.#deps.observer, target: this.name, clock: this.#deps.clock };
  }
}
