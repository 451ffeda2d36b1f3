import { readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TargetConfig } from "../../../src/config/types.js";
import type { RenderContext } from "../../../src/render/context.js";
import { compileTemplate } from "../../../src/render/template.js";
import { type Activator, needsFile } from "../../../src/targets/activator.js";
import { createHaproxyActivator } from "../../../src/targets/haproxy/activator.js";
import { MasterCli } from "../../../src/targets/haproxy/master-cli.js";
import { RuntimeApi } from "../../../src/targets/haproxy/runtime-api.js";
import { type RunningHaproxy, startHaproxy } from "../../helpers/haproxy.js";
import { get, type HttpBackend, startHttpBackend, waitFor } from "../../helpers/http.js";
import { renderContext } from "../../helpers/render-context.js";
import { captureLog } from "../capture-log.js";

const template = await compileTemplate(
  new URL("../../../templates/haproxy.cfg.hbs", import.meta.url).pathname,
);
const noChange = { added: [], removed: [] };

let haproxy: RunningHaproxy;
let master: MasterCli;
let api: RuntimeApi;
let backends: HttpBackend[];
let activator: Activator;
const { log, lines } = captureLog();

/**
 * What the pipeline does: applyLive first (dest is written behind it, which these tests do at once);
 * when it needs the file, write the render over dest and activate with its reason.
 */
async function apply(context: RenderContext) {
  const previous = await readFile(haproxy.cfg, "utf8");
  const next = template.render(context);
  const live = await activator.applyLive?.({ previous, next, change: noChange });
  await writeFile(haproxy.cfg, next);
  if (live && !needsFile(live)) return live;
  return activator.activate({ previous, next, dest: haproxy.cfg, change: noChange, reason: live?.fallback });
}

const worker = async () => (await master.showProc()).workers;
const serverRows = async () =>
  (await api.serversState("be_web")).map(({ name, adminState }) => ({ name, adminState }));

/** A backend whose first request hangs until released (a connection that keeps its server busy). */
async function startSlowFirstBackend(): Promise<{ port: number; release(): void; close(): Promise<void> }> {
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let first = true;
  const server: Server = createServer((_req, res) => {
    const answer = () => res.end(`port ${port}`);
    if (first) held.then(answer);
    else answer();
    first = false;
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    release,
    close: () => new Promise((resolve) => server.close(() => resolve()) && server.closeAllConnections()),
  };
}

beforeAll(async () => {
  backends = [await startHttpBackend(), await startHttpBackend()];
  haproxy = await startHaproxy(template.render(renderContext({ web: [] })));
  master = new MasterCli(haproxy.masterSocket);
  api = new RuntimeApi(haproxy.statsSocket);
  const target: TargetConfig = {
    template: "templates/haproxy.cfg.hbs",
    dest: haproxy.cfg,
    commandTimeoutMs: 10_000,
    haproxy: { runtimeSocket: haproxy.statsSocket, masterSocket: haproxy.masterSocket },
  };
  activator = createHaproxyActivator(target, log);
});
afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await haproxy?.stop();
});

