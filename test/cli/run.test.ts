import { chmod, readFile, writeFile } from "node:fs/promises";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { describeEbpf } from "../helpers/ebpf.js";
import { type ListenerProcess, startListenerProcess } from "../helpers/listener-process.js";
import { createRoutedNetns, type TestNetns } from "../helpers/netns.js";
import {
  createWorkspace,
  type LbwatchRun,
  portBlock,
  startRun,
  until,
  type Workspace,
} from "./lbwatch-process.js";

/** Opens `count` listeners on 127.0.0.1 from port `from` in one tick of one process; stdin EOF ends it. */
const MANY_LISTENERS = `
const net = require("net");
const [from, count] = process.argv.slice(1).map(Number);
let ready = 0;
for (let i = 0; i < count; i++) net.createServer().listen(from + i, "127.0.0.1", () => ++ready === count && console.log("ready"));
process.stdin.on("end", () => process.exit(0)).resume();`;

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

async function setup(slot: number, flags: string[] = [], template?: string) {
  const base = portBlock(slot);
  const ws = await createWorkspace({ ports: `${base}-${base + 99}`, ...(template ? { template } : {}) });
  cleanups.push(() => ws.remove());
  const run = await startRun(ws, flags);
  cleanups.push(() => run.stop());
  return { base, ws, run };
}

async function listen(addr: string, port: number, netns?: TestNetns): Promise<ListenerProcess> {
  const listener = await startListenerProcess({ addr, port, backlog: 16, ...(netns ? { netns } : {}) });
  cleanups.push(() => listener.stop());
  return listener;
}

const destHas = (ws: Workspace, text: string) => async () => (await ws.readDest())?.includes(text) === true;
const applied = (run: LbwatchRun) => run.logs().filter((l) => l.msg === "target applied");

describe("lbwatch run without privileges", () => {
  it("fails with E_BPF_PERM naming the capabilities, before anything else", async () => {
    const base = portBlock(9);
    const ws = await createWorkspace({ ports: `${base}-${base + 9}` });
    cleanups.push(() => ws.remove());
    await chmod(ws.dir, 0o777);
    const result = await runCli(["run", "-c", ws.config], { asUser: 65534 });
    expect([result.exitCode, result.stderr]).toEqual([
      1,
      expect.stringMatching(/^lbwatch: E_BPF_PERM: .*CAP_BPF\+CAP_PERFMON/),
    ]);
  });
});

