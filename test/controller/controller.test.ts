import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Controller } from "../../src/controller/controller.js";
import { createWorkspace, until, type Workspace } from "../cli/lbwatch-process.js";
import { captureLog } from "../targets/capture-log.js";
import { claimAt, FakeSource } from "./fake-source.js";

const node = process.execPath;
let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

/** A controller on a workspace's config (check + reload node argvs), fed by FakeSources. */
async function controllerOn(ws: Workspace, ...sources: FakeSource[]) {
  const { log, lines } = captureLog();
  const controller = await Controller.load({ configFile: ws.config, log, sources: () => sources });
  cleanups.push(() => controller.close());
  return { controller, lines };
}

async function workspace(config?: (text: string) => string): Promise<Workspace> {
  const ws = await createWorkspace({ ports: "8000-8099" });
  cleanups.push(() => ws.remove());
  if (config) await writeFile(ws.config, config(await readFile(ws.config, "utf8")));
  return ws;
}

const line = (port: number) => `server b127_0_0_1_${port} 127.0.0.1:${port}\n`;

describe("Controller with a fake source", () => {
  it("renders the initial view, then follows every update and withdrawal", async () => {
    const ws = await workspace();
    const source = new FakeSource([claimAt(8001)]);
    const { controller, lines } = await controllerOn(ws, source);
    await controller.start();
    expect(await until(async () => (await ws.readDest()) === line(8001))).toBe(true);
    source.listen(8002);
    expect(await until(async () => (await ws.readDest()) === line(8001) + line(8002))).toBe(true);
    source.withdraw(8001);
    expect(await until(async () => (await ws.readDest()) === line(8002))).toBe(true);
    const applied = () => lines.filter((l) => l.msg === "target applied");
    expect(await until(() => String(applied().at(-1)?.removed) !== "")).toBe(true);
    expect(applied().at(-1)).toMatchObject({ added: [], removed: ["b127_0_0_1_8001"], activation: "reload" });
    expect(applied().at(-1)?.latencyMs).toBeGreaterThan(0);
  });

  it("retries a reload that fails three times with backoff until it succeeds, with no new change", async () => {
    // The reload fails three times, then succeeds: nothing else happens in between.
    const ws = await workspace((text) =>
      text.replace(
        /reload: .*/,
        `reload: ${JSON.stringify([node, "-e", RELOAD_FAILS_THRICE, join("/tmp", `lbwatch-reload-${process.pid}`)])}`,
      ),
    );
    const counter = join("/tmp", `lbwatch-reload-${process.pid}`);
    await writeFile(counter, "0");
    cleanups.push(() => writeFile(counter, "0"));
    const source = new FakeSource([claimAt(8003)]);
    const { controller, lines } = await controllerOn(ws, source);
    await controller.start();
    expect(await until(() => lines.some((l) => l.msg === "target recovered"), 10_000)).toBe(true);
    expect(Number(await readFile(counter, "utf8"))).toBe(4);
    const failed = lines.filter((l) => l.msg === "target not applied: retrying with backoff");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ code: "E_RELOAD_FAILED", exitCode: 3 });
    expect(lines.find((l) => l.msg === "target recovered")).toMatchObject({ failures: 3 });
    expect(controller.status().targets[0]).toMatchObject({ state: "ok", failures: 0 });
  });

  it("returns from a reload that ignores SIGTERM and forks a sleeper within commandTimeout + 2 s, and retries it", async () => {
    const ws = await workspace((text) =>
      text
        .replace(/reload: .*/, `reload: ${JSON.stringify([node, "-e", RELOAD_HANGS])}`)
        .replace("targets:", "targets:")
        .replace("  - template: lb.hbs", "  - template: lb.hbs\n    commandTimeout: 1s"),
    );
    const source = new FakeSource([claimAt(8004)]);
    const { controller, lines } = await controllerOn(ws, source);
    const started = Date.now();
    await controller.start();
    expect(await until(() => lines.some((l) => l.code === "E_RELOAD_FAILED"), 10_000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000 + 2000 + 500);
    expect(lines.find((l) => l.code === "E_RELOAD_FAILED")).toMatchObject({ timedOut: true });
    // Retried: a second attempt is under way or done.
    expect(await until(() => controller.status().targets[0]?.failures === 2, 10_000)).toBe(true);
  });

  it("applies a render once per burst plus one trailing, not once per change", async () => {
    const ws = await workspace();
    const source = new FakeSource();
    const { controller } = await controllerOn(ws, source);
    await controller.start();
    await until(async () => (await ws.reloads()) === 1);
    for (let port = 8010; port < 8050; port++) source.listen(port);
    expect(await until(async () => ((await ws.readDest()) ?? "").split("\n").length === 41)).toBe(true);
    expect(await ws.reloads()).toBeLessThanOrEqual(3);
  });
});

