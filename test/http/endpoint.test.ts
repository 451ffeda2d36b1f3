import { appendFile, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { LateObserver } from "../../src/cli/late-observer.js";
import { Controller } from "../../src/controller/controller.js";
import { ServedEndpoint } from "../../src/http/endpoint.js";
import type { SourceSink } from "../../src/sources/source.js";
import { createWorkspace, until } from "../cli/lbwatch-process.js";
import { claimAt, FakeSource } from "../controller/fake-source.js";
import { fetchPath, freePort, samples } from "../helpers/endpoint.js";
import { captureLog } from "../targets/capture-log.js";

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

/** A fake source whose first view waits until the test releases it: the controller is starting till then. */
class HeldSource extends FakeSource {
  release = () => {};
  readonly #held = new Promise<void>((resolve) => {
    this.release = resolve;
  });
  override async start(sink: SourceSink): Promise<void> {
    await this.#held;
    return super.start(sink);
  }
}

/** A controller and its endpoint, wired as `lbwatch run` wires them (src/cli/run.ts). */
async function endpointOn(source: FakeSource) {
  const port = await freePort();
  const ws = await createWorkspace({ ports: "8000-8099", extra: `http: { listen: "127.0.0.1:${port}" }` });
  cleanups.push(() => ws.remove());
  const { log, lines } = captureLog();
  const observer = new LateObserver();
  const controller = await Controller.load({ configFile: ws.config, log, observer, sources: () => [source] });
  cleanups.push(() => controller.close());
  const endpoint = new ServedEndpoint(controller, log, (metrics) => {
    observer.target = metrics.observer;
  });
  await endpoint.start();
  observer.configReloaded(true);
  observer.reloaded = () => void endpoint.follow();
  cleanups.push(() => endpoint.close());
  return { controller, ws, at: { port }, endpoint, lines };
}

describe("ServedEndpoint", () => {
  it("answers /healthz 503 with the reason until every source delivered its first view, then 200", async () => {
    const source = new HeldSource([claimAt(8001)]);
    const { controller, at } = await endpointOn(source);
    const started = controller.start();
    expect(await fetchPath(at, "/healthz")).toMatchObject({
      status: 503,
      body: expect.stringMatching(/^starting: no first view yet from /),
    });
    source.release();
    await started;
    expect(await fetchPath(at, "/healthz")).toMatchObject({ status: 200, body: "ok\n" });
  });

  it("serves /status as the controller's snapshot and /metrics with the backends it counts", async () => {
    const source = new FakeSource([claimAt(8001), claimAt(8002, { key: "8002", comm: "\u001b[2Jevil" })]);
    const { controller, ws, at } = await endpointOn(source);
    await controller.start();
    source.listen(8003);
    expect(await until(async () => (await ws.readDest())?.includes("8003") === true)).toBe(true);
    expect(await until(() => controller.status().targets.every((t) => !t.pending))).toBe(true);
    const status = await fetchPath(at, "/status");
    expect(status.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(status.body)).toEqual(JSON.parse(JSON.stringify(controller.snapshot())));
    const metrics = await fetchPath(at, "/metrics");
    expect(metrics.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    const s = samples(metrics.body);
    expect(s.get('lbwatch_backends{service="web",source="fake"}')).toBe(3);
    expect(s.get(`lbwatch_target_up{target="${ws.dest}"}`)).toBe(1);
    expect(s.get('lbwatch_source_connected{source="fake"}')).toBe(1);
    // comm is the process's own text: it never becomes a label value.
    expect(metrics.body).not.toContain("evil");
  });

  it("counts a config reload that failed and one that worked", async () => {
    const source = new FakeSource();
    const { controller, ws, at } = await endpointOn(source);
    await controller.start();
    const reloaded = async (value: number) =>
      until(
        async () =>
          samples((await fetchPath(at, "/metrics")).body).get("lbwatch_config_last_reload_successful") ===
          value,
      );
    await appendFile(ws.config, "bogus: 1\n");
    expect(await reloaded(0)).toBe(true);
    await writeFile(ws.config, (await readFile(ws.config, "utf8")).replace("bogus: 1\n", ""));
    expect(await reloaded(1)).toBe(true);
  });

  it("follows http.listen across reloads: moved, kept where it was when the new address is in use, closed", async () => {
    const { controller, ws, at, endpoint, lines } = await endpointOn(new FakeSource());
    await controller.start();
    const config = await readFile(ws.config, "utf8");
    const reloads = () => lines.filter((l) => l.msg === "config reloaded").length;
    const answers = async (port: number) =>
      (await fetchPath({ port }, "/healthz").catch(() => undefined))?.status;
    const next = await freePort();
    await writeFile(ws.config, config.replace(`127.0.0.1:${at.port}`, `127.0.0.1:${next}`));
    expect(await until(async () => (await answers(next)) === 200)).toBe(true);
    expect(await answers(at.port)).toBeUndefined();
    // An address in use: the endpoint stays, and says why.
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(at.port, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => busy.close(resolve)));
    const before = reloads();
    await writeFile(ws.config, config);
    expect(await until(() => reloads() > before)).toBe(true);
    expect(
      await until(() => lines.some((l) => l.msg === "http endpoint not moved: keeping the running one")),
    ).toBe(true);
    expect(await answers(next)).toBe(200);
    expect(endpoint.address).toBe(`127.0.0.1:${next}`);
    // No http key: nothing listens.
    await writeFile(ws.config, config.replace(/^http:.*$/m, ""));
    expect(await until(async () => (await answers(next)) === undefined)).toBe(true);
    expect(endpoint.address).toBeUndefined();
  });

  it("answers 404 for other paths and 405 for other methods; HEAD as GET without a body", async () => {
    const { controller, at } = await endpointOn(new FakeSource());
    await controller.start();
    expect(await fetchPath(at, "/nope")).toMatchObject({
      status: 404,
      body: "not found: try /metrics, /healthz, /status\n",
    });
    expect(await fetchPath(at, "/metrics?x=1", "POST")).toMatchObject({
      status: 405,
      headers: expect.objectContaining({ allow: "GET, HEAD" }),
      body: "only GET\n",
    });
    expect(await fetchPath(at, "/healthz", "HEAD")).toMatchObject({ status: 200, body: "" });
  });
});
