/**
 * The controller wires the data flow: probe → snapshot+stream merge → registry → quiescence → render
 * every target → apply. Nothing is rendered before the initial snapshot is merged, so a restart never
 * writes a config with backends missing. A failing target never stops it: the next change retries.
 */
import { configWarnings, loadConfig } from "../config/load-config.js";
import type { Config } from "../config/types.js";
import { isLbwatchError } from "../errors.js";
import type { Logger } from "../log.js";
import type { ListenEvent } from "../probe/event.js";
import { ListenProbe, type LostInfo } from "../probe/listen-probe.js";
import { type Listening, startListening } from "../probe/listener-table.js";
import { hostNetnsInode } from "../probe/netns.js";
import { systemInspector } from "../probe/netns-inspector.js";
import { snapshot } from "../probe/snapshot.js";
import { isEmptyChange, Registry, type RegistryChange } from "../registry/registry.js";
import { buildContext } from "../render/context.js";
import type { ApplyOutcome, FileTargetOptions } from "../targets/file-target.js";
import { toMs } from "../targets/stage-times.js";
import { PendingChange } from "./pending-change.js";
import { TargetSet } from "./target-set.js";
import { Quiescence } from "./wait.js";
import { InputWatcher } from "./watch.js";

export interface ControllerOptions {
  configFile: string;
  log: Logger;
  /** --dry-run: print a diff per change here; never write or reload. */
  dryRun?: FileTargetOptions["dryRun"];
}

/**
 * Latency is measured from the kernel event: bpf_ktime_get_ns() and process.hrtime (libuv's
 * uv_hrtime) both read CLOCK_MONOTONIC on Linux, so the two are directly comparable.
 */
const clock = () => process.hrtime.bigint();

export class Controller {
  readonly #options: ControllerOptions;
  readonly #log: Logger;
  readonly #registry: Registry;
  readonly #pending = new PendingChange();
  #config: Config;
  #targets: TargetSet;
  #quiescence: Quiescence;
  #probe: ListenProbe | undefined;
  #listening: Listening | undefined;
  #watcher: InputWatcher | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  /** Renders run one at a time; at most one more waits, and it takes everything pending when it starts. */
  #renders: Promise<unknown> = Promise.resolve();
  #queuedRender: Promise<ApplyOutcome[]> | undefined;
  #reloads: Promise<void> = Promise.resolve();

