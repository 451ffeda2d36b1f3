/**
 * `make demo`: HAProxy (master-worker, sockets in a temp dir) + `lbwatch run` with the example config
 * + three small HTTP backends started one after another; one is then stopped. For each, prints the
 * time from listen() to the first request routed to it through HAProxy, from close() to HAProxy taking
 * it out of rotation, and whether the Runtime API or a reload applied the change. Cleans up after itself.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import { parse, stringify } from "yaml";
import { readProcNetTcp } from "../../src/probe/proc-net-tcp.js";
import { RuntimeClient } from "../../src/targets/haproxy/runtime-client.js";
import { RuntimeConnection } from "../../src/targets/haproxy/runtime-connection.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const DEADLINE_MS = 50_000;
const started = Date.now();
const children: ResultPromise[] = [];

const BACKEND = `const http = require("http"); const port = Number(process.argv[1]);
let served = false; const now = () => performance.timeOrigin + performance.now();
const s = http.createServer((q, r) => { if (!served) console.log("served " + now()); served = true; r.end("hello from backend " + port); });
s.listen(port, "127.0.0.1", () => console.log("listening " + (performance.timeOrigin + performance.now())));
process.stdin.on("end", () => { const at = performance.timeOrigin + performance.now(); s.close(() => { console.log("closed " + at); process.exit(0); }); }).resume();`;

function spawn(file: string, args: string[], env: Record<string, string> = {}): ResultPromise {
  const child = execa(file, args, { env, reject: false, stdin: "pipe" });
  children.push(child);
  return child;
}

function line(child: ResultPromise, prefix: string, stream: "stdout" | "stderr" = "stdout"): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const found = text.split("\n").find((l) => l.includes(prefix));
      if (found) {
        child[stream]?.off("data", onData);
        resolve(found);
      }
    };
    child[stream]?.on("data", onData);
    child.then((r) => reject(new Error(`${r.command} exited: ${String(r.stderr).slice(-800)}`)));
  });
}

/**
 * A port nobody listens on, read from /proc rather than by trying to listen: a trial listen on a port
 * of the example service would itself become a backend for a moment.
 */
async function freePort(from: number, to: number): Promise<number> {
  const taken = new Set((await readProcNetTcp("self", { listenOnly: true })).map((e) => e.port));
  for (let port = from; port <= to; port++) if (!taken.has(port)) return port;
  throw new Error(`no free port in ${from}-${to}`);
}

async function until(what: () => Promise<boolean>, withinMs = 5000): Promise<number> {
  const t0 = performance.timeOrigin + performance.now();
  while (performance.timeOrigin + performance.now() - t0 < withinMs) {
    if (await what().catch(() => false)) return performance.timeOrigin + performance.now();
    await sleep(1);
  }
  throw new Error(`condition not met within ${withinMs} ms`);
}