describeEbpf("lbwatch run (real probe, child process)", () => {
  it("adds a server that starts listening, runs the reload argv, removes it when killed, and exits 0 on SIGTERM", async () => {
    const { base, ws, run } = await setup(0);
    const reloadsAtStart = await ws.reloads();
    const listener = await listen("127.0.0.1", base + 1);
    expect(await until(destHas(ws, `127.0.0.1:${base + 1}`))).toBe(true);
    expect(await ws.readDest()).toBe(`server b127_0_0_1_${base + 1} 127.0.0.1:${base + 1}\n`);
    expect(await until(async () => (await ws.reloads()) === reloadsAtStart + 1)).toBe(true);
    const line = await run.waitForLog(
      (l) => l.msg === "target applied" && (l.added as string[]).length === 1,
    );
    expect(line).toMatchObject({
      target: ws.dest,
      added: [`b127_0_0_1_${base + 1}`],
      removed: [],
      write: "rename",
    });
    expect(line.latencyMs).toBeGreaterThan(0);
    // The shebang's V8 heap sizing reached node (README, Memory): env -S split it into its own word.
    const argv = (await readFile(`/proc/${run.pid}/cmdline`, "utf8")).split("\0");
    expect(argv).toEqual(expect.arrayContaining(["--max-semi-space-size=8", "--heap-growing-percent=50"]));

    process.kill(listener.pid, "SIGKILL");
    expect(await until(async () => (await ws.readDest()) === "")).toBe(true);
    expect(await until(async () => (await ws.reloads()) === reloadsAtStart + 2)).toBe(true);
    expect(await run.stop()).toBe(0);
  });

  it("applies 50 listeners started at once in one or two renders, not 50", async () => {
    const { base, ws, run } = await setup(1);
    // The start-up's own first apply (of no backends) is not part of the burst: under load it can
    // come after "lbwatch running".
    expect(await until(() => applied(run).length >= 1)).toBe(true);
    const before = { reloads: await ws.reloads(), applied: applied(run).length };
    const many = execa(process.execPath, ["-e", MANY_LISTENERS, String(base), "50"], {
      reject: false,
      timeout: 30_000,
    });
    cleanups.push(async () => {
      many.stdin?.end();
      await many;
    });
    const allThere = async () => ((await ws.readDest()) ?? "").split("\n").filter(Boolean).length === 50;
    expect(await until(allThere)).toBe(true);
    const renders = () => applied(run).length - before.applied;
    expect(await until(() => renders() >= 1)).toBe(true);
    // Anything still to come from this burst would be logged within `wait.max` plus a reload.
    await new Promise((r) => setTimeout(r, 1000));
    expect([renders() >= 1 && renders() <= 2, (await ws.reloads()) - before.reloads]).toEqual([
      true,
      renders(),
    ]);
  });

  it("with --dry-run prints the unified diff of each change and never touches dest or reloads", async () => {
    const base = portBlock(2);
    const ws = await createWorkspace({ ports: `${base}-${base + 99}` });
    cleanups.push(() => ws.remove());
    await writeFile(ws.dest, "# written by hand\n");
    const run = await startRun(ws, ["--dry-run"]);
    cleanups.push(() => run.stop());
    await listen("127.0.0.1", base + 5);
    const added = `+server b127_0_0_1_${base + 5} 127.0.0.1:${base + 5}`;
    expect(await until(() => run.stdout().includes(added))).toBe(true);
    expect(run.stdout()).toContain(`--- ${ws.dest}\tcurrent\n+++ ${ws.dest}\trendered\n`);
    expect(run.stdout()).toContain(`-# written by hand\n${added}\n`);
    expect([await ws.readDest(), await ws.reloads()]).toEqual(["# written by hand\n", 0]);
  });

  it("re-renders at once when the template is edited", async () => {
    const { base, ws } = await setup(3);
    await listen("127.0.0.1", base + 7);
    expect(await until(destHas(ws, `127.0.0.1:${base + 7}`))).toBe(true);
    await writeFile(ws.template, "{{#each services.web.backends}}backend-v2 {{endpoint}}\n{{/each}}");
    expect(await until(async () => (await ws.readDest()) === `backend-v2 127.0.0.1:${base + 7}\n`)).toBe(
      true,
    );
  });

  it("keeps the last good output and keeps running when an edited template has a syntax error", async () => {
    const { base, ws, run } = await setup(4);
    await listen("127.0.0.1", base + 1);
    expect(await until(destHas(ws, `127.0.0.1:${base + 1}`))).toBe(true);
    await writeFile(ws.template, "ok\n{{#each services.web.backends}}\nserver {{endpoint}}\n");
    const error = await run.waitForLog((l) => l.msg === "template not recompiled: keeping the last good one");
    expect(error).toMatchObject({ template: ws.template, code: "E_TEMPLATE" });
    expect(error.error).toMatch(new RegExp(`^${ws.template}:\\d+:\\d+: `));
    // Still running, still on the last good template.
    await listen("127.0.0.1", base + 2);
    expect(await until(destHas(ws, `127.0.0.1:${base + 2}`))).toBe(true);
    expect(await ws.readDest()).toBe(
      `server b127_0_0_1_${base + 1} 127.0.0.1:${base + 1}\nserver b127_0_0_1_${base + 2} 127.0.0.1:${base + 2}\n`,
    );
  });

  it("keeps a backend whose line fails the check out of dest, applies the others, and forgets it once it closes", async () => {
    const template = `{{#each services.web.backends}}server {{endpoint}}{{#if (eq port ${portBlock(5) + 66})}} POISON{{/if}}\n{{/each}}`;
    const { base, ws, run } = await setup(5, [], template);
    const poison = await listen("127.0.0.1", base + 66);
    const quarantined = await run.waitForLog(
      (l) => l.msg === "backend quarantined: the target's check fails with it; kept out until it closes",
    );
    expect(quarantined).toMatchObject({
      target: ws.dest,
      service: "web",
      backend: `b127_0_0_1_${base + 66}`,
      uid: 0,
    });
    expect(String(quarantined.checker)).toContain("exited with 3");
    await listen("127.0.0.1", base + 3);
    expect(await until(async () => (await ws.readDest()) === `server 127.0.0.1:${base + 3}\n`)).toBe(true);
    expect(
      run.logs().filter((l) => l.code === "E_CHECK_FAILED" && l.msg !== undefined && l.level === 50),
    ).toEqual([]);
    // Closed, it leaves quarantine: a new process on that port is tried again (and kept out again).
    await poison.stop();
    const again = await listen("127.0.0.1", base + 66);
    await until(async () => run.logs().filter((l) => l.backend === `b127_0_0_1_${base + 66}`).length === 2);
    expect(run.logs().filter((l) => l.backend === `b127_0_0_1_${base + 66}`)).toHaveLength(2);
    await again.stop();
  });

  it("keeps the last good dest and retries with backoff when the check fails whatever the backends", async () => {
    const { base, ws, run } = await setup(8, [], "POISON {{len services.web.backends}}\n");
    const before = { dest: await ws.readDest(), reloads: await ws.reloads() };
    await listen("127.0.0.1", base + 1);
    const failed = await run.waitForLog((l) => l.code === "E_CHECK_FAILED");
    expect(failed).toMatchObject({
      target: ws.dest,
      exitCode: 3,
      timedOut: false,
      msg: "target not applied: retrying with backoff",
    });
    expect(failed.nextRetryMs).toBeGreaterThan(0);
    expect([await ws.readDest(), await ws.reloads()]).toEqual([before.dest, before.reloads]);
    // Logged once per state, not once per retry.
    await new Promise((r) => setTimeout(r, 800));
    expect(run.logs().filter((l) => l.msg === "target not applied: retrying with backoff")).toHaveLength(1);
  });

  it("lists a listener in a netns with a veth to the host on its veth address and refuses a loopback-only one", async () => {
    const subnet = 240 + (process.pid % 15);
    const netns = await createRoutedNetns("run", subnet);
    cleanups.push(() => netns.destroy());
    const { base, ws, run } = await setup(6);
    await listen("127.0.0.1", base + 1, netns);
    await listen("0.0.0.0", base + 2, netns);
    expect(await until(destHas(ws, `:${base + 2}`))).toBe(true);
    expect(await ws.readDest()).toBe(
      `server b10_213_${subnet}_2_${base + 2} 10.213.${subnet}.2:${base + 2}\n`,
    );
    expect(await run.waitForLog((l) => l.msg === "listener refused as a backend")).toMatchObject({
      port: base + 1,
      reason: "127.0.0.1 is the loopback of another network namespace",
    });
  });

  it("reloads the config when the file is edited or on SIGHUP, keeping the running one when the edit is invalid", async () => {
    const base = portBlock(7);
    const ws = await createWorkspace({ ports: `${base}-${base + 9}` });
    cleanups.push(() => ws.remove());
    const run = await startRun(ws);
    cleanups.push(() => run.stop());
    const valid = await readFile(ws.config, "utf8");
    await listen("127.0.0.1", base + 50);

    await writeFile(ws.config, valid.replace("resync: 0", "resync: soon"));
    const rejected = await run.waitForLog((l) => l.msg === "config not reloaded: keeping the running one");
    expect(rejected).toMatchObject({
      reason: "file",
      code: "E_CONFIG",
      error: 'resync: "soon" is not a duration such as 20ms, 1s or 1m',
    });

    // A wider port range takes in the listener that was already up; resync every 300 ms.
    await writeFile(
      ws.config,
      valid.replace(`${base}-${base + 9}`, `${base}-${base + 99}`).replace("resync: 0", "resync: 300ms"),
    );
    expect(await until(destHas(ws, `127.0.0.1:${base + 50}`))).toBe(true);
    const resynced = await run.waitForLog((l) => l.msg === "resynced from a fresh view");
    expect(resynced).toMatchObject({ reason: "timer", listenersWrong: 0, backendsWrong: 0 });

    process.kill(run.pid, "SIGHUP");
    expect(await run.waitForLog((l) => l.msg === "config reloaded" && l.reason === "SIGHUP")).toMatchObject({
      services: 1,
      targets: 1,
    });
  });
});
