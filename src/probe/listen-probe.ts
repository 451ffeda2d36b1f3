/**
 * ListenProbe: the typed event source. Opens the BPF probe through the addon (hook fallback in
 * attach.ts), decodes each ring-buffer batch and emits one 'event' per listen/close, per socket in
 * kernel order, with ports the kernel reported as 0 filled in (port-resolver.ts). 'lost' means events
 * were lost and the consumer must resync from a snapshot; 'error' carries a failure of the ring watch.
 */
import { EventEmitter } from "node:events";
import { existsSync } from "node:fs";
import { LbwatchError } from "../errors.js";
import { attachFirst } from "./attach.js";
import { decodeEvent, EVENT_LAYOUT } from "./decode.js";
import type { HookName, ListenEvent } from "./event.js";
import { defaultObjectPath, loadAddon, type NativeError, type NativeProbe } from "./native.js";
import { PortResolver } from "./port-resolver.js";

export interface ProbeOptions {
  /** Hooks to try, in order. Default: tp_btf, then tracepoint, then kprobe. */
  hooks?: HookName[];
  /** Ring buffer size in bytes: a power of two, at least 4096. Default 4 MiB (~47k events). */
  ringBytes?: number;
  /** The compiled BPF object. Default: bpf/lbwatch.bpf.o in the package root. */
  objectPath?: string;
}

export interface ProbeStats {
  /** Records delivered by the kernel since open. */
  events: number;
  /** Events the kernel could not queue (ring full) since open. */
  drops: number;
  hook: HookName;
}

/** Why events were lost: the ring was full, or a listen's port could not be resolved. */
export interface LostInfo {
  /** How many events were lost since the previous 'lost'. */
  drops: number;
  reason: "ring-full" | "port-unresolved";
}

export const DEFAULT_HOOKS: readonly HookName[] = ["tp_btf", "tracepoint", "kprobe"];
export const DEFAULT_RING_BYTES = 4 << 20;

function validate(options: ProbeOptions): Required<ProbeOptions> {
  const hooks = options.hooks ?? [...DEFAULT_HOOKS];
  const ringBytes = options.ringBytes ?? DEFAULT_RING_BYTES;
  const bad = hooks.filter((h) => !DEFAULT_HOOKS.includes(h));
  if (hooks.length === 0 || bad.length > 0 || new Set(hooks).size !== hooks.length) {
    throw new LbwatchError(
      "E_CONFIG",
      `probe hooks: expected a non-empty list of distinct ${DEFAULT_HOOKS.join(" | ")}, got ${JSON.stringify(hooks)}`,
    );
  }
  if (
    !Number.isInteger(ringBytes) ||
    ringBytes < 4096 ||
    ringBytes > 2 ** 30 ||
    (ringBytes & (ringBytes - 1)) !== 0
  ) {
    throw new LbwatchError(
      "E_CONFIG",
      `probe ringBytes: expected a power of two from 4096 to 1073741824, got ${ringBytes}`,
    );
  }
  const objectPath = options.objectPath ?? defaultObjectPath;
  if (!existsSync(objectPath)) {
    throw new LbwatchError(
      "E_BPF_LOAD",
      `BPF object not found at ${objectPath}: run \`make build\` (it compiles bpf/lbwatch.bpf.o)`,
    );
  }
  return { hooks, ringBytes, objectPath };
}

export class ListenProbe extends EventEmitter<{
  event: [ListenEvent];
  lost: [LostInfo];
  error: [Error];
}> {
  readonly hook: HookName;
  private readonly native: NativeProbe;
  private readonly resolver: PortResolver;
  private drops = 0;
  /** Set by close(): the last figures, since the native handle is gone. */
  private finalStats: ProbeStats | undefined;

  /** Loads and attaches the probe. Throws LbwatchError E_BPF_PERM | E_BPF_LOAD | E_ADDON | E_CONFIG. */
  static open(options: ProbeOptions = {}): ListenProbe {
    const { hooks, ringBytes, objectPath } = validate(options);
    const { probe, hook } = attachFirst(loadAddon(), objectPath, hooks, ringBytes);
    return new ListenProbe(probe, hook);
  }

  private constructor(native: NativeProbe, hook: HookName) {
    super();
    this.native = native;
    this.hook = hook;
    this.resolver = new PortResolver(
      (ev) => this.emit("event", ev),
      () => this.emit("lost", { drops: 1, reason: "port-unresolved" }),
    );
    // Batches arrive from the loop only, so listeners added right after open() miss nothing.
    native.start(
      (records, count, drops) => this.onBatch(records, count, drops),
      (err) => this.onNativeError(err),
    );
  }

  stats(): ProbeStats {
    return this.finalStats ?? this.native.stats();
  }

  /** Detaches everything; idempotent. Events still held for port resolution are dropped. */
  close(): void {
    if (this.finalStats) return;
    this.finalStats = this.native.stats();
    this.resolver.close();
    this.native.close();
  }

  private onBatch(records: Buffer, count: number, drops: number): void {
    for (let i = 0; i < count && !this.finalStats; i++) {
      this.resolver.push(decodeEvent(records, i * EVENT_LAYOUT.size));
    }
    if (drops > this.drops && !this.finalStats) {
      const lost = drops - this.drops;
      this.drops = drops;
      this.emit("lost", { drops: lost, reason: "ring-full" });
    }
  }

  private onNativeError(err: NativeError): void {
    this.emit(
      "error",
      new LbwatchError("E_BPF_LOAD", `lbwatch probe (${this.hook}): ${err.message}`, { cause: err }),
    );
  }
}
