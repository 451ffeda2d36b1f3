import { readFile, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TargetConfig } from "../../../src/config/types.js";
import type { RenderContext } from "../../../src/render/context.js";
import { compileTemplate } from "../../../src/render/template.js";
import type { Activator } from "../../../src/targets/activator.js";
import { createHaproxyActivator } from "../../../src/targets/haproxy/activator.js";
import { MasterCli } from "../../../src/targets/haproxy/master-cli.js";
import { type RunningHaproxy, startHaproxy } from "../../helpers/haproxy.js";
import { get, type HttpBackend, startHttpBackend } from "../../helpers/http.js";
import { renderContext } from "../../helpers/render-context.js";
import { captureLog } from "../capture-log.js";

const template = await compileTemplate(
  new URL("../../../templates/haproxy.cfg.hbs", import.meta.url).pathname,
);
const noChange = { added: [], removed: [] };

let haproxy: RunningHaproxy;
let master: MasterCli;
let backends: HttpBackend[];
let activator: Activator;
const { log, lines } = captureLog();

/** What the pipeline does before activating: write the render over dest, then activate. */
async function apply(context: RenderContext) {
  const previous = await readFile(haproxy.cfg, "utf8");
  const next = template.render(context);
  await writeFile(haproxy.cfg, next);
  return activator.activate({ previous, next, dest: haproxy.cfg, change: noChange });
}

const worker = async () => (await master.showProc()).workers;

beforeAll(async () => {
  backends = [await startHttpBackend(), await startHttpBackend()];
  haproxy = await startHaproxy(template.render(renderContext({ web: [] })));
  master = new MasterCli(haproxy.masterSocket);
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
  it("routes a new backend through the Runtime API, without a new worker", async () => {
    const before = await worker();
    const [a] = backends as [HttpBackend];
    expect(await apply(renderContext({ web: [["127.0.0.1", a.port]] }))).toEqual({
      method: "runtime-api",
      detail: "1 added, 0 removed",
    });
    expect(await get(haproxy.port)).toEqual({ status: 200, body: `port ${a.port}` });
    expect(await worker()).toEqual(before);
  });

  it("unroutes a gone backend through the Runtime API: the service answers 503", async () => {
    const before = await worker();
    expect(await apply(renderContext({ web: [] }))).toEqual({
      method: "runtime-api",
      detail: "0 added, 1 removed",
    });
    expect((await get(haproxy.port)).status).toBe(503);
    expect(await worker()).toEqual(before);
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
    expect(lines.at(-1)).toEqual({
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
