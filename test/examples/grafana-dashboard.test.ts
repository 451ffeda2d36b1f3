/**
 * examples/grafana/lbwatch-dashboard.json against the metric names and labels issue 11 fixes: every
 * query (panels and variables) names only these metrics, with labels they have, and every metric has
 * a panel, and the table is what src/metrics/ exports. A renamed metric or label breaks this test,
 * not the operator's dashboard.
 */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { Metrics } from "../../src/metrics/metrics.js";

type Kind = "counter" | "gauge" | "histogram";

const METRICS: Record<string, { kind: Kind; labels: string[] }> = {
  lbwatch_events_total: { kind: "counter", labels: ["type"] },
  lbwatch_event_to_routable_seconds: { kind: "histogram", labels: ["target", "type"] },
  lbwatch_target_applies_total: { kind: "counter", labels: ["target", "activation", "result"] },
  lbwatch_target_apply_duration_seconds: { kind: "histogram", labels: ["target", "activation"] },
  lbwatch_target_up: { kind: "gauge", labels: ["target"] },
  lbwatch_backends: { kind: "gauge", labels: ["service", "source"] },
  lbwatch_events_lost_total: { kind: "counter", labels: ["reason"] },
  lbwatch_resyncs_total: { kind: "counter", labels: ["reason"] },
  lbwatch_resync_wrong_total: { kind: "counter", labels: ["kind"] },
  lbwatch_source_connected: { kind: "gauge", labels: ["source"] },
  lbwatch_source_revision_lag: { kind: "gauge", labels: ["source"] },
  lbwatch_source_last_contact_seconds: { kind: "gauge", labels: ["source"] },
};
/** Labels Prometheus adds to every scraped series. */
const SCRAPE_LABELS = ["instance", "job"];

interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: { expr: string; datasource: { type: string; uid: string } }[];
  panels?: Panel[];
}

interface Dashboard {
  __inputs: { name: string; type: string; pluginId: string }[];
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; query: { query: string }; datasource: { uid: string } }[] };
}

interface Query {
  where: string;
  expr: string;
}

const dashboard = JSON.parse(
  await readFile(new URL("../../examples/grafana/lbwatch-dashboard.json", import.meta.url), "utf8"),
) as Dashboard;

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

const panels = allPanels(dashboard.panels).filter((p) => p.type !== "row");
const queries: Query[] = [
  ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
  ...dashboard.templating.list.map((v) => ({ where: `variable ${v.name}`, expr: v.query.query })),
];

/** The exported metric a series name belongs to (histograms export _bucket, _sum and _count). */
function metricOf(series: string): { metric: string; labels: string[] } | undefined {
  const plain = METRICS[series];
  if (plain) return { metric: series, labels: plain.labels };
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  const histogram = m?.[1] ? METRICS[m[1]] : undefined;
  if (m?.[1] && histogram?.kind === "histogram") {
    return { metric: m[1], labels: [...histogram.labels, ...(m[2] === "bucket" ? ["le"] : [])] };
  }
  return undefined;
}

/** Problems of one query: unknown series, labels a series does not have, grouping by absent labels. */
function problems({ where, expr }: Query): string[] {
  const found: string[] = [];
  const available = new Set(SCRAPE_LABELS);
  let series = 0;
  for (const m of expr.matchAll(/\b(lbwatch_[a-z0-9_]+)(?:\{([^}]*)\})?/g)) {
    const name = m[1] as string;
    series++;
    const known = metricOf(name);
    if (!known) {
      found.push(`${where}: ${name} is not an lbwatch metric`);
      continue;
    }
    const labels = new Set([...known.labels, ...SCRAPE_LABELS]);
    for (const label of labels) available.add(label);
    for (const [, label] of (m[2] ?? "").matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)) {
      if (!labels.has(label as string)) found.push(`${where}: ${name} has no label ${label}`);
    }
  }
  if (series === 0) found.push(`${where}: names no lbwatch metric`);
  for (const [, list] of expr.matchAll(/\bby\s*\(([^)]*)\)/g)) {
    for (const label of (list as string).split(",").map((l) => l.trim())) {
      if (!available.has(label)) found.push(`${where}: groups by ${label}, which its series do not have`);
    }
  }
  return found;
}

describe("examples/grafana/lbwatch-dashboard.json", () => {
  it("declares one Prometheus data source input that every panel and variable uses", () => {
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: "DS_PROMETHEUS", type: "datasource", pluginId: "prometheus" }),
    ]);
    expect(dashboard.schemaVersion).toBe(38);
    const uids = new Set([
      ...panels.flatMap((p) => [p.datasource?.uid, ...(p.targets ?? []).map((t) => t.datasource.uid)]),
      ...dashboard.templating.list.map((v) => v.datasource.uid),
    ]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's import placeholder, not a JS template
    expect([...uids]).toEqual(["${DS_PROMETHEUS}"]);
  });

  it("queries only lbwatch's metrics, by labels they have", () => {
    expect(queries.length).toBeGreaterThan(0);
    expect(queries.flatMap(problems)).toEqual([]);
  });

  it("has a panel for every metric", () => {
    const used = new Set(
      panels
        .flatMap((p) => p.targets ?? [])
        .flatMap((t) => [...t.expr.matchAll(/\blbwatch_[a-z0-9_]+/g)].map((m) => metricOf(m[0])?.metric)),
    );
    expect([...used].sort()).toEqual(Object.keys(METRICS).sort());
  });

  it("draws the event-to-routable latency as a heatmap of the histogram's buckets", () => {
    const heatmap = panels.find((p) => p.type === "heatmap");
    expect(heatmap?.targets?.map((t) => t.expr)).toEqual([
      'sum by (le) (increase(lbwatch_event_to_routable_seconds_bucket{instance=~"$instance",target=~"$target",type=~"$type"}[$__rate_interval]))',
    ]);
  });
});

describe("the metric table above", () => {
  it("is what lbwatch exports: each metric of that kind, with exactly those labels", () => {
    const metrics = new Metrics();
    metrics.watch({ backendCounts: () => [], status: () => ({ sources: [], targets: [] }) });
    const exported = Object.fromEntries(
      metrics.registry
        .getMetricsAsArray()
        .map((m) => [
          m.name,
          { kind: m.type, labels: [...(m as unknown as { labelNames: string[] }).labelNames].sort() },
        ]),
    );
    const table = Object.entries(METRICS).map(([name, m]) => [
      name,
      { kind: m.kind, labels: [...m.labels].sort() },
    ]);
    expect(table.map(([name]) => [name, exported[name as string]])).toEqual(table);
  });
});

describe("the dashboard check itself", () => {
  it("reports an unknown metric, a label the metric lacks and a grouping by an absent label", () => {
    expect(
      problems({
        where: "q",
        expr: 'sum by (le, service) (rate(lbwatch_target_up_bucket{target="x"}[5m])) + lbwatch_target_up{service="a"}',
      }),
    ).toEqual([
      "q: lbwatch_target_up_bucket is not an lbwatch metric",
      "q: lbwatch_target_up has no label service",
      "q: groups by le, which its series do not have",
      "q: groups by service, which its series do not have",
    ]);
  });
});
