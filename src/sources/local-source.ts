/**
 * This host's listeners as a source: the kernel probe merged with the /proc snapshot
 * (src/probe/listener-table.ts), each listener placed by the service rules and the address rules
 * (src/registry/classify.ts), delivered as claims keyed by socket inode. The listener table is the one
 * place sockets are held; the registry holds only the claims of those that matched.
 *
 * Placement may read /proc (cgroup paths, netns addresses), so it is asynchronous; events are placed
 * one at a time in arrival order, which keeps every socket's events in kernel order.
 */
import type { Config } from "../config/types.js";
import type { Logger } from "../log.js";
import type { ListenEvent, Listener } from "../probe/event.js";
import { ListenProbe, type LostInfo } from "../probe/listen-probe.js";
import { type ListenEventSource, type Listening, startListening } from "../probe/listener-table.js";
import { hostNetnsInode } from "../probe/netns.js";
import { type NetnsInspector, systemInspector } from "../probe/netns-inspector.js";
import { snapshot } from "../probe/snapshot.js";
import { BackendAddresses } from "../registry/backend-address.js";
import { CgroupPaths } from "../registry/cgroup-path.js";
import { Classifier } from "../registry/classify.js";
import { SerialQueue } from "../serial-queue.js";
import type {
  BackendClaim,
  ReplaceInfo,
  ReplaceReason,
  Source,
  SourceContext,
  SourceSink,
  SourceStatus,
} from "./source.js";

/** Events waiting for placement before newer ones are dropped (and a resync owed). */
const MAX_QUEUED = 50_000;
/** Ids of wrong listeners logged per resync: enough to find them, not a flood. */
const WRONG_IDS_LOGGED = 10;

const describeListener = (l: Listener) => `${l.sock} ${l.addr}:${l.port} pid ${l.pid}`;

/** What the local source needs from the OS, injectable so its logic is tested without eBPF or /proc. */
export interface LocalSourceDeps {
  openProbe(): ProbeLike;
  snapshot(): Promise<Listener[]>;
  hostNetns(): number;
  inspector: NetnsInspector;
  cgroupPath?: (pid: number) => Promise<string | undefined>;
}

/** The part of ListenProbe the local source uses. */
export interface ProbeLike extends ListenEventSource {
  readonly hook: string;
  on(event: "lost", listener: (lost: LostInfo) => void): unknown;
  on(event: "error", listener: (err: Error) => void): unknown;
  on(event: "event", listener: (ev: ListenEvent) => void): unknown;
  stats(): { events: number; drops: number };
  close(): void;
}

const SYSTEM: LocalSourceDeps = {
  openProbe: () => ListenProbe.open(),
  snapshot,
  hostNetns: hostNetnsInode,
  inspector: systemInspector(),
};

export class LocalSource implements Source {
  readonly id = "local";
  readonly kind = "local";
  readonly #context: SourceContext;
  readonly #log: Logger;
  readonly #queue = new SerialQueue();
  readonly #deps: LocalSourceDeps;
  readonly #cgroups: CgroupPaths;
  #config: Config;
  #classifier: Classifier | undefined;
  #probe: ProbeLike | undefined;
  #listening: Listening | undefined;
  #sink: SourceSink | undefined;
  #state: SourceStatus["state"] = "starting";
  #detail: string | undefined;
  #lastContact: number | undefined;
  /** Events dropped since the last resync (placement could not keep up). */
  #dropped = 0;

  constructor(context: SourceContext, deps: LocalSourceDeps = SYSTEM) {
    this.#context = context;
    this.#deps = deps;
    this.#cgroups = new CgroupPaths(deps.cgroupPath);
    this.#config = context.config;
    this.#log = context.log.child({ source: this.id });
  }

