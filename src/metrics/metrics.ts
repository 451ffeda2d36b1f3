/**
 * lbwatch's Prometheus registry: what happens (EventMetrics, the controller's Observer), what is
 * (state gauges read from the controller at scrape time) and prom-client's process metrics.
 */
import { collectDefaultMetrics, Registry } from "prom-client";
import { EventMetrics } from "./event-metrics.js";
import { registerStateMetrics, type StateView } from "./state-metrics.js";

/**
 * prom-client samples event-loop delay with a timer of this period; its 10 ms default would wake an
 * idle lbwatch 100 times a second.
 */
const EVENT_LOOP_SAMPLE_MS = 100;
/**
 * Gauges named like counters, which `promtool check metrics` refuses; each is the sum of its
 * per-type sibling without the suffix (nodejs_active_handles{type}…), which stays.
 */
const MISNAMED_DEFAULTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

export class Metrics {
  readonly registry = new Registry();
  readonly observer: EventMetrics;

  constructor() {
    this.observer = new EventMetrics(this.registry);
  }

  /**
   * Completes the registry for scrapes: gauges read from the controller, and process metrics (whose
   * event-loop sampler is a timer, so it runs only where something scrapes).
   */
  watch(view: StateView): void {
    registerStateMetrics(this.registry, view);
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
    for (const name of MISNAMED_DEFAULTS) this.registry.removeSingleMetric(name);
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
