import { describe, expect, it } from "vitest";
import { Metrics } from "../../src/metrics/metrics.js";
import type { StateView } from "../../src/metrics/state-metrics.js";
import type { SourceStatus } from "../../src/sources/source.js";
import type { TargetStatus } from "../../src/targets/target.js";
import { promtoolCheck, samples } from "../helpers/endpoint.js";

const target = (name: string, fields: Partial<TargetStatus> = {}): TargetStatus => ({
  target: name,
  kind: "file",
  state: "ok",
  since: 0,
  failures: 0,
  pending: false,
  quarantined: [],
  ...fields,
});

const quarantined = {
  service: "web",
  id: "b1",
  pid: 1,
  uid: 0,
  comm: "x",
  host: "h",
  reason: "check",
  since: 0,
};

/** A stand-in for the controller whose answers the test changes between scrapes. */
function view(state: {
  counts: ReturnType<StateView["backendCounts"]>;
  targets: TargetStatus[];
  sources: SourceStatus[];
}): StateView {
  return {
    backendCounts: () => state.counts,
    status: () => ({ targets: state.targets, sources: state.sources }),
  };
}

const lbwatchSamples = async (metrics: Metrics) =>
  Object.fromEntries([...samples(await metrics.text())].filter(([name]) => name.startsWith("lbwatch_")));