describe("createHaproxyActivator with the shipped template and a real HAProxy", () => {
  it("routes a new backend live through the Runtime API, without a new worker", async () => {
    const before = await worker();
    const [a] = backends as [HttpBackend];
    const previous = await readFile(haproxy.cfg, "utf8");
    const next = template.render(renderContext({ web: [["127.0.0.1", a.port]] }));
    // Live means before dest is written: only the running HAProxy knows the server yet.
    expect(await activator.applyLive?.({ previous, next, change: noChange })).toEqual({
      method: "runtime-api",
      detail: "1 added, 0 removed",
    });
    expect(await get(haproxy.port)).toEqual({ status: 200, body: `port ${a.port}` });
    expect(await worker()).toEqual(before);
    await writeFile(haproxy.cfg, next);
  });

  it("unroutes a gone backend at once and deletes its server in the background", async () => {
    const before = await worker();
    const [a] = backends as [HttpBackend];
    expect(await apply(renderContext({ web: [] }))).toEqual({
      method: "runtime-api",
      detail: "0 added, 1 removed",
    });
    expect((await get(haproxy.port)).status).toBe(503);
    await waitFor(async () => (await serverRows()).length === 0, 2000, 5);
    expect(await worker()).toEqual(before);
    expect(lines.filter((l) => l.msg === "drained server deleted")).toEqual([
      {
        level: 20,
        target: haproxy.cfg,
        server: `be_web/b127_0_0_1_${a.port}`,
        msg: "drained server deleted",
      },
    ]);
  });

  it("keeps a gone server that still has a connection in maintenance, and deletes it once it finished", async () => {
    const slow = await startSlowFirstBackend();
    try {
      await apply(renderContext({ web: [["127.0.0.1", slow.port]] }));
      const pending = get(haproxy.port);
      await waitFor(
        async () => (await api.run("show sess")).includes(`srv=b127_0_0_1_${slow.port}`),
        2000,
        5,
      );
      await apply(renderContext({ web: [] }));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await serverRows()).toEqual([{ name: `b127_0_0_1_${slow.port}`, adminState: 1 }]);
      slow.release();
      expect(await pending).toEqual({ status: 200, body: `port ${slow.port}` });
      await waitFor(async () => (await serverRows()).length === 0, 3000, 5);
    } finally {
      slow.release();
      await slow.close();
    }
  });

  it("enables a backend that comes back while its old server still drains, instead of adding it twice", async () => {
    const slow = await startSlowFirstBackend();
    try {
      const up = renderContext({ web: [["127.0.0.1", slow.port]] });
      await apply(up);
      const pending = get(haproxy.port);
      await waitFor(
        async () => (await api.run("show sess")).includes(`srv=b127_0_0_1_${slow.port}`),
        2000,
        5,
      );
      await apply(renderContext({ web: [] }));
      expect(await apply(up)).toEqual({ method: "runtime-api", detail: "1 added, 0 removed" });
      expect(await serverRows()).toEqual([{ name: `b127_0_0_1_${slow.port}`, adminState: 0 }]);
      expect(await get(haproxy.port)).toEqual({ status: 200, body: `port ${slow.port}` });
      slow.release();
      expect(await pending).toEqual({ status: 200, body: `port ${slow.port}` });
      await apply(renderContext({ web: [] }));
    } finally {
      slow.release();
      await slow.close();
    }
  });

  it("reloads through the master CLI when more than server lines changed, and logs why", async () => {
    const [a, b] = backends as [HttpBackend, HttpBackend];
    const before = await worker();
    const result = await apply(renderContext({ api: [["127.0.0.1", b.port]], web: [["127.0.0.1", a.port]] }));
    expect(result).toEqual({
      method: "reload",
      detail:
        'line 32 "use_backend be_api if { req.hdr(host),field(1,:),lower,field(1,.) -m str api }" changed outside the servers of a backend',
    });
    expect(lines.filter((l) => l.msg === "reloading HAProxy").at(-1)).toEqual({
      level: 30,
      target: haproxy.cfg,
      reason: result.detail,
      msg: "reloading HAProxy",
    });
    expect(await worker()).not.toEqual(before);
    expect(await get(haproxy.port, { host: "web.example" })).toEqual({ status: 200, body: `port ${a.port}` });
    expect(await get(haproxy.port, { host: "api:80" })).toEqual({ status: 200, body: `port ${b.port}` });
  });

  it("falls back to a reload when the Runtime API refuses a change, and the reload applies it", async () => {
    const [a, b] = backends as [HttpBackend, HttpBackend];
    // The running HAProxy lacks backend be_extra that the file claims: "add server" fails.
    const withExtra = renderContext({
      api: [["127.0.0.1", b.port]],
      extra: [],
      web: [["127.0.0.1", a.port]],
    });
    await writeFile(haproxy.cfg, template.render(withExtra));
    const result = await apply(
      renderContext({
        api: [["127.0.0.1", b.port]],
        extra: [["127.0.0.1", b.port]],
        web: [["127.0.0.1", a.port]],
      }),
    );
    expect(result).toEqual({
      method: "reload",
      detail: `Runtime API: ${haproxy.statsSocket}: "add server be_extra/b127_0_0_1_${b.port} 127.0.0.1:${b.port}" failed: No such backend.`,
    });
    expect(await get(haproxy.port, { host: "extra" })).toEqual({ status: 200, body: `port ${b.port}` });
  });
});
