/**
 * Gauges read from the controller when Prometheus scrapes, not kept up to date on the event path:
 * backends per service and source (kept per change by the controller), target and source states.
 * O(services + targets + sources) per scrape, never per backend.
 */
import { Gauge, type Registry } from "prom-client";
import type { SourceStatus } from "../sources/source.js";
import type { TargetStatus } from "../targets/target.js";
import { targetUp } from "./target-up.js";

/** What the gauges read: the Controller, or a test's stand-in. */
export interface BackendCount {
  service: string;
  source: string;
  /** Routed: ready, in the render. */
  count: number;
  /** Waiting for their readiness check: known, not routed. */
  waiting: number;
}

export interface StateView {
  backendCounts(): BackendCount[];
  status(): { sources: SourceStatus[]; targets: TargetStatus[] };
}

/** A source that delivers: degraded still does (e.g. a probe error it recovered from). */
const CONNECTED: ReadonlySet<SourceStatus["state"]> = new Set(["ok", "degraded"]);

export function registerStateMetrics(registry: Registry, view: StateView): void {
  const registers = [registry];
  /** A gauge whose series are all set again from `fill` at every scrape; series that went away go. */
  const scraped = <T extends string>(
    name: string,
    help: string,
    labelNames: T[],
    fill: (g: Gauge<T>, v: StateView) => void,
  ) => {
    const gauge: Gauge<T> = new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        gauge.reset();
        fill(gauge, view);
      },
    });
  };
  // One status() per scrape would need the gauges to share state across collect calls; status() is
  // O(targets + sources), so reading it per gauge is cheaper than the coupling.
  scraped(
    "lbwatch_backends",
    "Backends lbwatch routes to, by service and by the source that reports them.",
    ["service", "source"],
    (g, v) => {
      for (const { service, source, count } of v.backendCounts()) g.set({ service, source }, count);
    },
  );
  scraped(
    "lbwatch_backends_waiting",
    "Backends of a service with a readiness gate that listen but have not passed their check yet.",
    ["service", "source"],
    (g, v) => {
      for (const { service, source, waiting } of v.backendCounts()) g.set({ service, source }, waiting);
    },
  );
  scraped(
    "lbwatch_quarantined_backends",
    "Backends a target keeps out because its check failed with them in.",
    ["target"],
    (g, v) => {
      for (const t of v.status().targets) g.set({ target: t.target }, t.quarantined.length);
    },
  );
  scraped(
    "lbwatch_target_up",
    "1 when the target's load balancer runs its latest render (state ok, last pass not failed).",
    ["target"],
    (g, v) => {
      for (const t of v.status().targets) g.set({ target: t.target }, targetUp(t) ? 1 : 0);
    },
  );
  scraped(
    "lbwatch_source_connected",
    "1 while the source delivers (state ok or degraded), 0 while starting, stale or closed.",
    ["source"],
    (g, v) => {
      for (const s of v.status().sources) g.set({ source: s.id }, CONNECTED.has(s.state) ? 1 : 0);
    },
  );
  scraped(
    "lbwatch_source_revision_lag",
    "Revisions between the source's store and the last one lbwatch applied (sources with revisions: etcd).",
    ["source"],
    (g, v) => {
      for (const s of v.status().sources) {
        const lag = s.figures?.revisionLag;
        if (lag !== undefined) g.set({ source: s.id }, lag);
      }
    },
  );
  scraped(
    "lbwatch_source_last_contact_seconds",
    "Seconds since the source last heard from what feeds it (the kernel: the last event; etcd: the last response).",
    ["source"],
    (g, v) => {
      const now = Date.now();
      for (const s of v.status().sources) {
        if (s.lastContact !== undefined) g.set({ source: s.id }, Math.max(0, now - s.lastContact) / 1000);
      }
    },
  );
}
