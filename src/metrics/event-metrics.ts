/**
 * The metrics that count what happens: the controller's Observer. Each method is on the event path,
 * so it only increments or observes; label children of the fixed label values are made once.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Observer } from "../controller/observer.js";
import type { ReplaceReason } from "../sources/source.js";
import type { ApplyRecord } from "../targets/target.js";

/** Kernel event → load balancer and apply durations span a live change (~1 ms) to a slow reload (s). */
export const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export class EventMetrics implements Observer {
  readonly #events: Counter<"type">;
  readonly #listens: Counter.Internal;
  readonly #closes: Counter.Internal;
  readonly #lost: Counter<"reason">;
  readonly #resyncs: Counter<"reason">;
  readonly #wrong: Counter<"kind">;
  readonly #applies: Counter<"target" | "activation" | "result">;
  readonly #applyDuration: Histogram<"target" | "activation">;
  readonly #lastSuccess: Gauge<"target">;
  readonly #routable: Histogram<"target" | "type">;
  readonly #reloadOk: Gauge;
  readonly #reloadOkAt: Gauge;
  readonly #templateErrors: Counter<"template">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#events = new Counter({
      name: "lbwatch_events_total",
      help: "Kernel listen/close events that reached lbwatch, matched by a service or not.",
      labelNames: ["type"],
      registers,
    });
    this.#listens = this.#events.labels("listen");
    this.#closes = this.#events.labels("close");
    // Series of the known label values exist from the start (at 0), so rate() sees their first increase.
    for (const type of ["listen", "close"]) this.#events.inc({ type }, 0);
    this.#lost = new Counter({
      name: "lbwatch_events_lost_total",
      help: "Kernel events lost (ring-full: the ring buffer overflowed; port-unresolved: a listen whose port never appeared). Each loss triggers a resync.",
      labelNames: ["reason"],
      registers,
    });
    for (const reason of ["ring-full", "port-unresolved"]) this.#lost.inc({ reason }, 0);
    this.#resyncs = new Counter({
      name: "lbwatch_resyncs_total",
      help: "Full views a source delivered again after the first (timer, lost events, reconnect, relist).",
      labelNames: ["reason"],
      registers,
    });
    this.#wrong = new Counter({
      name: "lbwatch_resync_wrong_total",
      help: "Entries resyncs found wrong: listeners the event stream had wrong, backends that changed because of them.",
      labelNames: ["kind"],
      registers,
    });
    for (const kind of ["listeners", "backends"]) this.#wrong.inc({ kind }, 0);
    this.#applies = new Counter({
      name: "lbwatch_target_applies_total",
      help: "Finished applies by target (dest), activation and result (ok, failed).",
      labelNames: ["target", "activation", "result"],
      registers,
    });
    this.#applyDuration = new Histogram({
      name: "lbwatch_target_apply_duration_seconds",
      help: "Duration of an apply, from its start to the load balancer using it (or its failure).",
      labelNames: ["target", "activation"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#lastSuccess = new Gauge({
      name: "lbwatch_target_last_success_timestamp_seconds",
      help: "Unix time of the target's last successful apply.",
      labelNames: ["target"],
      registers,
    });
    this.#routable = new Histogram({
      name: "lbwatch_event_to_routable_seconds",
      help: "Kernel timestamp of the earliest listen (or close) behind an applied change to the load balancer using it.",
      labelNames: ["target", "type"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#reloadOk = new Gauge({
      name: "lbwatch_config_last_reload_successful",
      help: "1 when the last config load (start, file edit or SIGHUP) succeeded, 0 when it was refused.",
      registers,
    });
    this.#reloadOkAt = new Gauge({
      name: "lbwatch_config_last_reload_success_timestamp_seconds",
      help: "Unix time of the last successful config load.",
      registers,
    });
    this.#templateErrors = new Counter({
      name: "lbwatch_template_errors_total",
      help: "Edited templates that did not compile (the last good one is kept).",
      labelNames: ["template"],
      registers,
    });
  }

  kernelEvent(type: "listen" | "close"): void {
    (type === "listen" ? this.#listens : this.#closes).inc();
  }

  eventsLost(reason: string, count: number): void {
    this.#lost.inc({ reason }, count);
  }

  resynced(_source: string, reason: ReplaceReason, wrong: { listeners: number; backends: number }): void {
    this.#resyncs.inc({ reason });
    this.#wrong.inc({ kind: "listeners" }, wrong.listeners);
    this.#wrong.inc({ kind: "backends" }, wrong.backends);
  }

  configReloaded(ok: boolean): void {
    this.#reloadOk.set(ok ? 1 : 0);
    if (ok) this.#reloadOkAt.set(Date.now() / 1000);
  }

  templateError(template: string): void {
    this.#templateErrors.inc({ template });
  }

  applied(record: ApplyRecord): void {
    const { target, activation, result } = record;
    this.#applies.inc({ target, activation, result });
    this.#applyDuration.observe({ target, activation }, record.durationMs / 1000);
    if (result === "ok") this.#lastSuccess.set({ target }, Date.now() / 1000);
    for (const { type, seconds } of record.latencies) this.#routable.observe({ target, type }, seconds);
  }
}
