/**
 * A real load balancer plus `bin/lbwatch run` as a child process, wired as an operator would: the
 * shipped template (or a variant of it), `check` with the load balancer's own validator, and for
 * HAProxy the Runtime API and master CLI sockets. Backends belong to service "web" when a node
 * process (uid 0) listens on one of the 100 ports of a pid-based block.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { compileTemplateText } from "../../src/render/template.js";
import {
  type LbwatchOptions,
  type LbwatchRun,
  portBlock,
  startRun,
  type Workspace,
} from "../cli/lbwatch-process.js";
import { childrenOf, freePort, type RunningHaproxy, startHaproxy } from "../helpers/haproxy.js";
import { renderContext } from "../helpers/render-context.js";

export const TEMPLATES = new URL("../../templates/", import.meta.url).pathname;

export interface Harness {
  /** First port of service web's 100. */
  base: number;
  ws: Workspace;
  run: LbwatchRun;
  /** The "target applied" log lines so far. */
  applied(): Record<string, unknown>[];
  stop(): Promise<void>;
}

function workspace(dir: string, dest: string, template: string): Workspace {
  return {
    dir,
    config: join(dir, "lbwatch.yaml"),
    template,
    dest,
    marker: join(dir, "unused"),
    reloads: async () => 0,
    readDest: () => readFile(dest, "utf8").catch(() => undefined),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Service name → its rule's YAML lines (without indentation). */
export type ServiceLines = Record<string, string[]>;

/** The harness's default: service web on the block's 100 ports, for root's node or python3 processes. */
const webService = (base: number): ServiceLines => ({
  web: [`ports: [${base}-${base + 99}]`, "uid: [0]", 'comm: ["node*", "python3"]'],
});

async function writeConfig(
  ws: Workspace,
  services: ServiceLines,
  target: string[],
  resync = "0",
  extra: string[] = [],
): Promise<void> {
  const lines = [
    "wait: { min: 5ms, max: 100ms }",
    `resync: ${resync}`,
    ...extra,
    "services:",
    // A service without rule lines is one fed only by other sources (etcd).
    ...Object.entries(services).flatMap(([name, rule]) =>
      rule.length === 0 ? [`  ${name}: {}`] : [`  ${name}:`, ...rule.map((l) => `    ${l}`)],
    ),
    "targets:",
    ...target.map((l) => `  ${l}`),
    "",
  ];
  await writeFile(ws.config, lines.join("\n"));
}

const argv = (list: string[]) => `[${list.map((a) => JSON.stringify(a)).join(", ")}]`;

async function start(
  ws: Workspace,
  base: number,
  cleanup: () => Promise<void>,
  options: LbwatchOptions = {},
): Promise<Harness> {
  const run = await startRun(ws, [], options).catch(async (err: unknown) => {
    await cleanup();
    throw err;
  });
  return {
    base,
    ws,
    run,
    applied: () => run.logs().filter((l) => l.msg === "target applied"),
    async stop() {
      await run.stop();
      await cleanup();
    },
  };
}

/**
 * HAProxy started on the render of its services without backends, then lbwatch. `edit` may change
 * the template text first (the copy lives in the workspace, so a test can also edit it while lbwatch
 * runs); `services` replaces the default service web (given the port block's first port); `resync`
 * sets that key (default 0: off); `extra` adds top-level config lines (`sources:`); `files` adds a
 * plain file target per entry (template text → dest NAME in the workspace, no check, no reload);
 * `run` is handed to startRun (how long lbwatch may live).
 */
export async function startHaproxyHarness(
  slot: number,
  options: {
    edit?: (template: string) => string;
    wrap?: (argv: string[]) => string[];
    services?: (base: number) => ServiceLines;
    resync?: string;
    extra?: string[];
    files?: Record<string, string>;
    run?: LbwatchOptions;
  } = {},
): Promise<Harness & { haproxy: RunningHaproxy }> {
  const base = portBlock(slot);
  const services = (options.services ?? webService)(base);
  const source = await readFile(join(TEMPLATES, "haproxy.cfg.hbs"), "utf8");
  const empty = renderContext(Object.fromEntries(Object.keys(services).map((name) => [name, []])));
  const haproxy = await startHaproxy(compileTemplateText(source, "haproxy.cfg.hbs").render(empty), options);
  const ws = workspace(haproxy.dir, haproxy.cfg, join(haproxy.dir, "haproxy.cfg.hbs"));
  await writeFile(ws.template, options.edit ? options.edit(source) : source);
  const files = Object.entries(options.files ?? {});
  for (const [name, text] of files) await writeFile(join(ws.dir, `${name}.hbs`), text);
  await writeConfig(
    ws,
    services,
    [
      "- template: haproxy.cfg.hbs",
      "  dest: haproxy.cfg",
      `  check: ${argv(["haproxy", "-c", "-f", "{staged}"])}`,
      `  haproxy: { runtimeSocket: ${haproxy.statsSocket}, masterSocket: ${haproxy.masterSocket} }`,
      ...files.flatMap(([name]) => [`- template: ${name}.hbs`, `  dest: ${name}`]),
    ],
    options.resync,
    options.extra,
  );
  const harness = await start(ws, base, () => haproxy.stop(), options.run);
  return { ...harness, haproxy };
}

/**
 * nginx (foreground master, pid file in the workspace) on `listen` of the shipped template, then
 * lbwatch; `services` replaces the default service web, as for HAProxy.
 */
export async function startNginxHarness(
  slot: number,
  options: { services?: (base: number) => ServiceLines } = {},
): Promise<Harness & { port: number; processes(): Promise<number> }> {
  const base = portBlock(slot);
  const services = (options.services ?? webService)(base);
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "lbwatch-nginx-"));
  const ws = workspace(dir, join(dir, "nginx.conf"), join(dir, "nginx.conf.hbs"));
  // The shipped template listens on port 80: the test's copy listens on a loopback port of its block.
  const source = (await readFile(join(TEMPLATES, "nginx.conf.hbs"), "utf8")).replaceAll(
    "listen 80;",
    `listen 127.0.0.1:${port};`,
  );
  await writeFile(ws.template, source);
  const empty = renderContext(Object.fromEntries(Object.keys(services).map((name) => [name, []])));
  await writeFile(ws.dest, compileTemplateText(source, ws.template).render(empty));
  const pid = `pid ${join(dir, "nginx.pid")};`;
  const nginx = execa("nginx", ["-c", ws.dest, "-g", `${pid} daemon off;`], {
    reject: false,
    stdin: "ignore",
  });
  await writeConfig(ws, services, [
    "- template: nginx.conf.hbs",
    "  dest: nginx.conf",
    `  check: ${argv(["nginx", "-t", "-q", "-c", "{staged}", "-g", pid])}`,
    `  reload: ${argv(["nginx", "-c", ws.dest, "-g", pid, "-s", "reload"])}`,
  ]);
  const stopNginx = async () => {
    nginx.kill("SIGTERM");
    await nginx;
    await ws.remove();
  };
  const harness = await start(ws, base, stopNginx);
  return { ...harness, port, processes: async () => 1 + (await childrenOf(nginx.pid ?? 0)).length };
}