  async start(sink: SourceSink): Promise<void> {
    this.#sink = sink;
    if (this.#context.once) {
      // --once reads /proc only: no probe, so no privilege beyond reading other processes' /proc.
      this.#classifier = this.#classifierFor(this.#config);
      await this.#deliver(await this.#deps.snapshot(), { reason: "initial" });
      this.#ok();
      return;
    }
    // The probe first: without root or CAP_BPF+CAP_PERFMON this is the error the operator must see.
    const probe = this.#deps.openProbe();
    this.#probe = probe;
    this.#log.debug({ hook: probe.hook }, "probe attached");
    this.#classifier = this.#classifierFor(this.#config);
    probe.on("lost", (lost) => {
      this.#context.onEventsLost?.(lost.reason, lost.drops);
      void this.#resync("lost", lost);
    });
    probe.on("error", (err) => {
      this.#degraded(err.message);
      this.#log.error({ err }, "probe error");
    });
    const listening = await startListening(probe, (ev) => this.#onEvent(ev), {
      snapshot: () => this.#timedSnapshot(),
    });
    this.#listening = listening;
    // Placed on the queue before any live event (those arrive on later ticks), so the sink sees the
    // snapshot first and then every event in order.
    await this.#queue.run(() => this.#deliver(listening.initial, { reason: "initial" }));
    this.#ok();
    this.#log.info({ hook: probe.hook, listeners: listening.initial.length }, "initial snapshot merged");
  }

  resync(reason: "timer"): Promise<void> {
    return this.#resync(reason);
  }

  reconfigure(config: Config): Promise<void> {
    return this.#queue.run(async () => {
      this.#config = config;
      this.#classifier = this.#classifierFor(config);
      if (this.#listening) await this.#deliver([...this.#listening.table.values()], { reason: "config" });
    });
  }

  async close(): Promise<void> {
    this.#listening?.stop();
    this.#probe?.close();
    this.#state = "closed";
    await this.#queue.idle();
  }

  status(): SourceStatus {
    const status: SourceStatus = { id: this.id, kind: this.kind, state: this.#state };
    if (this.#detail) status.detail = this.#detail;
    if (this.#lastContact !== undefined) status.lastContact = this.#lastContact;
    if (this.#probe) {
      const { events, drops } = this.#probe.stats();
      status.figures = { events, drops };
    }
    return status;
  }

  #onEvent(ev: ListenEvent): void {
    this.#lastContact = Date.now();
    this.#context.onKernelEvent?.(ev.type);
    if (ev.type === "listen") this.#context.onListen?.(ev);
    const key = String(ev.sock);
    // A close, or a listen on a port no rule wants, needs no lookup: with nothing queued before it,
    // it is delivered now. That keeps a flood of unrelated sockets (any user can make one) cheap.
    const placeable = ev.type === "listen" && this.#classifier?.mayMatch(ev.port) === true;
    if (!placeable && this.#queue.pending === 0) {
      this.#sink?.update([], [key], ev.ts);
      return;
    }
    if (this.#queue.pending >= MAX_QUEUED) {
      // Placement cannot keep up: drop it as a full ring would, and resync once the queue drains.
      this.#dropped++;
      if (this.#dropped === 1) void this.#queue.idle().then(() => this.#lost("queue-full"));
      return;
    }
    this.#queue
      .run(async () => {
        // A listen that matches no rule withdraws whatever the same socket claimed before (a lost close).
        const claim = placeable ? await this.#claimOf(ev) : undefined;
        if (claim) this.#sink?.update([claim], [], ev.ts);
        else this.#sink?.update([], [key], ev.ts);
      })
      .catch((err: unknown) => this.#log.error({ err, sock: ev.sock, pid: ev.pid }, "event not placed"));
  }

  /** Events were lost on their way here: count them for metrics and resync. */
  #lost(reason: string): void {
    const drops = this.#dropped;
    this.#dropped = 0;
    this.#context.onEventsLost?.(reason, drops);
    void this.#resync("lost", { drops, reason });
  }

  /** After lost events, and every `resync`: a fresh snapshot, merged with what arrived meanwhile. */
  async #resync(reason: "lost" | "timer", lost?: { drops: number; reason: string }): Promise<void> {
    const listening = this.#listening;
    if (!listening) return;
    try {
      const diff = await listening.resync();
      const wrong = {
        count: diff.wrong.length,
        keys: diff.wrong.map((l) => String(l.sock)),
        sample: diff.wrong.slice(0, WRONG_IDS_LOGGED).map(describeListener),
      };
      await this.#queue.run(async () => {
        // Containers may have been given new addresses since they were read.
        this.#classifier?.forgetAddresses();
        await this.#deliver([...listening.table.values()], { reason, wrong });
      });
      if (lost) this.#log.warn({ lost }, "events were lost: rebuilt from a fresh snapshot");
      this.#ok();
    } catch (err) {
      this.#degraded(`resync failed: ${(err as Error).message}`);
      this.#log.error({ err, reason }, "resync failed: keeping the current state until the next one");
    }
  }

  /** The snapshot, with its time in the debug log: at start-up it is most of the wait for the first view. */
  async #timedSnapshot(): Promise<Listener[]> {
    const started = Date.now();
    const listeners = await this.#deps.snapshot();
    this.#log.debug({ listeners: listeners.length, ms: Date.now() - started }, "snapshot read");
    return listeners;
  }

  async #deliver(
    listeners: Iterable<Listener>,
    info: ReplaceInfo & { reason: ReplaceReason },
  ): Promise<void> {
    const claims: BackendClaim[] = [];
    for (const listener of listeners) {
      const claim = await this.#claimOf(listener);
      if (claim) claims.push(claim);
    }
    this.#sink?.replace(claims, info);
  }

  async #claimOf(listener: Listener): Promise<BackendClaim | undefined> {
    const placement = await (this.#classifier as Classifier).place(listener);
    if (!placement) return undefined;
    const claim: BackendClaim = {
      key: String(listener.sock),
      service: placement.service,
      family: placement.ip.family,
      address: placement.ip.address,
      port: placement.port,
      host: this.#context.hostId,
      pid: listener.pid,
      comm: listener.comm,
      uid: listener.uid,
      netns: listener.netns,
      backlog: listener.backlog,
      since: Date.now(),
    };
    return placement.cgroup === undefined ? claim : { ...claim, cgroup: placement.cgroup };
  }

  #classifierFor(config: Config): Classifier {
    const hostNetns = this.#deps.hostNetns();
    const addresses = new BackendAddresses({ ...config, hostNetns, inspector: this.#deps.inspector });
    return new Classifier(config.services, hostNetns, addresses, this.#cgroups, this.#log);
  }

  #ok(): void {
    this.#state = "ok";
    this.#detail = undefined;
    this.#lastContact = Date.now();
  }

  #degraded(detail: string): void {
    this.#state = "degraded";
    this.#detail = detail;
  }
}

export function createLocalSource(context: SourceContext): Source {
  return new LocalSource(context);
}
