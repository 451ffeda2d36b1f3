import { writeFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { compileTemplate } from "../../src/render/template.js";
import { MasterCli } from "../../src/targets/haproxy/master-cli.js";
import { type RunningHaproxy, startHaproxy } from "../helpers/haproxy.js";
import { type HttpBackend, startHttpBackend, waitFor } from "../helpers/http.js";
import { renderContext } from "../helpers/render-context.js";
import { TEMPLATES } from "./lb-harness.js";

let haproxy: RunningHaproxy;
let backend: HttpBackend;
const template = await compileTemplate(`${TEMPLATES}haproxy.cfg.hbs`);

beforeAll(async () => {
  backend = await startHttpBackend();
  haproxy = await startHaproxy(template.render(renderContext({ web: [["127.0.0.1", backend.port]] })));
});
afterAll(async () => {
  await backend?.close();
  await haproxy?.stop();
});

/** A GET over a kept-alive connection: such clients are what keep old workers alive after a reload. */
function keepAliveGet(agent: Agent, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: "127.0.0.1", port, agent, headers: { host: "web" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    })
      .on("error", reject)
      .end();
  });
}

it("is back to master + one worker after 50 reloads with keep-alive clients connected", async () => {
  const master = new MasterCli(haproxy.masterSocket);
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  const statuses: number[] = [];
  for (let i = 0; i < 50; i++) {
    // A change HAProxy must reload for (a new backend section), so each round is a real reload.
    const services = { web: [["127.0.0.1", backend.port]] as [string, number][], [`s${i % 2}`]: [] };
    await writeFile(haproxy.cfg, template.render(renderContext(services)));
    await master.reload();
    statuses.push(await keepAliveGet(agent, haproxy.port));
  }
  expect(statuses.filter((s) => s !== 200)).toEqual([]);
  // Idle kept-alive connections stay open on the client side: old workers must still go away.
  await waitFor(async () => (await haproxy.processCount()) === 2, 10_000, 50);
  agent.destroy();
  const table = await master.showProc();
  expect({ reloads: table.master.reloads, workers: table.workers.length, old: table.oldWorkers }).toEqual({
    reloads: 50,
    workers: 1,
    old: [],
  });
});