  private constructor(config: Config, targets: TargetSet, options: ControllerOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#config = config;
    this.#targets = targets;
    this.#registry = new Registry(config, {
      log: options.log,
      hostNetns: hostNetnsInode(),
      inspector: systemInspector(),
    });
    this.#quiescence = new Quiescence(config.wait, () => this.#renderInBackground());
  }

  /** Reads the config and compiles every template: throws E_CONFIG or E_TEMPLATE before anything runs. */
  static async load(options: ControllerOptions): Promise<Controller> {
    const config = await loadConfig(options.configFile);
    for (const warning of configWarnings(config)) options.log.warn({ warning }, "config warning");
    return new Controller(config, await TargetSet.build(config, Controller.#targetOptions(options)), options);
  }

  /** --once: one snapshot, one render; true when every target was applied or unchanged. */
  async once(): Promise<boolean> {
    this.#pending.add(await this.#registry.reconcile(await snapshot()));
    const outcomes = await this.#render();
    const written = await this.#targets.flush();
    return written && outcomes.every((o) => o.status !== "failed");
  }

  /** Attaches the probe, merges the initial snapshot, renders once, then follows changes until close(). */
  async start(): Promise<void> {
    const probe = ListenProbe.open();
    this.#probe = probe;
    probe.on("lost", (lost) => void this.#resync("lost", lost));
    probe.on("error", (err) => this.#log.error({ err }, "probe error"));
    const listening = await startListening(probe, (ev) => this.#onEvent(ev));
    this.#listening = listening;
    // Called before any live event can reach the registry (those arrive on later ticks), so the
    // registry sees the snapshot first and then every event in order.
    this.#pending.add(await this.#registry.reconcile(listening.initial));
    this.#log.info({ hook: probe.hook, listeners: listening.initial.length }, "initial snapshot merged");
    await this.#render();
    this.#watcher = new InputWatcher(
      { onTemplate: (path) => this.#templateEdited(path), onConfig: (reason) => this.#reloadConfig(reason) },
      this.#log,
    );
    await this.#watcher.watch(this.#config.file, this.#targets.templates());
    this.#scheduleResync();
  }

  /** Stops following changes, detaches the probe and waits for an apply in progress to finish. */
  async close(): Promise<void> {
    clearInterval(this.#resyncTimer);
    this.#quiescence.cancel();
    await this.#watcher?.close();
    this.#listening?.stop();
    this.#probe?.close();
    await this.#reloads;
    await this.#renders;
    await this.#targets.flush();
  }

  #onEvent(ev: ListenEvent): void {
    const received = clock();
    this.#registry.applyEvent(ev).then(
      (change) => {
        if (!isEmptyChange(change) && this.#log.isLevelEnabled("debug")) {
          const stages = { kernelToJsMs: toMs(received - ev.ts), registryMs: toMs(clock() - received) };
          this.#log.debug({ sock: ev.sock, type: ev.type, ...stages }, "event changed the registry");
        }
        this.#changed(change);
      },
      (err) => this.#log.error({ err, sock: ev.sock, pid: ev.pid }, "event not applied to the registry"),
    );
  }

  #changed(change: RegistryChange): void {
    if (this.#pending.add(change)) this.#quiescence.poke();
  }

  #render(): Promise<ApplyOutcome[]> {
    if (!this.#queuedRender) {
      const run = this.#renders.then(() => {
        this.#queuedRender = undefined;
        const context = buildContext(this.#config.services, this.#registry.backends());
        return this.#targets.applyAll(context, this.#pending.take());
      });
      this.#queuedRender = run;
      this.#renders = run.catch((err) => this.#log.error({ err }, "render failed"));
    }
    return this.#queuedRender;
  }

  /** For timers and watchers: a failed render is already logged by the render chain. */
  #renderInBackground(): void {
    this.#render().catch(() => undefined);
  }

  /** After lost events, and every `resync`: rebuild from a fresh snapshot and apply the difference. */
  async #resync(reason: "lost" | "timer", lost?: LostInfo): Promise<void> {
    const listening = this.#listening;
    if (!listening) return;
    try {
      const diff = await listening.resync();
      // Taken on the tick the merge finished, before any later live event reaches the registry.
      const change = await this.#registry.reconcile([...listening.table.values()]);
      const wrong = {
        listenersWrong: diff.added.length + diff.removed.length,
        backendsWrong: change.added.length + change.removed.length + (change.updated?.length ?? 0),
      };
      const level = wrong.listenersWrong + wrong.backendsWrong > 0 ? "warn" : "info";
      this.#log[level]({ reason, ...(lost ? { lost } : {}), ...wrong }, "resynced from a fresh snapshot");
      this.#changed(change);
    } catch (err) {
      this.#log.error({ err, reason }, "resync failed: keeping the current state until the next one");
    }
  }

  #scheduleResync(): void {
    clearInterval(this.#resyncTimer);
    if (this.#config.resyncMs > 0) {
      this.#resyncTimer = setInterval(() => void this.#resync("timer"), this.#config.resyncMs);
    }
  }

  #templateEdited(path: string): void {
    this.#targets.recompile(path).then(
      (ok) => ok && this.#renderInBackground(),
      (err) => this.#log.error({ err, template: path }, "template not recompiled"),
    );
  }

  /** A config edit or SIGHUP: an invalid config is logged and the running one kept. */
  #reloadConfig(reason: "file" | "SIGHUP"): void {
    this.#reloads = this.#reloads
      .then(async () => {
        let config: Config;
        let targets: TargetSet;
        try {
          config = await loadConfig(this.#config.file);
          targets = await TargetSet.build(config, Controller.#targetOptions(this.#options));
        } catch (err) {
          if (!isLbwatchError(err)) throw err;
          this.#log.error(
            { reason, code: err.code, error: err.message },
            "config not reloaded: keeping the running one",
          );
          return;
        }
        for (const warning of configWarnings(config)) this.#log.warn({ warning }, "config warning");
        // The new targets read dest to learn what runs: let the old ones finish writing it.
        await this.#targets.flush();
        this.#config = config;
        this.#targets = targets;
        this.#quiescence.cancel();
        this.#quiescence = new Quiescence(config.wait, () => this.#renderInBackground());
        this.#pending.add(await this.#registry.setRules(config));
        this.#scheduleResync();
        await this.#watcher?.watch(config.file, targets.templates());
        this.#log.info(
          { reason, services: config.services.length, targets: config.targets.length },
          "config reloaded",
        );
        await this.#render();
      })
      .catch((err) => this.#log.error({ err, reason }, "config reload failed"));
  }

  static #targetOptions(options: ControllerOptions) {
    return { log: options.log, clock, ...(options.dryRun ? { dryRun: options.dryRun } : {}) };
  }
}
