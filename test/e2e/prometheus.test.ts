/**
 * A real Prometheus server on loopback scrapes a real `lbwatch run` every second; the test reads
 * what it stored back through Prometheus' own query API.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterEach, expect, it } from "vitest";
import { createWorkspace, portBlock, startRun, until } from "../cli/lbwatch-process.js";
import { describeEbpf } from "../helpers/ebpf.js";
import { fetchPath, freePort } from "../helpers/endpoint.js";
import { startListenerProcess } from "../helpers/listener-process.js";

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

interface QueryAnswer {
  status: string;
  data: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

describeEbpf("Prometheus scraping lbwatch", () => {
  it("stores lbwatch's metrics: the backends of a service that started listening, read back with /api/v1/query", async () => {
    const base = portBlock(12);
    const lbwatchPort = await freePort();
    const ws = await createWorkspace({
      ports: `${base}-${base + 99}`,
      extra: `http: { listen: "127.0.0.1:${lbwatchPort}" }`,
    });
    cleanups.push(() => ws.remove());
    const run = await startRun(ws);
    cleanups.push(() => run.stop());

    const dir = await mkdtemp(join(tmpdir(), "lbwatch-prometheus-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(
      join(dir, "prometheus.yml"),
      [
        "global: { scrape_interval: 1s, evaluation_interval: 1s }",
        "scrape_configs:",
        "  - job_name: lbwatch",
        `    static_configs: [{ targets: ["127.0.0.1:${lbwatchPort}"] }]`,
        "",
      ].join("\n"),
    );
    const promPort = await freePort();
    const prometheus = execa(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { reject: false, timeout: 60_000 },
    );
    cleanups.push(async () => {
      prometheus.kill("SIGTERM");
      const timer = setTimeout(() => prometheus.kill("SIGKILL"), 5_000);
      await prometheus;
      clearTimeout(timer);
    });
    const prom = { port: promPort };
    expect(
      await until(
        async () => (await fetchPath(prom, "/-/ready").catch(() => undefined))?.status === 200,
        15_000,
      ),
    ).toBe(true);

    const listener = await startListenerProcess({ addr: "127.0.0.1", port: base + 1, backlog: 16 });
    cleanups.push(() => listener.stop());
    expect(await until(async () => (await ws.readDest())?.includes(`127.0.0.1:${base + 1}`) === true)).toBe(
      true,
    );

    const query = async (expr: string) =>
      JSON.parse(
        (await fetchPath(prom, `/api/v1/query?query=${encodeURIComponent(expr)}`)).body,
      ) as QueryAnswer;
    const backends = 'lbwatch_backends{job="lbwatch",service="web",source="local"}';
    expect(await until(async () => (await query(backends)).data.result[0]?.value[1] === "1", 15_000)).toBe(
      true,
    );
    const answer = await query(backends);
    expect(answer.status).toBe("success");
    expect(answer.data.result.map((r) => [r.metric, r.value[1]])).toEqual([
      [
        {
          __name__: "lbwatch_backends",
          instance: `127.0.0.1:${lbwatchPort}`,
          job: "lbwatch",
          service: "web",
          source: "local",
        },
        "1",
      ],
    ]);
    const routable = `lbwatch_event_to_routable_seconds_count{target="${ws.dest}",type="listen"}`;
    expect(await until(async () => (await query(routable)).data.result[0]?.value[1] === "1", 15_000)).toBe(
      true,
    );
  });
});
