/**
 * The controller's input seam. A source is anything that knows which backends exist: the kernel probe
 * with its /proc snapshot on this host (src/sources/local-source.ts), or agents on other hosts through
 * etcd. Each source delivers a full view first and then changes, and on any doubt (lost events, a
 * cancelled watch, a reconnect) a full view again, which the registry diffs against what that source
 * had: so a source never has to know what it got wrong, only what is true now.
 *
 * The controller is handed sources and never learns which kinds it has.
 */
import type { Config } from "../config/types.js";
import type { Logger } from "../log.js";

/**
 * One source's statement that a backend exists: "service S is served on address:port", with the
 * facts about the process behind it. Identity is (source id, key): a socket inode or a netns inode
 * means something only on its own host, so the registry never compares keys across sources.
 */
export interface BackendClaim {
  /** Unique within its source while the claim lives: a socket inode, an etcd key. */
  readonly key: string;
  readonly service: string;
  readonly family: 4 | 6;
  /** Canonical (RFC 5952, IPv4-mapped as plain IPv4) address the load balancer connects to. */
  readonly address: string;
  readonly port: number;
  /** Host the process runs on (hostId): the local host's for the probe. */
  readonly host: string;
  readonly pid: number;
  /** As the process set it: attacker-controlled bytes, made safe only where they reach a template. */
  readonly comm: string;
  readonly uid: number;
  /** Network namespace inode on `host`. */
  readonly netns: number;
  readonly backlog: number;
  /** cgroup v2 path on `host`, when known. */
  readonly cgroup?: string;
  /** Wall-clock ms when the source first saw it (status output). */
  readonly since: number;
}

/** Why a source sends a full view: the first one, a timer, lost events, a reconnect or a config reload. */
export type ReplaceReason = "initial" | "timer" | "lost" | "reconnect" | "config" | "relist";

export interface ReplaceInfo {
  reason: ReplaceReason;
  /**
   * For a resync: what the source had wrong (e.g. listeners the event stream missed): how many, the
   * claim keys among them, and up to 10 descriptions for the log. Entries that changed while the view
   * was taken were not wrong, only moving, and are not counted.
   */
  wrong?: { count: number; keys: string[]; sample: string[] };
}

/** Where a source delivers. Each source gets its own sink, bound to its id. */
export interface SourceSink {
  /** Everything this source claims now; replaces all of its earlier claims. */
  replace(claims: Iterable<BackendClaim>, info: ReplaceInfo): void;
  /**
   * Claims added or changed (same key: replaced) and keys withdrawn. `firstEventTs`: the kernel
   * CLOCK_MONOTONIC ns of the earliest event behind this change, for latency figures.
   */
  update(upserts: readonly BackendClaim[], removals: readonly string[], firstEventTs?: bigint): void;
}

export type SourceState = "starting" | "ok" | "degraded" | "stale" | "closed";

/** What a source says about itself, for the log, /status and metrics. */
export interface SourceStatus {
  id: string;
  kind: string;
  state: SourceState;
  /** One line: why it is not ok. */
  detail?: string;
  /** Wall-clock ms of the last successful contact with what feeds it (the kernel, etcd). */
  lastContact?: number;
  /** Kind-specific numbers (etcd: revision, revisionLag), for metrics. */
  figures?: Record<string, number>;
}

export interface Source {
  /** Unique among the controller's sources, stable across config reloads: "local", "etcd-0". */
  readonly id: string;
  readonly kind: string;
  /**
   * Starts delivering: resolves once the first full view reached the sink. Rejects with an
   * LbwatchError when the source cannot work at all (E_BPF_PERM, E_CONFIG); a source that can retry
   * (etcd unreachable) resolves after its first attempt and reports `stale` instead.
   */
  start(sink: SourceSink): Promise<void>;
  /** Take a fresh full view and replace (the `resync` timer). */
  resync(reason: "timer"): Promise<void>;
  /** The config was reloaded: apply its rules, re-deliver what changed. */
  reconfigure(config: Config): Promise<void>;
  /** Stops delivering and releases everything; idempotent. */
  close(): Promise<void>;
  status(): SourceStatus;
}

/** What the controller hands every source factory. */
export interface SourceContext {
  config: Config;
  log: Logger;
  /** This host's id (hostId): the `host` of local claims. */
  hostId: string;
  /** --once: deliver one full view and nothing after (no probe, no watch). */
  once: boolean;
  /**
   * Every listen on this host that the local source sees, matched or not (targets use it to notice a
   * load balancer that starts listening: a restart). Called synchronously; must be cheap.
   */
  onListen?(listener: { pid: number; comm: string; port: number; netns: number }): void;
  /** Kernel events and losses, for metrics. Called synchronously; must be cheap. */
  onKernelEvent?(type: "listen" | "close"): void;
  onEventsLost?(reason: string, count: number): void;
}
