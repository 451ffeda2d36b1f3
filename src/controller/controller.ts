/**
 * The controller wires the data flow: sources → registry → the ordered render lists → targets. It is
 * handed its sources (src/sources/index.ts) and targets (src/targets/pick-target.ts) and knows neither
 * kind. Nothing reaches a target before every source delivered its first full view, so a restart
 * never applies a config with backends missing; each target then reconciles against what its load
 * balancer really runs, and keeps doing so (src/targets/reconcile-loop.ts).
 */
import { configWarnings, loadConfig } from "../config/load-config.js";
import type { Config } from "../config/types.js";
import { isLbwatchError, LbwatchError } from "../errors.js";
import type { Logger } from "../log.js";
import type { BackendCount } from "../metrics/state-metrics.js";
import { Readiness, type WaitingStatus } from "../readiness/readiness.js";
import { type Backend, backendKey } from "../registry/backend.js";
import { isEmptyChange, Registry, type RegistryChange } from "../registry/registry.js";
import { ServiceLists } from "../render/service-lists.js";
import { compileTemplate } from "../render/template.js";
import { readMachineId } from "../sources/host-id.js";
import { createSources } from "../sources/index.js";
import type { ReplaceInfo, Source, SourceContext, SourceSink, SourceStatus } from "../sources/source.js";
import { createTargets } from "../targets/pick-target.js";
import type { DryRun } from "../targets/rendered-file.js";
import type { DesiredState, Renderer, Target, TargetStatus } from "../targets/target.js";
import type { Observer } from "./observer.js";
import { InputWatcher } from "./watch.js";

export interface ControllerOptions {
  configFile: string;
  log: Logger;
  /** --dry-run: print a diff per change here; never write, reload or touch a load balancer. */
  dryRun?: DryRun;
  observer?: Observer;
  /** Where backends come from; by default the config's sources (src/sources/index.ts). */
  sources?: (context: SourceContext) => Source[];
}

/**
 * Latency is measured from the kernel event: bpf_ktime_get_ns() and process.hrtime (libuv's
 * uv_hrtime) both read CLOCK_MONOTONIC on Linux, so the two are directly comparable.
 */
const clock = () => process.hrtime.bigint();

/** SIGTERM must stop `run` within 2 s whatever is queued: what an apply has not finished by then waits for the next start. */
const CLOSE_GRACE_MS = 1500;
const CLOSE_AFTER_KILL_MS = 300;
const WRONG_IDS_LOGGED = 10;
/** Targets start once gated backends had their first check (restarts keep them routed), or after this. */
const FIRST_CHECKS_MAX_MS = 5000;
/** Lost-event and resync entries kept for /status. */
const HISTORY = 10;

export interface HistoryEntry {
  at: number;
  source: string;
  reason: string;
  /** Lost events: how many; resyncs: what was wrong. */
  count?: number;
  listenersWrong?: number;
  backendsWrong?: number;
}

/** A backend as /status shows it. */
export interface StatusBackend {
  id: string;
  endpoint: string;
  source: string;
  host: string;
  pid: number;
  comm: string;
  uid: number;
  since: number;
  ready: boolean;
  /** A backend waiting to be ready: its checks so far. */
  readiness?: WaitingStatus;
}

/** What /status shows: the controller's whole state, read without changing it. */
export interface ControllerSnapshot {
  services: Record<string, StatusBackend[]>;
  sources: SourceStatus[];
  targets: TargetStatus[];
  pending: boolean;
  lost: HistoryEntry[];
  resyncs: HistoryEntry[];
}

/** The snapshot without its backends, and the names of the services they belong to. */
export type StatusSummary = Omit<ControllerSnapshot, "services"> & { services: string[] };

