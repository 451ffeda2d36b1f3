/**
 * The controller's output seam: a target keeps one load balancer in agreement with the desired
 * backends. It is told what changed (O(change)), and reads the whole desired state only when it needs
 * it; it never assumes an apply worked: each kind reads back what really runs (src/targets/file-target.ts,
 * src/targets/haproxy/haproxy-target.ts).
 */
import type { Backend } from "../registry/backend.js";
import type { RegistryChange } from "../registry/registry.js";
import type { RenderContext } from "../render/context.js";
import type { LoopStatus } from "./reconcile-loop.js";

/** What a compiled template offers (CompiledTemplate from src/render/template.ts). */
export interface Renderer {
  readonly file: string;
  render(context: RenderContext): string;
}

/** The desired backends, as targets read them. */
export interface DesiredState {
  /** Every service with all its routable backends, in order. Valid until the next change. */
  context(): RenderContext;
  /** Every service with only these backends: what a template renders for just them. */
  delta(backends: readonly Backend[]): RenderContext;
}

export type Activation = "runtime-api" | "reload" | "write" | "none";

/** A backend a target keeps out because its own check failed with it in (src/targets/quarantine.ts). */
export interface QuarantineEntry {
  service: string;
  id: string;
  pid: number;
  uid: number;
  comm: string;
  host: string;
  reason: string;
  since: number;
}

export interface TargetStatus extends LoopStatus {
  target: string;
  kind: "file" | "haproxy";
  /** True while changes wait for (or are in) an apply. */
  pending: boolean;
  lastApplied?: { at: number; activation: Activation; latencyMs?: number };
  quarantined: QuarantineEntry[];
}

/** One finished apply, for metrics. `latencies`: kernel event → load balancer using it, per kind. */
export interface ApplyRecord {
  target: string;
  activation: Activation;
  result: "ok" | "failed";
  durationMs: number;
  latencies: { type: "listen" | "close"; seconds: number }[];
}

export interface TargetObserver {
  applied(record: ApplyRecord): void;
  /** A template failed to render (or, from the controller, an edited one failed to compile). */
  templateError(template: string): void;
}

export interface Target {
  /** dest: the target's name in logs, status and metrics. */
  readonly name: string;
  readonly kind: TargetStatus["kind"];
  /** Begins: a full reconcile against what the load balancer runs now. */
  start(): void;
  /** Backends changed (already applied to the desired state). */
  changed(change: RegistryChange): void;
  /** Anti-entropy (the resync timer): read what runs and repair any drift. */
  resync(): void;
  /** The template was edited and recompiled. */
  setRenderer(renderer: Renderer): void;
  /** A listen on this host, matched or not: the target's load balancer may be (re)starting. */
  noticeListen(listener: { pid: number; comm: string; port: number }): void;
  status(): TargetStatus;
  /** Resolves when nothing is pending, or the target is waiting to retry (then see status()). */
  settled(): Promise<TargetStatus>;
  /** Stops: waits for the apply in progress (bounded by the caller), drops retries. */
  close(): Promise<void>;
  /** Ends the check or reload running now and refuses new ones: for a stopping lbwatch out of patience. */
  abort(): void;
}
