/**
 * The HTTP endpoint of a real `lbwatch run` (child process, real probe, real listeners), read with
 * real requests; `lbwatch status` against it; and the http.listen values `run` and `check` refuse.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeEbpf } from "../helpers/ebpf.js";
import { fetchPath, freePort, promtoolCheck, samples } from "../helpers/endpoint.js";
import { type ListenerProcess, startListenerProcess } from "../helpers/listener-process.js";
import {
  createWorkspace,
  type LbwatchRun,
  lbwatchBin,
  portBlock,
  SERVER_TEMPLATE,
  startRun,
  until,
  type Workspace,
} from "./lbwatch-process.js";

const cli = (args: string[]) => execa(lbwatchBin, args, { reject: false, timeout: 20_000 });
const destHas = (ws: Workspace, text: string) => async () => (await ws.readDest())?.includes(text) === true;

describeEbpf("lbwatch run with http.listen (real probe, child process)", () => {
  const base = portBlock(10);
  let ws: Workspace;
  let run: LbwatchRun;
  let at: { port: number };
  const listeners: ListenerProcess[] = [];
  const listen = async (port: number) => {
    const l = await startListenerProcess({ addr: "127.0.0.1", port, backlog: 16 });
    listeners.push(l);
    return l;
  };
  const metrics = async () => samples((await fetchPath(at, "/metrics")).body);
  const applied = () => run.logs().filter((l) => l.msg === "target applied");

  beforeAll(async () => {
    at = { port: await freePort() };
    ws = await createWorkspace({
      ports: `${base}-${base + 99}`,
      extra: `http: { listen: "127.0.0.1:${at.port}" }`,
    });
    run = await startRun(ws);
  });
  afterAll(async () => {
    for (const l of listeners) await l.stop().catch(() => undefined);
    await run?.stop();
    await ws?.remove();
  });

  it("is healthy once running; counters move as listeners come and go; one latency per applied change", async () => {
    expect(await fetchPath(at, "/healthz")).toMatchObject({ status: 200, body: "ok\n" });
    const before = await metrics();
    const a = await listen(base + 1);
    expect(await until(destHas(ws, `127.0.0.1:${base + 1}`))).toBe(true);
    await listen(base + 2);
    expect(await until(destHas(ws, `127.0.0.1:${base + 2}`))).toBe(true);
    await a.stop();
    expect(await until(async () => !(await destHas(ws, `127.0.0.1:${base + 1}`)()))).toBe(true);
    expect(await until(() => applied().length >= 4)).toBe(true);

    const after = await metrics();
    const moved = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    // Every listen and close on the machine counts, so at least ours.
    expect(moved('lbwatch_events_total{type="listen"}')).toBeGreaterThanOrEqual(2);
    expect(moved('lbwatch_events_total{type="close"}')).toBeGreaterThanOrEqual(1);
    expect(after.get('lbwatch_backends{service="web",source="local"}')).toBe(1);
    expect(after.get(`lbwatch_target_up{target="${ws.dest}"}`)).toBe(1);
    expect(after.get('lbwatch_source_connected{source="local"}')).toBe(1);
    // The first apply (the start-up view) has no kernel event behind it; each later one has one.
    const live = applied().filter((l) => l.latencyMs !== undefined);
    const withAdded = live.filter((l) => (l.added as string[]).length > 0).length;
    const withRemoved = live.filter((l) => (l.removed as string[]).length > 0).length;
    const count = (type: string) =>
      after.get(`lbwatch_event_to_routable_seconds_count{target="${ws.dest}",type="${type}"}`);
    expect([count("listen"), count("close")]).toEqual([withAdded, withRemoved]);
    expect([withAdded, withRemoved]).toEqual([2, 1]);
    expect(
      after.get(`lbwatch_target_applies_total{target="${ws.dest}",activation="reload",result="ok"}`),
    ).toBe(applied().length);
  });

  it("serves metrics that promtool check metrics accepts", async () => {
    const text = (await fetchPath(at, "/metrics")).body;
    expect(await promtoolCheck(text)).toEqual({ exitCode: 0, output: "" });
  });

  it("lists in /status the listeners `lbwatch ls --json` shows on the service's ports", async () => {
    await listen(base + 3);
    expect(await until(destHas(ws, `127.0.0.1:${base + 3}`))).toBe(true);
    const ls = await cli(["ls", "--json", "--port", `${base}-${base + 99}`]);
    const fromLs = (
      JSON.parse(ls.stdout) as { addr: string; port: number; pid: number; comm: string; uid: number }[]
    )
      .map((l) => ({ endpoint: `${l.addr}:${l.port}`, pid: l.pid, comm: l.comm, uid: l.uid }))
      .sort((x, y) => x.endpoint.localeCompare(y.endpoint));
    const status = JSON.parse((await fetchPath(at, "/status")).body) as {
      services: Record<
        string,
        { endpoint: string; pid: number; comm: string; uid: number; source: string }[]
      >;
    };
    const fromStatus = (status.services.web ?? [])
      .map(({ endpoint, pid, comm, uid }) => ({ endpoint, pid, comm, uid }))
      .sort((x, y) => x.endpoint.localeCompare(y.endpoint));
    expect(fromStatus).toEqual(fromLs);
    expect(fromStatus.map((b) => b.endpoint)).toEqual([`127.0.0.1:${base + 2}`, `127.0.0.1:${base + 3}`]);
  });

  it("`lbwatch status` summarises it and exits 0, and exits 1 while a target fails its check", async () => {
    const ok = await cli(["status", "-c", ws.config]);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain(`web      2         127.0.0.1:${base + 2} 127.0.0.1:${base + 3}\n`);
    expect(ok.stdout).toMatch(new RegExp(`^${ws.dest}  ok `, "m"));
    // The check refuses any render with POISON in it: the target retries, and is not up.
    await writeFile(ws.template, `POISON\n${SERVER_TEMPLATE}`);
    const down = async () => (await metrics()).get(`lbwatch_target_up{target="${ws.dest}"}`) === 0;
    expect(await until(down)).toBe(true);
    const failing = await cli(["status", "--url", `http://127.0.0.1:${at.port}`]);
    expect(failing.exitCode).toBe(1);
    expect(failing.stdout).toMatch(new RegExp(`^${ws.dest}  retrying \\(\\d+ failed\\)`, "m"));
    expect(failing.stdout).toContain("  last error ");
    expect(failing.stdout).toContain(": E_CHECK_FAILED: ");
    const json = await cli(["status", "--json", "--url", `127.0.0.1:${at.port}`]);
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout).targets[0]).toMatchObject({ target: ws.dest, state: "retrying" });
    await writeFile(ws.template, SERVER_TEMPLATE);
    expect(await until(async () => !(await down()))).toBe(true);
    expect((await cli(["status", "-c", ws.config])).exitCode).toBe(0);
  });
});

describe("lbwatch status without an endpoint, and with a bad URL", () => {
  it("exits 1 naming the URL when nothing answers, 2 for a URL it cannot use", async () => {
    const port = await freePort();
    expect(await cli(["status", "--url", `http://127.0.0.1:${port}`])).toMatchObject({
      exitCode: 1,
      stdout: "",
      stderr: `lbwatch: E_UNREACHABLE: http://127.0.0.1:${port}: nothing answers (ECONNREFUSED): is \`lbwatch run\` running, with http.listen set to this address?`,
    });
    expect(await cli(["status", "--url", "https://127.0.0.1:9369"])).toMatchObject({
      exitCode: 2,
      stderr: `lbwatch: E_USAGE: option '--url <url>': "https://127.0.0.1:9369" is not http: (lbwatch serves plain HTTP); e.g. http://127.0.0.1:9369 or unix:/run/lbwatch.sock`,
    });
  });
});

describe("bad http.listen values", () => {
  let ws: Workspace;
  beforeAll(async () => {
    ws = await createWorkspace({ ports: "8000" });
  });
  afterAll(() => ws.remove());

  const withListen = async (listen: string) => {
    const config = join(ws.dir, `http-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(
      config,
      `${await readFile(ws.config, "utf8")}http: { listen: ${JSON.stringify(listen)} }\n`,
    );
    return config;
  };

  it("are config errors that `check` and `run` report with the key and exit 2", async () => {
    const config = await withListen("localhost:9369");
    const line =
      'lbwatch: E_CONFIG: http.listen: "localhost:9369": "localhost" is not an IPv4 or [IPv6] address; use an IP address';
    expect(await cli(["check", "-c", config])).toMatchObject({
      exitCode: 2,
      stderr:
        'http.listen: "localhost:9369": "localhost" is not an IPv4 or [IPv6] address; use an IP address',
    });
    expect(await cli(["run", "-c", config])).toMatchObject({ exitCode: 2, stderr: line });
  });

  it("stop `run` at start-up with exit 2 when the port is in use", async () => {
    const port = await freePort();
    const other = createServer().listen(port, "127.0.0.1");
    await new Promise((resolve) => other.once("listening", resolve));
    try {
      const result = await cli(["run", "-c", await withListen(`127.0.0.1:${port}`)]);
      expect(result.exitCode).toBe(2);
      expect(result.stderr.split("\n").filter((l) => !l.startsWith("{"))).toEqual([
        `lbwatch: E_CONFIG: http.listen: 127.0.0.1:${port} is in use: stop what listens there or choose another address`,
      ]);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it("refuse a socket directory that cannot be written (a read-only mount, in a private mount namespace)", async () => {
    const locked = join(ws.dir, "locked");
    await mkdir(locked);
    const config = await withListen(`${locked}/lbwatch.sock`);
    // Root writes wherever permissions say no; a read-only mount refuses everyone.
    const script = `
      const { execFileSync, spawnSync } = require("node:child_process");
      const [dir, bin, config] = process.argv.slice(1);
      execFileSync("mount", ["--make-rprivate", "/"]);
      execFileSync("mount", ["--bind", dir, dir]);
      execFileSync("mount", ["-o", "remount,bind,ro", dir]);
      const r = spawnSync(bin, ["check", "-c", config], { encoding: "utf8" });
      process.stderr.write(r.stderr);
      process.exit(r.status ?? 1);`;
    const result = await execa(
      "unshare",
      ["--mount", "--propagation", "private", process.execPath, "-e", script, locked, lbwatchBin, config],
      {
        reject: false,
        timeout: 20_000,
      },
    );
    expect({ exitCode: result.exitCode, stderr: result.stderr }).toEqual({
      exitCode: 2,
      stderr: `http.listen: directory ${locked} is not writable by this user`,
    });
  });
});
