/**
 * A HAProxy target with a Runtime API socket: one reconciler, two lanes.
 *
 * - The live lane keeps HAProxy's servers equal to the desired ones. A change becomes `add`/`maint`/
 *   `ready` commands for exactly the servers it touches (their lines come from rendering the template
 *   for just those backends), pipelined on one persistent connection, with what runs known from the
 *   acks: O(changed), applied as soon as the previous live apply is done, never held by `wait`. A full
 *   reconcile (start-up, any failure or doubt, a restarted HAProxy, the resync timer) reads `show
 *   servers state` and applies the whole difference.
 * - The file lane writes dest behind it (coalesced by `wait`, checked at a lower CPU priority, at most
 *   one check at a time) and reloads only when the render differs outside server lines, or a server
 *   line is one `add server` cannot reproduce.
 *
 * Failure is "what runs is unknown": the next live pass is a full reconcile, retried with backoff. A
 * HAProxy that is not running is noticed (dest is written anyway: it starts from it) and reconciled
 * the moment it is back: its listen events wake the live lane, which compares its pid.
 */
import { isLbwatchError, LbwatchError } from "../../errors.js";
import type { Logger } from "../../log.js";
import { type Backend, backendKey } from "../../registry/backend.js";
import type { RegistryChange } from "../../registry/registry.js";
import { SerialQueue } from "../../serial-queue.js";
import { idFields, reportApplied, reportFailed } from "../apply-report.js";
import type { TargetDeps } from "../file-target.js";
import { PendingChange } from "../pending-change.js";
import { Quiescence } from "../quiescence.js";
import { LoadBalancerDown, ReconcileLoop } from "../reconcile-loop.js";
import { createReloader, type Reloader } from "../reloader.js";
import { RenderedFile } from "../rendered-file.js";
import { Spacing } from "../spacing.js";
import { StageTimes } from "../stage-times.js";
import { removeStaleStaged } from "../staged-files.js";
import type { Activation, Renderer, Target, TargetStatus } from "../target.js";
import { BULK_SPACING_MS, backendsForReload, MIN_BULK } from "./bulk-route.js";
import { type DeleteOutcome, DrainQueue } from "./drain-queue.js";
import { DrainRecord } from "./drain-record.js";
import { KnownServers } from "./known-servers.js";
import {
  ADMIN_FDRAIN,
  ADMIN_FMAINT,
  isEmptyPlan,
  type Memory,
  operatorState,
  type Plan,
  planChange,
  planFull,
  type RunningServer,
  serverKey,
} from "./live-plan.js";
import { compareRender } from "./render-match.js";
import type { ServerState } from "./runtime-answers.js";
import { RuntimeClient, type ServerResult } from "./runtime-client.js";
import type { AdminState, ServerRef, ServerSpec } from "./runtime-commands.js";
import { RuntimeConnection } from "./runtime-connection.js";
import { type ConfigOutline, notAddable, type ParsedConfig, parseConfig } from "./server-lines.js";

/** A HAProxy whose sockets are absent or refuse connections is not running (yet). */
const NOT_RUNNING = /ENOENT|ECONNREFUSED/;
/**
 * The file lane takes at most 1/20 of the time (src/targets/spacing.ts), and waits at most 2 s after
 * a write: dest trails what HAProxy runs by at most that and one pass.
 */
const FILE_LANE_RATIO = 20;
const FILE_LANE_MAX_DELAY_MS = 2000;

const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Backends up to this size have their state read before lbwatch takes servers out (operator states). */
const OPERATOR_READ_LIMIT = 1000;
/** A process named "haproxy" that listens may be a restart; anyone can take that name, so look at most this often. */
const IDENTITY_CHECK_MS = 100;

interface Desired {
  servers: Map<string, ServerSpec>;
  proxies: Set<string>;
  rest: string;
}

const restOf = (outline: ConfigOutline) => outline.rest.map((r) => r.text).join("\n");

