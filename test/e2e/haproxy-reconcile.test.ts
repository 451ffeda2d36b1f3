/**
 * Issue 8's reproductions: lbwatch brings HAProxy back to the live listeners after any failure,
 * restart or crash, its own or HAProxy's, instead of trusting what it applied last.
 */
import { readFile, rename, writeFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { execa } from "execa";
import { afterEach, expect, it } from "vitest";
import { compileTemplate } from "../../src/render/template.js";
import { sendCommand } from "../../src/targets/haproxy/cli-socket.js";
import { until } from "../cli/lbwatch-process.js";
import { describeEbpf } from "../helpers/ebpf.js";
import { serversState } from "../helpers/haproxy.js";
import { get } from "../helpers/http.js";
import { renderContext } from "../helpers/render-context.js";
import { type BackendProcess, startBackend } from "./backend-process.js";
import { type Pair, serverName, startPair } from "./reconcile-harness.js";

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

async function pair(slot: number, options?: Parameters<typeof startPair>[1]): Promise<Pair> {
  const p = await startPair(slot, options);
  cleanups.push(() => p.stop());
  return p;
}

/**
 * Puts a proxy between lbwatch and HAProxy's admin socket that drops the connection instead of
 * passing on the first `enable server`: the add has run, the enable has not. `refuseAfter`: then it
 * refuses every connection until `open()` (HAProxy out of lbwatch's reach).
 */
async function cutFirstEnable(p: Pair, options: { refuseAfter?: boolean } = {}) {
  const socket = `${p.dir}/admin.sock`;
  const real = `${socket}.real`;
  await rename(socket, real);
  let armed = true;
  let refusing = false;
  const proxy = createServer({ allowHalfOpen: true }, (client) => {
    if (refusing) return void client.destroy();
    const upstream = connect({ path: real, allowHalfOpen: true });
    const drop = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("data", (chunk) => {
      if (!armed || !chunk.toString().includes("enable server")) return void upstream.write(chunk);
      armed = false;
      refusing = options.refuseAfter === true;
      drop();
    });
    upstream.on("data", (chunk) => client.write(chunk));
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    for (const end of [client, upstream]) end.on("error", drop);
  });
  await new Promise<void>((resolve) => proxy.listen(socket, resolve));
  cleanups.push(() => new Promise((resolve) => proxy.close(resolve)));
  return {
    real,
    done: () => !armed,
    open: () => {
      refusing = false;
    },
  };
}

async function backend(port: number): Promise<BackendProcess> {
  const b = await startBackend("127.0.0.1", port);
  cleanups.push(() => b.kill());
  return b;
}

const served = async (p: Pair, port: number) => {
  for (let i = 0; i < 6; i++)
    if ((await get(p.port, { host: "web" }).catch(() => undefined))?.body === `port ${port}`) return true;
  return false;
};

const admin = (p: Pair, command: string) => sendCommand(`${p.dir}/admin.sock`, command, { timeoutMs: 2000 });

describeEbpf("lbwatch and a HAProxy that is not running yet", () => {
  it("run --once writes dest, says the load balancer is not running, exits 0, and HAProxy starts from it", async () => {
    const p = await pair(40);
    const a = await backend(p.base + 1);
    const result = await p.once();
    expect([result.exitCode, result.stderr]).toEqual([
      0,
      expect.stringContaining("load balancer not running"),
    ]);
    expect(await p.ws.readDest()).toContain(`server ${serverName(a.port)} 127.0.0.1:${a.port}`);
    await p.startHaproxy();
    expect(await served(p, a.port)).toBe(true);
  });

  it("run waits for HAProxy, and reconciles it once it starts: also changes made while it was down", async () => {
    const p = await pair(41);
    const a = await backend(p.base + 1);
    const run = await p.startLbwatch();
    await run.waitForLog(
      (l) => l.msg === "load balancer not running: waiting for it (dest is kept for it to start from)",
    );
    expect(
      await until(async () => (await p.ws.readDest())?.includes(serverName(a.port)) === true, 3000),
    ).toBe(true);
    // HAProxy starts from a file without a: a stale file, as after a change lbwatch could not yet write.
    const stale = (await p.ws.readDest())?.replace(/^\s*server .*\n/gm, "") ?? "";
    await p.startHaproxy(stale);
    expect(await until(async () => (await p.routable()).includes(serverName(a.port)), 5000)).toBe(true);
    const b = await backend(p.base + 2);
    expect(await until(async () => (await p.routable()).includes(serverName(b.port)), 3000)).toBe(true);
    expect(await served(p, b.port)).toBe(true);
  });
});

describeEbpf("lbwatch and a HAProxy that is killed and restarted", () => {
  it("converges a HAProxy restarted from a stale file without any backend change", async () => {
    const p = await pair(42);
    await p.startHaproxy(await renderEmpty(p));
    const a = await backend(p.base + 1);
    const b = await backend(p.base + 2);
    await p.startLbwatch();
    expect(await until(async () => (await p.routable()).length === 2, 5000)).toBe(true);
    const before = (await p.ws.readDest()) ?? "";
    await p.haproxy?.kill();
    await a.kill();
    const c = await backend(p.base + 3);
    // Restarted from the file as it was before: it runs a (dead) and lacks c.
    const restartedAt = Date.now();
    await p.startHaproxy(before);
    const want = [serverName(b.port), serverName(c.port)].sort();
    expect(await until(async () => JSON.stringify(await p.routable()) === JSON.stringify(want), 5000)).toBe(
      true,
    );
    console.log(`HAProxy restarted from a stale file → converged: ${Date.now() - restartedAt} ms`);
  });
});

describeEbpf("lbwatch killed between a live add and the write behind it", () => {
  it("takes the server out of rotation after restart, and leaves no staged file", async () => {
    // A check that takes 3 s: the window between the live add and the file.
    const slowCheck = [
      process.execPath,
      "-e",
      "setTimeout(() => process.exit(require('child_process').spawnSync('haproxy', ['-c', '-f', process.argv[1]]).status), 3000)",
      "{staged}",
    ];
    const p = await pair(43, { check: slowCheck });
    await p.startHaproxy(await renderEmpty(p));
    const run = await p.startLbwatch();
    const a = await backend(p.base + 1);
    expect(await until(async () => (await p.routable()).includes(serverName(a.port)), 3000)).toBe(true);
    await until(async () => (await p.staged()).length > 0, 2000);
    process.kill(run.pid, "SIGKILL");
    await run.stop();
    expect(await p.staged()).not.toEqual([]);
    await a.kill();
    await p.startLbwatch();
    expect(await until(async () => !(await p.routable()).includes(serverName(a.port)), 5000)).toBe(true);
    expect(await until(async () => (await p.staged()).length === 0, 10_000)).toBe(true);
  });
});

describeEbpf("lbwatch and what an operator or a script does to HAProxy behind its back", () => {
  it("keeps a server the operator put in maintenance out of rotation across its backend's restart", async () => {
    const p = await pair(44);
    await p.startHaproxy(await renderEmpty(p));
    const run = await p.startLbwatch();
    let a = await backend(p.base + 1);
    expect(await until(async () => (await p.routable()).includes(serverName(a.port)), 3000)).toBe(true);
    expect(await admin(p, `set server be_web/${serverName(a.port)} state maint`)).toBe("\n");
    const applied = (field: "added" | "removed") =>
      run.logs().filter((l) => l.msg === "target applied" && String(l[field]).includes(serverName(a.port)))
        .length;
    await a.kill();
    expect(await until(() => applied("removed") === 1, 3000)).toBe(true);
    a = await backend(p.base + 1);
    expect(await until(() => applied("added") === 2, 3000)).toBe(true);
    expect(await p.routable()).not.toContain(serverName(a.port));
    // Once the operator sets it ready, it is lbwatch's again.
    await admin(p, `set server be_web/${serverName(a.port)} state ready`);
    expect(await served(p, a.port)).toBe(true);
  });

  it("sets an operator's maintenance and drain again after a reload of its own", async () => {
    const p = await pair(56);
    await p.startHaproxy(await renderEmpty(p));
    const run = await p.startLbwatch();
    const [a, b, c] = [await backend(p.base + 1), await backend(p.base + 2), await backend(p.base + 3)];
    expect(await until(async () => (await p.routable()).length === 3, 3000)).toBe(true);
    await admin(p, `set server be_web/${serverName(a.port)} state maint`);
    await admin(p, `set server be_web/${serverName(b.port)} state drain`);
    // A change outside the servers: only a reload applies it, and the new workers start afresh.
    await writeFile(
      p.ws.template,
      (await readFile(p.ws.template, "utf8")).replace("timeout client 30s", "timeout client 31s"),
    );
    await run.waitForLog((l) => l.msg === "target applied" && l.activation === "reload", 10_000);
    const stateOf = async () =>
      Object.fromEntries(
        (await serversState(`${p.dir}/admin.sock`, "be_web")).map((s) => [s.name, s.adminState & 0x09]),
      );
    const want = { [serverName(a.port)]: 0x01, [serverName(b.port)]: 0x08, [serverName(c.port)]: 0 };
    expect(await until(async () => JSON.stringify(await stateOf()) === JSON.stringify(want), 5000)).toBe(
      true,
    );
    expect(await served(p, c.port)).toBe(true);
  });

  it("takes back, after a crash, the maintenance its predecessor put a closing backend in", async () => {
    const p = await pair(47);
    await p.startHaproxy(await renderEmpty(p));
    let run = await p.startLbwatch();
    let a = await backend(p.base + 1);
    const name = serverName(a.port);
    expect(await until(async () => (await p.routable()).includes(name), 3000)).toBe(true);
    await a.kill();
    // Killed inside the 500 ms before the delete: HAProxy keeps the server in maintenance.
    const record = `${p.dir}/.haproxy.cfg.lbwatch-draining`;
    const recorded = async () => (await readFile(record, "utf8").catch(() => "")).includes(`be_web/${name}`);
    expect(await until(recorded, 400)).toBe(true);
    process.kill(run.pid, "SIGKILL");
    await run.stop();
    a = await backend(p.base + 1);
    expect(await admin(p, "show servers state be_web")).toMatch(new RegExp(`${name} 127\\.0\\.0\\.1 0 1 `));
    run = await p.startLbwatch();
    // Not an operator's maintenance: routed again, and no longer recorded once it is.
    expect(await until(async () => (await p.routable()).includes(name), 3000)).toBe(true);
    expect(await served(p, a.port)).toBe(true);
    expect(await until(async () => !(await recorded()), 2000)).toBe(true);
  });

  it("keeps its own maintenance its own through a Runtime API outage: the backend is routed when it listens again", async () => {
    const p = await pair(50);
    await p.startHaproxy(await renderEmpty(p));
    const run = await p.startLbwatch();
    let a = await backend(p.base + 1);
    const name = serverName(a.port);
    expect(await until(async () => (await p.routable()).includes(name), 3000)).toBe(true);
    await a.kill();
    const socket = `${p.dir}/admin.sock`;
    const hidden = `${socket}.hidden`;
    const inMaintenance = async (sock: string) =>
      new RegExp(`${name} 127\\.0\\.0\\.1 0 1 `).test(
        await sendCommand(sock, "show servers state be_web", { timeoutMs: 2000 }),
      );
    expect(await until(() => inMaintenance(socket), 400)).toBe(true);
    // Inside the 500 ms before the delete: the socket goes away and lbwatch's connection is closed.
    await rename(socket, hidden);
    const sessions = await sendCommand(hidden, "show sess", { timeoutMs: 2000 });
    for (const [, id] of sessions.matchAll(/^(0x[0-9a-f]+): .*fe=GLOBAL/gm))
      await sendCommand(hidden, `shutdown session ${id}`, { timeoutMs: 2000 }).catch(() => "");
    expect(await inMaintenance(hidden)).toBe(true);
    expect(
      await until(() => run.logs().some((l) => String(l.msg).includes("load balancer not running")), 3000),
    ).toBe(true);
    await rename(hidden, socket);
    expect(await until(() => run.logs().some((l) => l.msg === "target recovered"), 3000)).toBe(true);
    const gone = async () => !(await admin(p, "show servers state be_web")).includes(name);
    expect(await until(gone, 5000)).toBe(true);
    a = await backend(p.base + 1);
    // Not taken for an operator's maintenance when lbwatch saw HAProxy again.
    expect(await until(async () => (await p.routable()).includes(name), 3000)).toBe(true);
    expect(await served(p, a.port)).toBe(true);
  });

  it("routes a server whose enable was lost with its connection, instead of keeping it in the maintenance add server made", async () => {
    const p = await pair(51);
    await p.startHaproxy(await renderEmpty(p));
    const cut = await cutFirstEnable(p);
    await p.startLbwatch();
    const a = await backend(p.base + 1);
    const name = serverName(a.port);
    expect(await until(async () => cut.done(), 3000)).toBe(true);
    expect(await until(async () => (await p.routable()).includes(name), 3000)).toBe(true);
    expect(await served(p, a.port)).toBe(true);
  });

  it("tells its successor that maintenance is its own when killed before it could reconcile", async () => {
    const p = await pair(52);
    await p.startHaproxy(await renderEmpty(p));
    const cut = await cutFirstEnable(p, { refuseAfter: true });
    const run = await p.startLbwatch();
    const a = await backend(p.base + 1);
    const name = serverName(a.port);
    expect(await until(async () => cut.done(), 3000)).toBe(true);
    const record = `${p.dir}/.haproxy.cfg.lbwatch-draining`;
    const recorded = async () => (await readFile(record, "utf8").catch(() => "")).includes(`be_web/${name}`);
    expect(await until(recorded, 2000)).toBe(true);
    process.kill(run.pid, "SIGKILL");
    await run.stop();
    const state = await sendCommand(cut.real, "show servers state be_web", { timeoutMs: 2000 });
    expect(state).toMatch(new RegExp(`${name} 127\\.0\\.0\\.1 0 1 `));
    cut.open();
    await p.startLbwatch();
    expect(await until(async () => (await p.routable()).includes(name), 3000)).toBe(true);
    expect(await served(p, a.port)).toBe(true);
  });

  it("removes a server added by hand and restores one deleted by hand, at the next resync", async () => {
    const p = await pair(45, { resync: "500ms" });
    await p.startHaproxy(await renderEmpty(p));
    const run = await p.startLbwatch();
    const a = await backend(p.base + 1);
    expect(await until(async () => (await p.routable()).includes(serverName(a.port)), 3000)).toBe(true);
    await admin(p, "add server be_web/by_hand 127.0.0.1:9");
    await admin(p, "enable server be_web/by_hand");
    await admin(p, `set server be_web/${serverName(a.port)} state maint`);
    await admin(p, `del server be_web/${serverName(a.port)}`);
    expect(await p.routable()).toEqual(["by_hand"]);
    expect(
      await until(
        async () => JSON.stringify(await p.routable()) === JSON.stringify([serverName(a.port)]),
        5000,
      ),
    ).toBe(true);
    // HAProxy runs the repair before lbwatch's log line about it has come through the pipe.
    expect(
      await run.waitForLog((l) => l.msg === "HAProxy differed from the desired servers: repaired", 2000),
    ).toMatchObject({
      added: [serverName(a.port)],
      removed: ["by_hand"],
    });
  });
});

describeEbpf("lbwatch's account of what it did", () => {
  it("after a restart, names exactly the one server it added and the one it removed", async () => {
    const p = await pair(48);
    await p.startHaproxy(await renderEmpty(p));
    const first = await p.startLbwatch();
    const backends = await Promise.all(Array.from({ length: 9 }, (_, i) => backend(p.base + 1 + i)));
    expect(await until(async () => (await p.routable()).length === 9, 5000)).toBe(true);
    await first.stop();
    await backends[0]?.kill();
    const extra = await backend(p.base + 20);
    const second = await p.startLbwatch();
    expect(
      await until(
        async () =>
          (await p.routable()).length === 9 && (await p.routable()).includes(serverName(extra.port)),
        5000,
      ),
    ).toBe(true);
    // HAProxy runs the change before lbwatch's log line about it has come through the pipe.
    await second.waitForLog((l) => l.msg === "target applied", 2000);
    const applied = second.logs().filter((l) => l.msg === "target applied");
    expect(applied.map((l) => [l.added, l.removed])).toEqual([
      [[serverName(extra.port)], [serverName(p.base + 1)]],
    ]);
  });

  it("counts nothing as wrong at a resync while listeners open and close during its snapshot", async () => {
    const p = await pair(49, { resync: "200ms" });
    await p.startHaproxy(await renderEmpty(p));
    const run = await p.startLbwatch();
    const churn = execa(process.execPath, ["-e", CHURN, String(p.base + 50), "40"], {
      reject: false,
      timeout: 20_000,
    });
    cleanups.push(async () => churn.kill());
    const resyncs = () => run.logs().filter((l) => l.msg === "resynced from a fresh view");
    expect(await until(() => resyncs().length >= 8, 10_000)).toBe(true);
    churn.kill();
    const wrong = resyncs().filter((l) => l.listenersWrong !== 0 || l.backendsWrong !== 0);
    if (wrong.length) console.log(JSON.stringify(wrong));
    expect(wrong).toEqual([]);
    expect(resyncs().every((l) => l.level === 20)).toBe(true);
  });
});

describeEbpf("lbwatch stopping", () => {
  it("exits within 2 s of SIGTERM while a check that ignores SIGTERM runs", async () => {
    const hung = [
      process.execPath,
      "-e",
      "process.on('SIGTERM', () => {}); setTimeout(() => {}, 30000)",
      "{staged}",
    ];
    const p = await pair(46, { check: hung });
    await p.startHaproxy(await renderEmpty(p));
    const run = await p.startLbwatch();
    await backend(p.base + 1);
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    expect(await run.stop()).toBe(0);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

/** Listens on and closes argv[2] … argv[2]+argv[3]-1 over and over: four loops, ~1 ms apart each. */
const CHURN = `const net = require("net"); const base = Number(process.argv[1]); const n = Number(process.argv[2]);
const cycle = (i) => { const s = net.createServer(); s.listen(base + (i % n), "127.0.0.1", () => s.close(() => setTimeout(() => cycle(i + 1), 1))); s.on("error", () => setTimeout(() => cycle(i + 1), 1)); };
for (let k = 0; k < 4; k++) cycle(k * 10);`;

/** The shipped template rendered with service web empty, as a HAProxy's first config. */
async function renderEmpty(p: Pair): Promise<string> {
  return (await compileTemplate(p.ws.template)).render(renderContext({ web: [] }));
}