describe("Metrics", () => {
  it("counts what the controller and targets report, by label, from 0 for the known label values", async () => {
    const metrics = new Metrics();
    const o = metrics.observer;
    const before = await lbwatchSamples(metrics);
    expect(before).toEqual({
      lbwatch_config_last_reload_successful: 0,
      lbwatch_config_last_reload_success_timestamp_seconds: 0,
      'lbwatch_events_total{type="listen"}': 0,
      'lbwatch_events_total{type="close"}': 0,
      'lbwatch_events_lost_total{reason="ring-full"}': 0,
      'lbwatch_events_lost_total{reason="port-unresolved"}': 0,
      'lbwatch_resync_wrong_total{kind="listeners"}': 0,
      'lbwatch_resync_wrong_total{kind="backends"}': 0,
    });
    o.kernelEvent("listen");
    o.kernelEvent("listen");
    o.kernelEvent("close");
    o.eventsLost("ring-full", 5);
    o.resynced("local", "lost", { listeners: 2, backends: 1 });
    o.resynced("local", "timer", { listeners: 0, backends: 0 });
    o.templateError("/etc/lbwatch/lb.hbs");
    o.configReloaded(false);
    o.applied({ target: "/lb.cfg", activation: "reload", result: "failed", durationMs: 30, latencies: [] });
    const after = await lbwatchSamples(metrics);
    expect(after).toMatchObject({
      'lbwatch_events_total{type="listen"}': 2,
      'lbwatch_events_total{type="close"}': 1,
      'lbwatch_events_lost_total{reason="ring-full"}': 5,
      'lbwatch_resyncs_total{reason="lost"}': 1,
      'lbwatch_resyncs_total{reason="timer"}': 1,
      'lbwatch_resync_wrong_total{kind="listeners"}': 2,
      'lbwatch_resync_wrong_total{kind="backends"}': 1,
      'lbwatch_template_errors_total{template="/etc/lbwatch/lb.hbs"}': 1,
      lbwatch_config_last_reload_successful: 0,
      'lbwatch_target_applies_total{target="/lb.cfg",activation="reload",result="failed"}': 1,
      'lbwatch_target_apply_duration_seconds_count{target="/lb.cfg",activation="reload"}': 1,
    });
    // A failed apply is no success, and the config never loaded: 0 (never), and no target series.
    expect(Object.entries(after).filter(([k]) => k.includes("timestamp"))).toEqual([
      ["lbwatch_config_last_reload_success_timestamp_seconds", 0],
    ]);
  });

  it("observes each latency of an apply in its type's histogram, with buckets from 0.5 ms to 10 s", async () => {
    const metrics = new Metrics();
    const started = Date.now() / 1000;
    metrics.observer.configReloaded(true);
    metrics.observer.applied({
      target: "/lb.cfg",
      activation: "runtime-api",
      result: "ok",
      durationMs: 4,
      latencies: [
        { type: "listen", seconds: 0.0042 },
        { type: "close", seconds: 3 },
      ],
    });
    const s = await lbwatchSamples(metrics);
    const buckets = (type: string) =>
      Object.entries(s)
        .filter(
          ([k]) => k.startsWith("lbwatch_event_to_routable_seconds_bucket") && k.endsWith(`type="${type}"}`),
        )
        .map(([k, v]) => [/le="([^"]+)"/.exec(k)?.[1], v]);
    const les = [
      "0.0005",
      "0.001",
      "0.0025",
      "0.005",
      "0.01",
      "0.025",
      "0.05",
      "0.1",
      "0.25",
      "0.5",
      "1",
      "2.5",
      "5",
      "10",
      "+Inf",
    ];
    expect(buckets("listen")).toEqual(les.map((le, i) => [le, i >= 3 ? 1 : 0]));
    expect(buckets("close")).toEqual(les.map((le, i) => [le, i >= 12 ? 1 : 0]));
    expect(s['lbwatch_event_to_routable_seconds_count{target="/lb.cfg",type="listen"}']).toBe(1);
    expect(s['lbwatch_event_to_routable_seconds_sum{target="/lb.cfg",type="close"}']).toBe(3);
    expect(s['lbwatch_target_apply_duration_seconds_sum{target="/lb.cfg",activation="runtime-api"}']).toBe(
      0.004,
    );
    expect(s.lbwatch_config_last_reload_successful).toBe(1);
    for (const key of [
      "lbwatch_config_last_reload_success_timestamp_seconds",
      'lbwatch_target_last_success_timestamp_seconds{target="/lb.cfg"}',
    ]) {
      expect(s[key]).toBeGreaterThanOrEqual(started - 0.001);
      expect(s[key]).toBeLessThanOrEqual(Date.now() / 1000);
    }
  });

  it("reads backends, targets and sources from the controller at each scrape, dropping series that went away", async () => {
    const metrics = new Metrics();
    const state = {
      counts: [
        { service: "web", source: "local", count: 3, waiting: 1 },
        { service: "web", source: "etcd-0", count: 2, waiting: 0 },
      ],
      targets: [
        target("/a.cfg"),
        target("/b.cfg", { state: "retrying", failures: 2, quarantined: [quarantined, quarantined] }),
        target("/c.cfg", { failures: 1 }),
      ],
      sources: [
        { id: "local", kind: "local", state: "ok", lastContact: Date.now() - 1500 },
        { id: "etcd-0", kind: "etcd", state: "stale", figures: { revision: 40, revisionLag: 7 } },
      ] as SourceStatus[],
    };
    metrics.watch(view(state));
    const s = await lbwatchSamples(metrics);
    const contact = s['lbwatch_source_last_contact_seconds{source="local"}'];
    expect(contact).toBeGreaterThanOrEqual(1.5);
    expect(contact).toBeLessThan(5);
    expect(
      Object.fromEntries(
        Object.entries(s).filter(([k]) =>
          /^lbwatch_(backends|quarantined|target_up|source_(connected|revision))/.test(k),
        ),
      ),
    ).toEqual({
      'lbwatch_backends{service="web",source="local"}': 3,
      'lbwatch_backends{service="web",source="etcd-0"}': 2,
      'lbwatch_backends_waiting{service="web",source="local"}': 1,
      'lbwatch_backends_waiting{service="web",source="etcd-0"}': 0,
      'lbwatch_quarantined_backends{target="/a.cfg"}': 0,
      'lbwatch_quarantined_backends{target="/b.cfg"}': 2,
      'lbwatch_quarantined_backends{target="/c.cfg"}': 0,
      'lbwatch_target_up{target="/a.cfg"}': 1,
      'lbwatch_target_up{target="/b.cfg"}': 0,
      'lbwatch_target_up{target="/c.cfg"}': 0,
      'lbwatch_source_connected{source="local"}': 1,
      'lbwatch_source_connected{source="etcd-0"}': 0,
      'lbwatch_source_revision_lag{source="etcd-0"}': 7,
    });
    state.counts = [{ service: "web", source: "local", count: 4, waiting: 0 }];
    state.targets = [target("/a.cfg")];
    const again = await lbwatchSamples(metrics);
    expect(Object.keys(again).filter((k) => /^lbwatch_(backends|quarantined|target_up)/.test(k))).toEqual([
      'lbwatch_backends{service="web",source="local"}',
      'lbwatch_backends_waiting{service="web",source="local"}',
      'lbwatch_quarantined_backends{target="/a.cfg"}',
      'lbwatch_target_up{target="/a.cfg"}',
    ]);
    expect(again['lbwatch_backends{service="web",source="local"}']).toBe(4);
  });

  it("exports prom-client's process metrics, and promtool check metrics accepts the whole exposition", async () => {
    const metrics = new Metrics();
    metrics.watch(
      view({
        counts: [{ service: "web", source: "local", count: 1, waiting: 0 }],
        targets: [target("/a.cfg")],
        sources: [],
      }),
    );
    metrics.observer.kernelEvent("listen");
    metrics.observer.applied({
      target: "/a.cfg",
      activation: "write",
      result: "ok",
      durationMs: 1,
      latencies: [{ type: "listen", seconds: 0.01 }],
    });
    const text = await metrics.text();
    for (const name of [
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "process_open_fds",
      "nodejs_eventloop_lag_p99_seconds",
      "nodejs_heap_size_used_bytes",
    ]) {
      expect(text).toMatch(new RegExp(`^${name}(\\{[^}]*\\})? `, "m"));
    }
    expect(await promtoolCheck(text)).toEqual({ exitCode: 0, output: "" });
  });
});