export class HaproxyTarget implements Target {
  readonly name: string;
  readonly kind = "haproxy";
  readonly #deps: TargetDeps;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  readonly #file: RenderedFile;
  readonly #connection: RuntimeConnection;
  readonly #client: RuntimeClient;
  readonly #reloader: Reloader | undefined;
  readonly #live: ReconcileLoop;
  readonly #fileLane: ReconcileLoop;
  readonly #quiescence: Quiescence;
  /** Live passes, reloads and deletions: never two at once against one HAProxy. */
  readonly #lock = new SerialQueue();
  readonly #drains: DrainQueue;
  readonly #spacing = new Spacing(FILE_LANE_RATIO, FILE_LANE_MAX_DELAY_MS);
  #spaced: NodeJS.Timeout | undefined;
  #pending = new PendingChange();
  #full = true;
  #checkIdentity = false;
  #lastIdentityCheck = 0;
  #reloadReason: string | undefined;
  /** What lbwatch knows runs, by backend/name; trusted only while #full is false. */
  readonly #known = new KnownServers();
  /** Server options of the file HAProxy last loaded, by key (what `show servers state` cannot show). */
  #loaded: ReadonlyMap<string, { options: readonly string[] }> = new Map();
  readonly #operator = new Map<string, Exclude<AdminState, "ready">>();
  /** Added by lbwatch, enable not yet acknowledged: see Memory.enabling. */
  readonly #enabling = new Set<string>();
  /** The record holds #enabling too (written after a lost connection left some): rewrite it as they go. */
  #enablingRecorded = false;
  /** HAProxy's worker pid when last reconciled: another one means it restarted or reloaded. */
  #pid: number | undefined;
  /** Servers not added live because the reload that is due brings them faster (bulk-route.ts). */
  #leftToReload = new Map<string, string>();
  /** A reload or write failed while servers were left to it: add everything live until one works. */
  #bulkRefused = false;
  /** lbwatch reloaded HAProxy: the operator states it had are set again on the new workers. */
  #restoreOperator = false;
  /** When lbwatch last reloaded HAProxy (Date.now()). */
  #reloadedAt = Number.NEGATIVE_INFINITY;
  /** Non-server lines of the config HAProxy runs, when known. */
  #runningRest: string | undefined;
  #version = 0;
  #static: { renderer: Renderer; keys: Set<string> } | undefined;
  #firstLive: Promise<void>;
  #liveRan = false;
  /** Stale staged files are removed once, before the first write. */
  #cleaned = false;
  readonly #drainRecord: DrainRecord;
  #closing = false;
  /** What a previous lbwatch was deleting is read at this one's first full reconcile only. */
  #inherited = false;
  #firstLiveDone: () => void = () => {};
  #lastApplied: TargetStatus["lastApplied"];

