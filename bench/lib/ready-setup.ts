/**
 * The plumbing of bench/ready.ts: one contender's HAProxy on lbwatch's shipped template (every
 * candidate port declared as a server, or none and lbwatch in front), a client load, the backend
 * helper, and the few Runtime API reads the benchmark measures with (its own, not lbwatch's code).
 */
import { readFile, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Meta, ServiceRule } from "../../src/config/types.js";
import { makeBackend } from "../../src/registry/backend.js";
import { buildContext } from "../../src/render/context.js";
import { compileTemplateText } from "../../src/render/template.js";
import { Child } from "./children.js";
import { apiCommand, Haproxy, haproxyPaths } from "./haproxy.js";
import { BENCH_DIR, REPO_DIR, sleep } from "./helpers.js";

const TEMPLATE = join(REPO_DIR, "templates", "haproxy.cfg.hbs");
const BACKEND = join(BENCH_DIR, "helpers", "ready-backend.mjs");

export interface Setup {
  name: string;
  /** lbwatch's `ready:` (YAML); undefined for lbwatch without a gate. */
  gate?: string;
  meta: Meta;
  /** HAProxy alone, every candidate port declared as a server up front (health-check contenders). */
  declared?: boolean;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Running {
  frontend: number;
  haproxy: Haproxy;
  stop(): Promise<void>;
}

/** HAProxy on the shipped template's render (with every port declared, or none), then lbwatch unless declared. */
export async function start(setup: Setup, dir: string, ports: number[]): Promise<Running> {
  const paths = haproxyPaths(dir);
  const frontend = await freePort();
  const rule: ServiceRule = {
    name: "web",
    ports: ports.map((p) => ({ from: p, to: p })),
    netns: { kind: "any" },
  };
  rule.meta = setup.meta;
  const declared = (setup.declared ? ports : []).map((port, i) =>
    makeBackend(
      "bench",
      {
        key: `${port}`,
        service: "web",
        family: 4,
        address: "127.0.0.1",
        port,
        host: "bench",
        pid: 0,
        comm: "",
        uid: 0,
        netns: 0,
        backlog: 0,
        since: 0,
      },
      0,
      true,
      i + 1,
    ),
  );
  const source = await readFile(TEMPLATE, "utf8");
  await writeFile(paths.config, compileTemplateText(source, TEMPLATE).render(buildContext([rule], declared)));
  const env = {
    LBWATCH_HAPROXY_BIND: `127.0.0.1:${frontend}`,
    LBWATCH_HAPROXY_STATS_SOCKET: paths.runtimeSocket,
  };
  const haproxy = await Haproxy.start(paths, env);
  if (setup.declared) return { frontend, haproxy, stop: () => haproxy.stop() };
  const config = join(dir, "lbwatch.yaml");
  await writeFile(
    config,
    `resync: 0s
services:
  web:
    ports: [${ports.join(", ")}]
    uid: [0]
    meta: ${JSON.stringify(setup.meta)}
${setup.gate ? `    ready: ${setup.gate}\n` : ""}targets:
  - template: ${TEMPLATE}
    dest: ${paths.config}
    check: [haproxy, -c, -q, -f, "{staged}"]
    haproxy: { runtimeSocket: ${paths.runtimeSocket}, masterSocket: ${paths.masterSocket} }
`,
  );
  const lbwatch = Child.start(join(REPO_DIR, "bin", "lbwatch"), ["run", "-c", config], { env });
  const deadline = Date.now() + 20_000;
  while (!lbwatch.stderrLines().some((l) => l.msg === "lbwatch running")) {
    if (lbwatch.exited || Date.now() > deadline)
      throw new Error(`${setup.name}: lbwatch did not start: ${lbwatch.stderrTail}`);
    await sleep(20);
  }
  return { frontend, haproxy, stop: async () => void (await Promise.all([lbwatch.stop(), haproxy.stop()])) };
}

/** Clients in a loop on fresh connections, ~`perSecond` requests per second in all, until stopped. */
export function clientLoad(port: number, perSecond: number): () => Promise<void> {
  let running = true;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = request(
        { host: "127.0.0.1", port, path: "/", headers: { host: "web" }, agent: false, timeout: 2000 },
        (res) => {
          res.resume();
          res.on("end", resolve);
        },
      );
      req.on("timeout", () => req.destroy());
      req.on("error", () => resolve());
      req.end();
    });
  const clients = 4;
  const loops = Array.from({ length: clients }, async () => {
    while (running) {
      await one();
      await sleep((clients * 1000) / perSecond);
    }
  });
  return async () => {
    running = false;
    await Promise.all(loops);
  };
}

export const startBackend = async (port: number, readyAfterMs: number) => {
  const backend = Child.start(process.execPath, [BACKEND, String(port), String(readyAfterMs)]);
  await backend.waitFor((l) => l.listening === true, 10_000);
  return backend;
};

/** `srv_op_state` of the server on `port` in be_web (2 running, 0 stopped), or undefined when absent. */
export async function opState(haproxy: Haproxy, port: number): Promise<number | undefined> {
  const answer = await apiCommand(haproxy.paths.runtimeSocket, "show servers state be_web");
  const row = answer.split("\n").find((l) => /^\d/.test(l) && l.split(" ")[18] === String(port));
  return row === undefined ? undefined : Number(row.split(" ")[5]);
}

export async function until(what: () => Promise<boolean>, timeoutMs: number, everyMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}