/** Keeps 4 requests in flight through `get` until `done` settles (at most 5 s): a new server gets one soon. */
async function untilSettled(done: Promise<unknown>, get: () => Promise<unknown>): Promise<void> {
  let settled = false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("backend not served within 5000 ms")), 5000);
  });
  const finished = Promise.race([done, timeout]).finally(() => {
    settled = true;
    clearTimeout(timer);
  });
  const client = async () => {
    while (!settled) await get().catch(() => undefined);
  };
  await Promise.all([finished, client(), client(), client(), client()]);
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "lbwatch-demo-"));
  try {
    // The example config, pointed at this temp dir, this repo's template and this user's backends.
    const config = parse(await readFile(join(root, "examples/haproxy/lbwatch.yaml"), "utf8"));
    const target = config.targets[0];
    target.template = join(root, "templates/haproxy.cfg.hbs");
    target.dest = join(dir, "haproxy.cfg");
    target.haproxy = { runtimeSocket: join(dir, "admin.sock"), masterSocket: join(dir, "master.sock") };
    config.services.web.uid = [process.getuid?.() ?? 0];
    // The demo's backends are its own children, not processes of web.service.
    delete config.services.web.cgroup;
    await writeFile(join(dir, "lbwatch.yaml"), stringify(config));

    const lbPort = await freePort(18080, 18180);
    const env = {
      LBWATCH_HAPROXY_BIND: `127.0.0.1:${lbPort}`,
      LBWATCH_HAPROXY_STATS_SOCKET: target.haproxy.runtimeSocket,
    };
    // lbwatch first, as on a fresh host: HAProxy has no config yet; lbwatch writes the one it starts from.
    const lbwatch = spawn(join(root, "bin/lbwatch"), ["run", "-c", join(dir, "lbwatch.yaml")]);
    const logs: Record<string, unknown>[] = [];
    lbwatch.stderr?.on("data", (chunk: Buffer) => {
      for (const l of chunk.toString().split("\n")) if (l.startsWith("{")) logs.push(JSON.parse(l));
    });
    await line(lbwatch, '"load balancer not running', "stderr");
    console.log(
      `lbwatch running with examples/haproxy/lbwatch.yaml; HAProxy not yet: dest written to ${target.dest}`,
    );
    const haproxy = spawn(
      "haproxy",
      ["-W", "-db", "-S", target.haproxy.masterSocket, "-f", target.dest],
      env,
    );
    await line(haproxy, "Loading success", "stderr");
    console.log(`HAProxy (master-worker) started from it on 127.0.0.1:${lbPort}, sockets in ${dir}\n`);

    const get = async () =>
      (await fetch(`http://127.0.0.1:${lbPort}/`, { headers: { connection: "close" } })).text();
    // In rotation: listed and not in maintenance (a gone server is deleted once its connections end).
    const connection = new RuntimeConnection(target.haproxy.runtimeSocket);
    const api = new RuntimeClient(connection);
    const inRotation = async (port: number) =>
      (await api.serversState("be_web")).some((s) => s.port === port && (s.adminState & 1) === 0);
    const method = (id: string, key: "added" | "removed") =>
      String(
        logs.find((l) => l.msg === "target applied" && (l[key] as string[]).includes(id))?.activation ?? "?",
      );

    // Node loads its fetch implementation on first use: not a cost to time against lbwatch.
    await get();
    const rows: string[][] = [];
    const backends: { port: number; child: ResultPromise }[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort(8000 + i * 30, 8029 + i * 30);
      const child = spawn(process.execPath, ["-e", BACKEND, String(port)]);
      const served = line(child, "served");
      const listenedAt = Number((await line(child, "listening")).split(" ")[1]);
      // The backend stamps its first request itself; requests keep coming until it was served.
      await untilSettled(served, get);
      const routedAt = Number((await served).split(" ")[1]);
      const id = `b127_0_0_1_${port}`;
      await until(async () => method(id, "added") !== "?");
      rows.push([String(port), `${(routedAt - listenedAt).toFixed(1)} ms`, method(id, "added")]);
      console.log(
        `backend ${port}: listening → routed through HAProxy in ${(routedAt - listenedAt).toFixed(1)} ms (${method(id, "added")})`,
      );
      backends.push({ port, child });
    }
    const gone = backends[1] as { port: number; child: ResultPromise };
    const closing = line(gone.child, "closed");
    gone.child.stdin?.end();
    const closedAt = Number((await closing).split(" ")[1]);
    const unroutedAt = await until(async () => !(await inRotation(gone.port)));
    const how = await until(async () => method(`b127_0_0_1_${gone.port}`, "removed") !== "?").then(() =>
      method(`b127_0_0_1_${gone.port}`, "removed"),
    );
    console.log(
      `backend ${gone.port}: closed → out of HAProxy in ${(unroutedAt - closedAt).toFixed(1)} ms (${how})`,
    );
    const answers = new Set<string>();
    for (let i = 0; i < 10; i++) answers.add(await get());
    console.log(`\nrequests now reach: ${[...answers].sort().join(", ")}`);
    console.log("\nbackend  listen→routed  applied by");
    for (const [port, ms, by] of rows) console.log(`${port.padEnd(8)} ${ms.padStart(13)}  ${by}`);
    console.log(
      `${gone.port.toString().padEnd(8)} close→unrouted ${(unroutedAt - closedAt).toFixed(1)} ms  ${how}`,
    );
    await connection.close();
  } finally {
    for (const child of children.reverse()) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await child;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
    console.log(`\ncleaned up (demo took ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
}

const watchdog = setTimeout(() => {
  console.error(`demo: not done after ${DEADLINE_MS / 1000} s, giving up`);
  for (const child of children) child.kill("SIGKILL");
  process.exit(1);
}, DEADLINE_MS);
main().then(
  () => clearTimeout(watchdog),
  (err: unknown) => {
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
    clearTimeout(watchdog);
  },
);