  constructor(deps: TargetDeps) {
    this.#deps = deps;
    this.name = deps.config.dest;
    this.#log = deps.log.child({ target: deps.config.dest });
    this.#file = new RenderedFile({ ...deps, log: this.#log, signal: this.#abort.signal });
    const socket = deps.config.haproxy?.runtimeSocket as string;
    this.#connection = new RuntimeConnection(socket);
    this.#client = new RuntimeClient(this.#connection);
    this.#connection.on("reset", (event) => {
      this.#log.debug({ reason: event.reason }, "Runtime API connection reset: what runs is unknown");
      this.#full = true;
      this.#live.wake();
    });
    this.#reloader = createReloader(deps.config, this.#abort.signal);
    this.#live = new ReconcileLoop(() => this.#livePass(), this.#log.child({ lane: "live" }));
    this.#fileLane = new ReconcileLoop(() => this.#filePass(), this.#log.child({ lane: "file" }));
    this.#quiescence = new Quiescence(deps.wait, () => this.#wakeFileLane());
    this.#drainRecord = new DrainRecord(deps.config.dest, this.#log);
    this.#drains = new DrainQueue(
      (due) => this.#lock.run(() => this.#delete(due())),
      this.#log,
      () => this.#record(),
    );
    this.#firstLive = new Promise((resolve) => {
      this.#firstLiveDone = resolve;
    });
  }

  start(): void {
    this.#live.wake();
    this.#fileLane.wake();
  }

  changed(change: RegistryChange): void {
    const released = this.#file.quarantine.release(change);
    if (!this.#pending.add(change) && !released) return;
    this.#version++;
    this.#live.wake();
    // The file lane's first pass (readdir, stage, fsync, spawning the check) would otherwise share the
    // event loop with the live pass's round trips: it starts once the live pass is done.
    void this.#live.settled().then(() => this.#quiescence.poke());
  }

  resync(): void {
    this.#full = true;
    this.#live.wake();
    this.#fileLane.wake();
  }

  setRenderer(renderer: Renderer): void {
    this.#file.renderer = renderer;
    this.#version++;
    this.#full = true;
    this.#live.wake();
    this.#fileLane.wake();
  }

  noticeListen(listener: { comm: string }): void {
    if (listener.comm !== "haproxy") return;
    this.#checkIdentity = true;
    this.#live.wake({ now: true });
  }

  status(): TargetStatus {
    const live = this.#live.status();
    const file = this.#fileLane.status();
    // The worse lane speaks for the target: failing beats waiting for HAProxy beats fine.
    const rank = { retrying: 3, "lb-down": 2, starting: 1, ok: 0 } as const;
    const worst = rank[file.state] > rank[live.state] ? file : live;
    const status: TargetStatus = {
      ...worst,
      target: this.name,
      kind: this.kind,
      pending:
        !this.#pending.empty ||
        this.#quiescence.pending ||
        this.#spaced !== undefined ||
        this.#live.busy ||
        this.#fileLane.busy,
      quarantined: this.#file.quarantine.list(),
    };
    if (this.#lastApplied) status.lastApplied = this.#lastApplied;
    return status;
  }

  async settled(): Promise<TargetStatus> {
    do {
      await this.#live.settled();
      await this.#fileLane.settled();
    } while (this.#live.busy || this.#fileLane.busy);
    return this.status();
  }

  abort(): void {
    this.#abort.abort();
  }

  async close(): Promise<void> {
    this.#quiescence.cancel();
    clearTimeout(this.#spaced);
    await Promise.all([this.#live.close(), this.#fileLane.close()]);
    // The record reads the drain set when it writes: on disk before the set is cleared, and kept.
    await this.#drainRecord.flushed();
    this.#closing = true;
    this.#drains.clear();
    await this.#connection.close();
  }

  // ---- live lane ----

  async #livePass(): Promise<void> {
    const first = !this.#liveRan;
    this.#liveRan = true;
    try {
      await this.#lock.run(async () => {
        if (this.#checkIdentity && !this.#full) await this.#compareIdentity();
        if (this.#full) await this.#fullReconcile();
        else await this.#applyChange();
      });
    } catch (err) {
      // At first boot, "not running" is reported once dest is there for HAProxy to start from.
      if (first && err instanceof LoadBalancerDown) {
        this.#firstLiveDone();
        await this.#fileLane.settled();
      }
      throw err;
    } finally {
      this.#firstLiveDone();
    }
  }

  /** A listen by a process named haproxy: look whether HAProxy is another process now. */
  async #compareIdentity(): Promise<void> {
    const wait = this.#lastIdentityCheck + IDENTITY_CHECK_MS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    this.#checkIdentity = false;
    this.#lastIdentityCheck = Date.now();
    const info = await this.#runtime(() => this.#client.showInfo());
    if (info.pid !== this.#pid) this.#full = true;
  }

  /** Everything desired against everything that runs. */
  async #fullReconcile(): Promise<void> {
    const change = this.#pending.take();
    const started = this.#deps.clock();
    const times = new StageTimes(this.#deps.clock);
    try {
      const info = await this.#runtime(() => this.#client.showInfo());
      const adopted = info.pid !== this.#pid;
      if (adopted) await this.#adopt(info.pid);
      const desired = this.#desiredFull();
      times.lap("render");
      if (this.#runningRest !== undefined && desired.rest !== this.#runningRest) {
        this.#wantReload("the config changed outside the servers of its backends");
      }
      const live = await this.#runtime(() => this.#client.serversState());
      times.lap("readState");
      this.#known.reset(
        live.map((s) => {
          const key = serverKey(s);
          const options = this.#known.get(key)?.options ?? this.#loaded.get(key)?.options;
          const running: RunningServer = { ...s, ...(options ? { options } : {}) };
          return running;
        }),
      );
      // What the file said is now in what is known; it is needed again only after the next adoption.
      this.#loaded = new Map();
      // Until it is done: a pass that fails first leaves it to the next, adopted or not.
      const reloaded = this.#restoreOperator;
      if (reloaded) {
        await this.#restoreOperatorStates();
        this.#restoreOperator = false;
      }
      const inMaintenance = new Set(live.filter((s) => s.adminState & ADMIN_FMAINT).map(serverKey));
      this.#drains.retain((key) => inMaintenance.has(key));
      for (const key of this.#enabling) if (!inMaintenance.has(key)) this.#doneEnabling(key);
      await this.#inheritDrains(live);
      const plan = planFull(desired.servers, desired.proxies, [...this.#known.values()], this.#memory());
      times.lap("plan");
      for (const [key, state] of plan.operatorSeen) {
        if (state === "ready") this.#operator.delete(key);
        else this.#operator.set(key, state);
      }
      const broughtByReload = reloaded ? [...this.#leftToReload].filter(([key]) => this.#known.has(key)) : [];
      if (reloaded) this.#leftToReload.clear();
      const applied = await this.#execute(plan);
      applied.added.push(...broughtByReload.map(([, name]) => name));
      times.lap("runtimeApi");
      this.#log.debug({ full: true, servers: desired.servers.size, ...times.ms }, "apply stages");
      this.#full = false;
      this.#awaitReload(change, applied);
      if (applied.added.length + applied.removed.length > 0) {
        // A HAProxy just (re)started runs what its file said: bringing it up to date is routine. The
        // same process differing from what lbwatch applied is drift made behind its back.
        if (adopted && this.#full) {
          this.#log.info(
            { ...idFields(applied), leftToReload: this.#leftToReload.size },
            "HAProxy (re)started: added what goes live, the rest comes with a reload",
          );
        } else if (adopted) {
          this.#log.info(idFields(applied), "HAProxy (re)started: brought up to the desired servers");
        } else this.#log.warn(idFields(applied), "HAProxy differed from the desired servers: repaired");
        this.#report(change, applied, started, broughtByReload.length > 0 ? "reload" : "runtime-api");
      }
    } catch (err) {
      this.#owe(change);
      this.#full = true;
      throw err;
    }
  }

  /** The servers of the changes since the last live apply, against what lbwatch knows runs. */
  async #applyChange(): Promise<void> {
    if (this.#pending.empty) return;
    const change = this.#pending.take();
    const started = this.#deps.clock();
    const times = new StageTimes(this.#deps.clock);
    try {
      const quarantined = this.#file.quarantine;
      const keep = (b: Backend) => !quarantined.has(backendKey(b));
      const present = this.#linesOf([...change.added, ...change.updated].filter(keep));
      const gone = this.#linesOf(change.removed);
      times.lap("render");
      if (present.reload) this.#wantReload(present.reload);
      const removed = [...gone.servers.values()].filter((s) => !present.servers.has(serverKey(s)));
      const plan = planChange([...present.servers.values()], removed, this.#known, this.#memory());
      times.lap("plan");
      const applied = await this.#execute(plan);
      times.lap("runtimeApi");
      this.#log.debug({ full: false, ...times.ms }, "apply stages");
      this.#awaitReload(change, applied);
      if (applied.added.length + applied.removed.length > 0) this.#report(change, applied, started);
    } catch (err) {
      this.#owe(change);
      this.#full = true;
      reportFailed(this.#reporting(), "runtime-api", started);
      throw err;
    }
  }

  /**
   * HAProxy (re)started or reloaded, or lbwatch lost sight of it: it runs what dest held when it did.
   * The servers being deleted are not forgotten here (the process may be the same one, or an old
   * worker still answering): the full reconcile keeps those still in maintenance.
   */
  async #adopt(pid: number): Promise<void> {
    const dest = await this.#file.file.content(true);
    const parsed = dest === undefined ? undefined : parseConfig(dest);
    this.#runningRest = parsed && restOf(parsed);
    this.#loaded = parsed?.servers ?? new Map();
    this.#known.reset();
    if (this.#pid !== undefined)
      this.#log.info({ pid, was: this.#pid }, "HAProxy is another process now: reconciling");
    this.#pid = pid;
  }

  /** Runs `plan`, updating what is known to run from each ack; throws when any operation failed. */
  async #execute(plan: Plan): Promise<{ added: string[]; removed: string[] }> {
    if (plan.reload) this.#wantReload(plan.reload);
    if (plan.readdress.length > 0) {
      this.#wantReload(`server ${serverKey(plan.readdress[0]?.ref as ServerRef)} runs on another address`);
    }
    this.#leaveToReload(plan);
    const applied = { added: [] as string[], removed: [] as string[] };
    if (isEmptyPlan(plan)) return applied;
    const failures: string[] = [];
    const fail = (key: string, result: { outcome: { status: string; message?: string } }) =>
      failures.push(`${key}: ${result.outcome.message ?? result.outcome.status}`);

    const fresh = plan.remove.filter((r) => !this.#drains.has(serverKey(r)));
    // Lbwatch's before the command goes out: if the connection drops before the ack, HAProxy may run
    // the maintenance already, and it must not be taken for an operator's.
    for (const r of plan.remove) this.#drains.add(serverKey(r), r);
    // Both go out on the one connection at once; HAProxy answers the read before it runs the maint.
    const [, removals] = await Promise.all([
      this.#noticeOperatorStates(fresh),
      this.#client.setState(plan.remove, "maint"),
    ]);
    for (const result of removals) {
      const key = serverKey(result.server);
      const known = this.#known.get(key);
      if (result.outcome.status === "ok") {
        applied.removed.push(result.server.name);
        if (known) known.adminState |= ADMIN_FMAINT;
        continue;
      }
      this.#drains.delete(key);
      if (result.outcome.status === "no-such-server") {
        applied.removed.push(result.server.name);
        this.#known.delete(key);
      } else fail(key, result);
    }
    const enabled = plan.add.filter((a) => a.state !== "maint").map((a) => a.spec);
    const parked = plan.add.filter((a) => a.state === "maint").map((a) => a.spec);
    // Before the adds go out: if the connection drops between an add and its enable, the server
    // runs in the maintenance it was created in, and that must not be taken for an operator's.
    for (const spec of enabled) this.#enabling.add(serverKey(spec));
    const results: ServerResult<ServerSpec>[] = [];
    try {
      results.push(...(await this.#client.addServers(enabled)));
      results.push(...(await this.#client.addServers(parked, { enable: false })));
    } catch (err) {
      // Lost between an add and its enable, then lbwatch killed before it reconciles: the record
      // tells its successor that maintenance is lbwatch's.
      if (this.#enabling.size > 0) {
        this.#enablingRecorded = true;
        this.#record();
      }
      throw err;
    }
    for (const result of results) {
      const key = serverKey(result.server);
      // An answer came for each command: whatever runs now is what the acks say.
      this.#doneEnabling(key);
      if (result.outcome.status !== "ok") {
        fail(key, result);
        continue;
      }
      const parkedHere = parked.includes(result.server);
      const where = /^\[?(.*?)\]?:(\d+)$/.exec(result.server.address);
      this.#known.set({
        backend: result.server.backend,
        name: result.server.name,
        address: where?.[1] ?? result.server.address,
        port: Number(where?.[2] ?? 0),
        adminState: parkedHere ? ADMIN_FMAINT : 0,
        options: result.server.options,
      });
      this.#drains.delete(key);
      applied.added.push(result.server.name);
    }
    // Being deleted, back in the desired set, and kept out by its state: it stays, no command needed.
    for (const spec of plan.keep) {
      this.#drains.delete(serverKey(spec));
      applied.added.push(spec.name);
    }
    const drained = plan.add.filter((a) => a.state === "drain").map((a) => a.spec);
    for (const result of await this.#client.setState(drained, "drain")) {
      if (result.outcome.status !== "ok") fail(serverKey(result.server), result);
    }
    for (const [list, state] of [
      [plan.ready, "ready"],
      [plan.park, "maint"],
    ] as const) {
      for (const result of await this.#client.setState(list, state)) {
        const key = serverKey(result.server);
        if (result.outcome.status !== "ok") {
          fail(key, result);
          continue;
        }
        if (state === "ready") this.#doneEnabling(key);
        const known = this.#known.get(key);
        if (known) {
          known.adminState =
            state === "ready" ? known.adminState & ~ADMIN_FMAINT : known.adminState | ADMIN_FMAINT;
          known.options = result.server.options;
        }
        this.#drains.delete(key);
        (state === "ready" ? applied.added : applied.removed).push(result.server.name);
      }
    }
    if (failures.length > 0) {
      throw new LbwatchError(
        "E_HAPROXY_API",
        `${this.#deps.config.haproxy?.runtimeSocket}: ${failures.length} server operation(s) refused: ${failures.slice(0, 3).join("; ")}`,
      );
    }
    return applied;
  }

  /**
   * Takes out of `plan` the adds a reload brings faster (bulk-route.ts) and asks for that reload. Only
   * servers to be set ready whose lines carry an id go that way: an operator's state on a new server
   * is set live, and an id-less line would cost HAProxy as much to parse as to add.
   */
  #leaveToReload(plan: Plan): void {
    if (!this.#reloader || this.#bulkRefused || plan.add.length < MIN_BULK) return;
    if (this.#leftToReload.size === 0 && Date.now() - this.#reloadedAt < BULK_SPACING_MS) return;
    const goes = (a: Plan["add"][number]) => a.state === "ready" && a.spec.id !== undefined;
    const counts = new Map<string, number>();
    for (const a of plan.add) if (goes(a)) counts.set(a.spec.backend, (counts.get(a.spec.backend) ?? 0) + 1);
    const loads = [...counts].map(([backend, adds]) => ({
      backend,
      adds,
      existing: this.#known.countIn(backend),
    }));
    const backends = backendsForReload(loads, this.#known.size + plan.add.length);
    if (backends.size === 0) return;
    const left = (a: Plan["add"][number]) => goes(a) && backends.has(a.spec.backend);
    for (const a of plan.add) if (left(a)) this.#leftToReload.set(serverKey(a.spec), a.spec.name);
    plan.add = plan.add.filter((a) => !left(a));
    const names = [...backends];
    // A cold start of 100,000 names a hundred backends: the first few say enough.
    const where =
      names.length > 3 ? `${names.slice(0, 3).join(", ")} and ${names.length - 3} more` : names.join(", ");
    this.#wantReload(
      `${this.#leftToReload.size} new servers in ${where}: a reload brings them faster than adding them live`,
    );
  }

  /**
   * With servers left to a reload still due, the pass after it compares everything again, and
   * reports `change` then when nothing of it was applied now.
   */
  #awaitReload(change: RegistryChange, applied: { added: string[]; removed: string[] }): void {
    if (this.#leftToReload.size === 0) return;
    this.#full = true;
    if (applied.added.length + applied.removed.length === 0) this.#owe(change);
  }

  /** Every managed server's state, for the operator's maintenance and drain lbwatch did not see yet. */
  async #readOperatorStates(): Promise<void> {
    const live = await this.#runtime(() => this.#client.serversState()).catch(() => undefined);
    if (!live) return;
    for (const s of live) {
      const key = serverKey(s);
      const state = operatorState(s, this.#known.get(key)?.options, this.#memory());
      if (state === "ready") this.#operator.delete(key);
      else if (state) this.#operator.set(key, state);
    }
  }

  /**
   * After lbwatch's own reload: the operator's maintenance and drain it knew of, which the new
   * workers started without, are set again (a moment after they start serving: HAProxy's
   * server-state-file would close that gap, at the cost of a file lbwatch does not manage).
   */
  async #restoreOperatorStates(): Promise<void> {
    const lists = { maint: [] as ServerRef[], drain: [] as ServerRef[] };
    for (const [key, state] of this.#operator) {
      const running = this.#known.get(key);
      if (running && !(running.adminState & (ADMIN_FMAINT | ADMIN_FDRAIN))) lists[state].push(running);
    }
    for (const state of ["maint", "drain"] as const) {
      for (const result of await this.#client.setState(lists[state], state)) {
        const known = this.#known.get(serverKey(result.server));
        if (result.outcome.status === "ok" && known) {
          known.adminState |= state === "maint" ? ADMIN_FMAINT : ADMIN_FDRAIN;
        }
      }
    }
  }

  /**
   * A server still in the maintenance a previous lbwatch put it in to delete it is lbwatch's, not the
   * operator's: it is deleted, or set ready if its backend is back. Servers not in maintenance (a
   * restarted HAProxy runs dest) are not taken.
   */
  async #inheritDrains(live: readonly ServerState[]): Promise<void> {
    // Full reconciles run one at a time (the lock), so a flag is enough.
    if (this.#inherited) return;
    this.#inherited = true;
    const inherited = await this.#drainRecord.read();
    for (const s of live) {
      const key = serverKey(s);
      if (inherited.has(key) && s.adminState & ADMIN_FMAINT && !this.#drains.has(key))
        this.#drains.add(key, s);
    }
  }

  /**
   * Before lbwatch puts servers in maintenance (`removing`: those it is not deleting already), an
   * operator's maintenance or drain on them must be read, or lbwatch's own would hide it and it would
   * be lost when the backend comes back. One backend's state is read when it is small; a larger one
   * is left to the full reconciles (start, resync).
   */
  async #noticeOperatorStates(removing: readonly ServerRef[]): Promise<void> {
    const wanted = new Set(removing.map(serverKey));
    const backends = [...new Set(removing.map((r) => r.backend))].filter(
      (b) => this.#known.countIn(b) <= OPERATOR_READ_LIMIT,
    );
    // Sent before the maint commands (the caller does not wait in between), so they are read first.
    const states = await Promise.all(backends.map((b) => this.#client.serversState(b)));
    for (const s of states.flat()) {
      const key = serverKey(s);
      if (!wanted.has(key)) continue;
      if (s.adminState & ADMIN_FMAINT) this.#operator.set(key, "maint");
      else if (s.adminState & ADMIN_FDRAIN) this.#operator.set(key, "drain");
      else this.#operator.delete(key);
    }
  }

  /** Background deletions of drained servers (inside the lock). */
  async #delete(refs: ServerRef[]): Promise<DeleteOutcome[]> {
    const results = await this.#client.deleteServers(refs);
    return results.map((result) => {
      const key = serverKey(result.server);
      switch (result.outcome.status) {
        case "ok":
        case "no-such-server":
        case "no-such-backend":
          this.#known.delete(key);
          return result.outcome.status === "ok" ? "deleted" : "gone";
        case "has-connections":
          return "busy";
        default:
          // Kept in maintenance, no longer retried; what HAProxy runs decides the rest.
          this.#log.debug({ server: key, outcome: result.outcome }, "drained server not deleted");
          this.#full = true;
          this.#live.wake();
          return "refused";
      }
    });
  }

  // ---- file lane ----

  /** A write behind the live lane: when `wait` says so, but never more than a twentieth of the time (or 2 s apart). */
  #wakeFileLane(): void {
    const delay = this.#spacing.delay(Date.now());
    if (delay === 0) {
      this.#fileLane.wake();
      return;
    }
    this.#spaced ??= setTimeout(() => {
      this.#spaced = undefined;
      this.#fileLane.wake();
    }, delay);
  }

  async #filePass(): Promise<void> {
    const started = Date.now();
    try {
      await this.#writeBehind();
    } catch (err) {
      if (this.#leftToReload.size > 0) {
        // The servers left to the reload must not wait for its retries: the live lane adds them.
        this.#log.warn(
          { left: this.#leftToReload.size, err: (err as Error).message },
          "the reload that was to bring new servers failed: adding them live",
        );
        this.#leftToReload.clear();
        this.#bulkRefused = true;
        this.#full = true;
        this.#live.wake();
      }
      throw err;
    } finally {
      this.#spacing.record(started, Date.now());
    }
  }

  async #writeBehind(): Promise<void> {
    // dest is what HAProxy runs until proven otherwise: the first live pass reads it before it is rewritten.
    await this.#firstLive;
    if (!this.#cleaned && !this.#file.dryRun) await removeStaleStaged(this.name, this.#log);
    this.#cleaned = true;
    let version = this.#version;
    let context = this.#file.context();
    let text = this.#file.render(context);
    let outcome = await this.#file.converge(text, context, { background: true });
    while (outcome === "quarantined") {
      // Quarantined servers may run already (added live): the next live pass takes them out.
      this.#version++;
      this.#full = true;
      this.#live.wake();
      version = this.#version;
      context = this.#file.context();
      text = this.#file.render(context);
      outcome = await this.#file.converge(text, context, { background: true });
    }
    // A render of 100,000 backends is a few hundred ms of work: a live change may go in between.
    await yieldTurn();
    const { outline, matches } = compareRender(text, this.#known, this.#drains);
    const rest = restOf(outline);
    if (this.#pid !== undefined && this.#runningRest !== undefined && rest !== this.#runningRest) {
      this.#reloadReason ??= "the config changed outside the servers of its backends";
    }
    if (this.#reloadReason !== undefined && this.#pid !== undefined) {
      const reason = this.#reloadReason;
      await this.#lock.run(() => this.#reload(reason, rest));
      return;
    }
    // A render whose servers differ from what the live lane knows runs: only a full reconcile tells why.
    if (version === this.#version && !this.#full && !matches) {
      this.#log.debug("the servers of the render differ from what the live lane applied: reconciling");
      this.#full = true;
      this.#live.wake();
    }
  }

  async #reload(reason: string, rest: string): Promise<void> {
    if (!this.#reloader) {
      throw new LbwatchError(
        "E_RELOAD_FAILED",
        `${this.name}: ${reason}, and lbwatch cannot reload HAProxy: set the target's reload argv or haproxy.masterSocket`,
      );
    }
    const started = this.#deps.clock();
    // The new workers start every server afresh: the operator states to set on them again.
    await this.#readOperatorStates();
    this.#log.info({ reason }, "reloading HAProxy");
    try {
      await this.#reloader.reload();
    } catch (err) {
      reportFailed(this.#reporting(), "reload", started);
      throw err;
    }
    this.#reloadReason = undefined;
    this.#reloadedAt = Date.now();
    this.#bulkRefused = false;
    this.#restoreOperator = true;
    this.#connection.detach();
    this.#runningRest = rest;
    // The new workers run dest: the next live pass reads them and adopts the new pid.
    this.#pid = undefined;
    this.#full = true;
    this.#live.wake();
    reportApplied(
      this.#reporting(),
      { added: [], removed: [], updated: [] },
      { added: [], removed: [] },
      "reload",
      started,
      { reason },
    );
    this.#lastApplied = { at: Date.now(), activation: "reload" };
  }

  #wantReload(reason: string): void {
    if (this.#reloadReason === undefined) this.#log.info({ reason }, "a reload is needed");
    this.#reloadReason ??= reason;
    this.#fileLane.wake();
  }

  // ---- desired servers ----

  /** The whole desired config's servers: O(all), for the full reconcile only, so it is not kept. */
  #desiredFull(): Desired {
    return this.#desiredOf(parseConfig(this.#file.render()));
  }

  #desiredOf(parsed: ParsedConfig): Desired {
    return { servers: parsed.servers, proxies: parsed.proxies, rest: restOf(parsed) };
  }

  /** The server lines the template renders for just `backends` (static servers left out). */
  #linesOf(backends: readonly Backend[]): { servers: Map<string, ServerSpec>; reload?: string } {
    const servers = new Map<string, ServerSpec>();
    if (backends.length === 0) return { servers };
    const renderer = this.#file.renderer;
    if (this.#static?.renderer !== renderer) {
      const empty = parseConfig(renderer.render(this.#deps.desired.delta([])));
      this.#static = { renderer, keys: new Set(empty.servers.keys()) };
    }
    const parsed = parseConfig(renderer.render(this.#deps.desired.delta(backends)));
    let reload: string | undefined;
    for (const [key, line] of parsed.servers) {
      if (this.#static.keys.has(key)) continue;
      reload ??= notAddable(line, parsed.defaultServer);
      servers.set(key, line);
    }
    return reload === undefined ? { servers } : { servers, reload };
  }

  #doneEnabling(key: string): void {
    if (!this.#enabling.delete(key) || !this.#enablingRecorded) return;
    this.#enablingRecorded = this.#enabling.size > 0;
    this.#record();
  }

  /** The servers whose maintenance is lbwatch's, for a successor: written behind, never awaited. */
  #record(): void {
    // A stopping lbwatch keeps the record: its servers stay in maintenance for the next one.
    if (this.#file.dryRun || this.#closing) return;
    this.#drainRecord.save(() =>
      this.#enablingRecorded ? [...this.#drains.keys(), ...this.#enabling] : this.#drains.keys(),
    );
  }

  #memory(): Memory {
    return { draining: this.#drains, enabling: this.#enabling, operator: this.#operator };
  }

  /** A Runtime API call; a socket that is absent or refuses means HAProxy is not running. */
  async #runtime<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (isLbwatchError(err, "E_HAPROXY_API") && NOT_RUNNING.test(err.message)) {
        this.#pid = undefined;
        throw new LoadBalancerDown(`${this.name}: HAProxy is not running (${err.message})`, { cause: err });
      }
      throw err;
    }
  }

  #owe(change: RegistryChange): void {
    const owed = new PendingChange();
    owed.add(change);
    owed.add(this.#pending.take());
    this.#pending = owed;
  }

  #report(
    change: RegistryChange,
    applied: { added: string[]; removed: string[] },
    started: bigint,
    activation: Activation = "runtime-api",
  ): void {
    const latencyMs = reportApplied(this.#reporting(), change, applied, activation, started);
    this.#lastApplied = {
      at: Date.now(),
      activation,
      ...(latencyMs === undefined ? {} : { latencyMs }),
    };
  }

  #reporting() {
    return { log: this.#log, observer: this.#deps.observer, target: this.name, clock: this.#deps.clock };
  }
}