export class Controller {
  readonly #options: ControllerOptions;
  readonly #log: Logger;
  readonly #readiness: Readiness;
  readonly #registry: Registry;
  readonly #lists: ServiceLists;
  #config: Config;
  #targets: Target[];
  #sources: Source[] = [];
  #watcher: InputWatcher | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #reloads: Promise<void> = Promise.resolve();
  #started = false;
  /**
   * Targets start only once every source delivered a first full view, and hear of nothing before:
   * a target reconciles the load balancer to the whole desired state, and one source's view without
   * another's (etcd unreachable when run starts) would remove that source's backends from it.
   */
  #targetsStarted = false;
  #targetsStarting = false;
  readonly #viewed = new Set<string>();
  /** Templates recompiled while the targets wait: handed over when they start. */
  readonly #renderers = new Map<Target, Renderer>();
  readonly #lost: HistoryEntry[] = [];
  readonly #resyncs: HistoryEntry[] = [];
  /** Backends per service and source (of the claim that speaks for each), kept per change for metrics. */
  /** Backends by service and source: routed, and waiting for their readiness check. */
  readonly #counts = new Map<string, Map<string, { routed: number; waiting: number }>>();

  private constructor(config: Config, targets: Target[], options: ControllerOptions, lists: ServiceLists) {
    this.#options = options;
    this.#log = options.log;
    this.#config = config;
    this.#targets = targets;
    this.#lists = lists;
    this.#readiness = new Readiness(config.services, {
      log: options.log,
      ready: (b, at) => this.#dispatch(this.#registry.markReady(b.service, b.id, at)),
    });
    this.#registry = new Registry((service) => this.#readiness.gated(service));
  }

  /** Reads the config and compiles every template: throws E_CONFIG or E_TEMPLATE before anything runs. */
  static async load(options: ControllerOptions): Promise<Controller> {
    const config = await loadConfig(options.configFile);
    for (const warning of configWarnings(config)) options.log.warn({ warning }, "config warning");
    const lists = new ServiceLists(config.services);
    return new Controller(config, await Controller.#buildTargets(config, options, lists), options, lists);
  }

  /** --once: one full view from every source, one reconcile of every target; how each ended. */
  async once(): Promise<TargetStatus[]> {
    await this.#startSources(true);
    const missing = this.#unviewed();
    if (missing.length > 0) {
      await this.close();
      const which = missing.map((s) => `${s.id} (${s.status().detail ?? s.status().state})`).join(", ");
      throw new LbwatchError(
        "E_UNREACHABLE",
        `no view from source ${which}: --once applies nothing without every source, since a config without its backends would take them out`,
      );
    }
    await this.#startTargets();
    const statuses = await Promise.all(this.#targets.map((t) => t.settled()));
    await this.close();
    return statuses;
  }

  /**
   * Starts every source, then every target once each source delivered its first view, then follows
   * changes until close(). A source that cannot deliver yet (etcd unreachable) holds the targets back,
   * so what the load balancers run stays as it is (fail static) instead of losing that source's backends.
   */
  async start(): Promise<void> {
    await this.#startSources(false);
    const missing = this.#unviewed();
    if (missing.length === 0) await this.#startTargets();
    else {
      this.#log.warn(
        { sources: missing.map((s) => s.id) },
        "waiting for the first view of every source: the load balancer keeps what it runs until then",
      );
    }
    this.#watcher = new InputWatcher(
      { onTemplate: (path) => this.#templateEdited(path), onConfig: (reason) => this.#reloadConfig(reason) },
      this.#log,
    );
    await this.#watcher.watch(this.#config.file, this.#templates());
    this.#scheduleResync();
  }

  /** Stops following changes; gives applies in progress a bounded time, then stops their commands. */
  async close(): Promise<void> {
    clearInterval(this.#resyncTimer);
    await this.#watcher?.close();
    await Promise.all(this.#sources.map((s) => s.close()));
    this.#readiness.close();
    const closed = Promise.all(this.#targets.map((t) => t.close()));
    if (await within(closed, CLOSE_GRACE_MS)) return;
    this.#log.warn(
      { graceMs: CLOSE_GRACE_MS },
      "stopping with an apply in progress: it is redone at the next start",
    );
    // Its check or reload is what holds it: once that is gone the apply fails fast and the target closes.
    for (const target of this.#targets) target.abort();
    await within(closed, CLOSE_AFTER_KILL_MS);
  }

  status(): { sources: SourceStatus[]; targets: TargetStatus[] } {
    return { sources: this.#sources.map((s) => s.status()), targets: this.#targets.map((t) => t.status()) };
  }

  /** Healthy once every source delivered its first view, while each still works. */
  health(): { ok: true } | { ok: false; reason: string } {
    const waiting = this.#unviewed().map((s) => s.id);
    if (!this.#started || waiting.length > 0) {
      return { ok: false, reason: `starting: no first view yet from ${waiting.join(", ") || "the sources"}` };
    }
    const bad = this.#sources.find((s) => s.status().state === "closed" || s.status().state === "starting");
    if (bad)
      return {
        ok: false,
        reason: `source ${bad.id} is ${bad.status().state}${bad.status().detail ? `: ${bad.status().detail}` : ""}`,
      };
    if (this.#watcher && !this.#watcher.alive)
      return { ok: false, reason: "the template and config watcher failed: send SIGHUP" };
    return { ok: true };
  }

  /** Backends per service and source: O(services), for metrics scrapes. */
  backendCounts(): BackendCount[] {
    return [...this.#counts].flatMap(([service, bySource]) =>
      [...bySource].map(([source, { routed, waiting }]) => ({ service, source, count: routed, waiting })),
    );
  }

  /** Everything /status shows. O(backends) in one go: in-process callers and tests. */
  snapshot(): ControllerSnapshot {
    const { services: names, ...rest } = this.summary();
    const services: ControllerSnapshot["services"] = Object.fromEntries(names.map((name) => [name, []]));
    for (const b of this.#registry.backends()) services[b.service]?.push(this.statusOf(b));
    return { services, ...rest };
  }

  /** The snapshot but its backends: O(services + targets + sources). */
  summary(): StatusSummary {
    const targets = this.#targets.map((t) => t.status());
    return {
      services: this.#config.services.map((s) => s.name),
      sources: this.#sources.map((s) => s.status()),
      targets,
      pending: targets.some((t) => t.pending),
      lost: [...this.#lost],
      resyncs: [...this.#resyncs],
    };
  }

  /**
   * The live backends, for /status to walk a slice at a time between events (src/http/status-body.ts).
   * A change replaces a Backend object, never edits it; a walk across changes may meet a backend
   * that was removed and added again twice.
   */
  backends(): IterableIterator<Backend> {
    return this.#registry.backends();
  }

  backend(service: string, id: string): Backend | undefined {
    return this.#registry.get(service, id);
  }

  /** A backend as /status shows it, with its readiness checks while it waits. */
  statusOf(b: Backend): StatusBackend {
    const { id, endpoint, source, host, pid, comm, uid, since, ready } = b;
    const readiness = ready ? undefined : this.#readiness.status(b.service, id);
    return { id, endpoint, source, host, pid, comm, uid, since, ready, ...(readiness ? { readiness } : {}) };
  }

  /** The config in force (the last that loaded). */
  get config(): Config {
    return this.#config;
  }

  async #startSources(once: boolean): Promise<void> {
    const hostId = await readMachineId().catch(() => "localhost");
    this.#sources = await (this.#options.sources ?? createSources)({
      config: this.#config,
      log: this.#log,
      hostId,
      once,
      onListen: (l) => {
        if (this.#targetsStarted) for (const t of this.#targets) t.noticeListen(l);
      },
      onKernelEvent: (type) => this.#options.observer?.kernelEvent(type),
      onEventsLost: (reason, count) => {
        this.#options.observer?.eventsLost(reason, count);
        remember(this.#lost, { at: Date.now(), source: "local", reason, count });
      },
    });
    // One after another, the local probe first: without privileges its E_BPF_PERM is the error to see.
    for (const source of this.#sources) await source.start(this.#sinkFor(source));
    this.#started = true;
  }

  #unviewed(): Source[] {
    return this.#sources.filter((s) => !this.#viewed.has(s.id));
  }

  /**
   * Targets start once every gated backend had its first check (bounded: a slow check delays the
   * first apply, it does not hold it), so a restart does not take serving backends out.
   */
  async #startTargets(): Promise<void> {
    if (this.#targetsStarting) return;
    this.#targetsStarting = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#readiness.firstAttempts(),
      new Promise((resolve) => {
        timer = setTimeout(resolve, FIRST_CHECKS_MAX_MS);
      }),
    ]);
    clearTimeout(timer);
    this.#targetsStarted = true;
    for (const [target, renderer] of this.#renderers) target.setRenderer(renderer);
    this.#renderers.clear();
    for (const target of this.#targets) target.start();
  }

  #sinkFor(source: Source): SourceSink {
    return {
      replace: (claims, info) => {
        const change = this.#registry.replace(source.id, claims);
        this.#logReplace(source, info, change);
        this.#dispatch(change);
        this.#viewed.add(source.id);
        if (this.#started && !this.#targetsStarted && this.#unviewed().length === 0) {
          this.#log.info({ source: source.id }, "every source delivered its view: targets start");
          void this.#startTargets();
        }
        // A resync delivers every backend again: one past its readiness deadline is tried again.
        if (info.reason !== "initial") this.#readiness.retry(source.id);
      },
      update: (upserts, removals, firstEventTs) => {
        this.#dispatch(this.#registry.update(source.id, upserts, removals, firstEventTs));
      },
    };
  }

  #dispatch(change: RegistryChange): void {
    if (isEmptyChange(change)) return;
    this.#count(change);
    this.#lists.apply(change);
    // Readiness checks start at once, also while the targets wait for their first apply.
    this.#readiness.changed(change);
    if (!this.#targetsStarted) return;
    for (const target of this.#targets) target.changed(change);
  }

  #count(change: RegistryChange): void {
    const add = (b: Backend, by: number) => {
      let bySource = this.#counts.get(b.service);
      if (!bySource) {
        bySource = new Map();
        this.#counts.set(b.service, bySource);
      }
      const counts = bySource.get(b.source) ?? { routed: 0, waiting: 0 };
      if (b.ready) counts.routed += by;
      else counts.waiting += by;
      if (counts.routed === 0 && counts.waiting === 0) bySource.delete(b.source);
      else bySource.set(b.source, counts);
    };
    for (const b of change.removed) add(b, -1);
    for (const b of change.added) add(b, 1);
    change.updated.forEach((b, i) => {
      const before = change.updatedFrom?.[i];
      if (before && (before.source !== b.source || before.ready !== b.ready)) {
        add(before, -1);
        add(b, 1);
      }
    });
  }

  /**
   * A resync is wrong only where the source had it wrong: listeners that came or went while the
   * snapshot was taken are moving, not wrong, and a resync with nothing wrong is not news.
   */
  #logReplace(source: Source, info: ReplaceInfo, change: RegistryChange): void {
    const fields = { source: source.id, reason: info.reason };
    if (info.reason === "initial" || info.reason === "config") {
      this.#log.info(
        { ...fields, backends: this.#registry.claimCount(source.id) },
        "source delivered its view",
      );
      return;
    }
    const wrongKeys = new Set(info.wrong?.keys ?? []);
    const wrongBackends = [...change.added, ...change.removed, ...change.updated].filter(
      (b) => info.wrong === undefined || wrongKeys.has(b.claim),
    );
    const wrong = {
      listenersWrong: info.wrong?.count ?? 0,
      backendsWrong: wrongBackends.length,
      wrongListeners: info.wrong?.sample ?? [],
      wrongBackends: wrongBackends.slice(0, WRONG_IDS_LOGGED).map(backendKey),
    };
    const level = wrong.listenersWrong + wrong.backendsWrong > 0 ? "warn" : "debug";
    this.#log[level]({ ...fields, ...wrong }, "resynced from a fresh view");
    const counts = { listeners: wrong.listenersWrong, backends: wrong.backendsWrong };
    this.#options.observer?.resynced(source.id, info.reason, counts);
    remember(this.#resyncs, {
      at: Date.now(),
      source: source.id,
      reason: info.reason,
      listenersWrong: counts.listeners,
      backendsWrong: counts.backends,
    });
  }

  #scheduleResync(): void {
    clearInterval(this.#resyncTimer);
    if (this.#config.resyncMs <= 0) return;
    this.#resyncTimer = setInterval(() => {
      for (const source of this.#sources) void source.resync("timer");
      if (this.#targetsStarted) for (const target of this.#targets) target.resync();
    }, this.#config.resyncMs);
  }

  #templates(): string[] {
    return [...new Set(this.#config.targets.map((t) => t.template))];
  }

  #templateEdited(path: string): void {
    const users = this.#targets.filter((_, i) => this.#config.targets[i]?.template === path);
    if (users.length === 0) return;
    compileTemplate(path).then(
      (renderer) => {
        this.#log.info({ template: path }, "template recompiled");
        for (const target of users) {
          if (this.#targetsStarted) target.setRenderer(renderer);
          else this.#renderers.set(target, renderer);
        }
      },
      (err: unknown) => {
        if (!isLbwatchError(err)) throw err;
        this.#options.observer?.templateError(path);
        this.#log.error(
          { template: path, code: err.code, error: err.message },
          "template not recompiled: keeping the last good one",
        );
      },
    );
  }

  /** A config edit or SIGHUP: an invalid config is logged and the running one kept. */
  #reloadConfig(reason: "file" | "SIGHUP"): void {
    this.#reloads = this.#reloads
      .then(async () => {
        let config: Config;
        let targets: Target[];
        try {
          config = await loadConfig(this.#config.file);
          targets = await Controller.#buildTargets(config, this.#options, this.#lists);
        } catch (err) {
          if (!isLbwatchError(err)) throw err;
          this.#options.observer?.configReloaded(false);
          this.#log.error(
            { reason, code: err.code, error: err.message },
            "config not reloaded: keeping the running one",
          );
          return;
        }
        for (const warning of configWarnings(config)) this.#log.warn({ warning }, "config warning");
        // The old targets finish what they are doing; the new ones start from what really runs.
        await Promise.all(this.#targets.map((t) => t.close()));
        this.#config = config;
        this.#targets = targets;
        // The new targets start from the whole state: what the new gates change needs no dispatch.
        this.#readiness.configure(config.services);
        this.#registry.regate((service) => this.#readiness.gated(service));
        this.#lists.reset(config.services, this.#registry.backends());
        this.#renderers.clear();
        for (const source of this.#sources) await source.reconfigure(config);
        if (this.#targetsStarted) for (const target of targets) target.start();
        this.#scheduleResync();
        await this.#watcher?.watch(config.file, this.#templates());
        this.#options.observer?.configReloaded(true);
        this.#log.info(
          { reason, services: config.services.length, targets: config.targets.length },
          "config reloaded",
        );
      })
      .catch((err) => this.#log.error({ err, reason }, "config reload failed"));
  }

  static async #buildTargets(
    config: Config,
    options: ControllerOptions,
    desired: DesiredState,
  ): Promise<Target[]> {
    return createTargets(config, {
      desired,
      log: options.log,
      clock,
      ...(options.dryRun ? { dryRun: options.dryRun } : {}),
      ...(options.observer ? { observer: options.observer } : {}),
      compile: compileTemplate,
    });
  }
}

function remember(list: HistoryEntry[], entry: HistoryEntry): void {
  list.push(entry);
  if (list.length > HISTORY) list.shift();
}

/** Whether `promise` settled within `ms`. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    late,
  ]);
  clearTimeout(timer);
  return settled;
}