describe("Controller with a source that has no view yet (etcd unreachable at start)", () => {
  const running = "server b127_0_0_1_9999 127.0.0.1:9999\n";

  it("leaves dest and the load balancer alone while the other source changes, then applies everything", async () => {
    const ws = await workspace();
    await writeFile(ws.dest, running);
    const local = new FakeSource([claimAt(8001)], { id: "local" });
    const remote = new FakeSource([], { id: "etcd-0", silent: true });
    const { controller, lines } = await controllerOn(ws, local, remote);
    await controller.start();
    local.listen(8002);
    await new Promise((r) => setTimeout(r, 300));
    expect([await ws.readDest(), await ws.reloads(), controller.health()]).toEqual([
      running,
      0,
      { ok: false, reason: "starting: no first view yet from etcd-0" },
    ]);
    expect(lines.filter((l) => l.msg === "target applied")).toEqual([]);
    remote.deliver([claimAt(8005, { key: "etcd-key", host: "h2" })]);
    const all = line(8001) + line(8002) + line(8005);
    expect(await until(async () => (await ws.readDest()) === all)).toBe(true);
    expect(controller.health()).toEqual({ ok: true });
  });

  it("--once applies nothing and fails with E_UNREACHABLE naming the source", async () => {
    const ws = await workspace();
    await writeFile(ws.dest, running);
    const { log } = captureLog();
    const sources = () => [
      new FakeSource([claimAt(8001)], { id: "local" }),
      new FakeSource([], { id: "etcd-0", silent: true }),
    ];
    const controller = await Controller.load({ configFile: ws.config, log, sources });
    await expect(controller.once()).rejects.toMatchObject({
      code: "E_UNREACHABLE",
      message: expect.stringContaining("no view from source etcd-0"),
    });
    expect([await ws.readDest(), await ws.reloads()]).toEqual([running, 0]);
  });
});

/** Counts its runs in the file argv[1]; exits 3 on the first three. */
const RELOAD_FAILS_THRICE = `const fs = require("fs"); const n = Number(fs.readFileSync(process.argv[1], "utf8")) + 1; fs.writeFileSync(process.argv[1], String(n)); process.exit(n <= 3 ? 3 : 0)`;

/** An HTTP backend whose /healthz answers `status()` (the test changes it). */
async function healthz(status: () => number): Promise<number> {
  const server = createServer((_req, res) => {
    res.statusCode = status();
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    server.close();
  });
  return (server.address() as { port: number }).port;
}

const gated = (ready: string) => (text: string) =>
  text.replace("    uid: [0]\n", `    uid: [0]\n    ready: ${ready}\n`);

describe("Controller with a readiness gate", () => {
  it("applies first with the backends whose first check passed, shows the others waiting, and routes each when ready", async () => {
    const ws = await workspace(gated("{ http: { path: /healthz }, interval: 20ms }"));
    let late = 503;
    const [up, waiting] = [await healthz(() => 200), await healthz(() => late)];
    const source = new FakeSource([claimAt(up), claimAt(waiting, { key: "w" })]);
    const { controller } = await controllerOn(ws, source);
    await controller.start();
    expect(await until(async () => (await ws.reloads()) === 1)).toBe(true);
    expect(await ws.readDest()).toBe(line(up));
    const snapshot = controller.snapshot().services.web?.map((b) => [b.id, b.ready, b.readiness?.last]);
    expect(snapshot?.sort()).toEqual(
      [
        [`b127_0_0_1_${up}`, true, undefined],
        [`b127_0_0_1_${waiting}`, false, "status 503"],
      ].sort(),
    );
    expect(controller.backendCounts()).toEqual([{ service: "web", source: "fake", count: 1, waiting: 1 }]);
    late = 200;
    const both = [up, waiting]
      .sort((a, b) => a - b)
      .map(line)
      .join("");
    expect(await until(async () => (await ws.readDest()) === both)).toBe(true);
    expect(controller.snapshot().services.web?.every((b) => b.ready && b.readiness === undefined)).toBe(true);
    expect(controller.backendCounts()).toEqual([{ service: "web", source: "fake", count: 2, waiting: 0 }]);
  });

  it("--once: checks each gated backend once and applies without those that failed", async () => {
    const ws = await workspace(gated("{ http: { path: /healthz } }"));
    const [up, down] = [await healthz(() => 200), await healthz(() => 503)];
    const { controller } = await controllerOn(ws, new FakeSource([claimAt(up), claimAt(down, { key: "d" })]));
    expect((await controller.once()).map((s) => s.state)).toEqual(["ok"]);
    expect(await ws.readDest()).toBe(line(up));
  });
});

/** Ignores SIGTERM and leaves a child that keeps the pipes open. */
const RELOAD_HANGS = `process.on("SIGTERM", () => {}); require("child_process").spawn("sleep", ["30"], { stdio: "inherit" }); setTimeout(() => {}, 60000)`;
