/**
 * Runs `bin/lbwatch` as a child process for the run/check tests, with a config, template and marker
 * file in a temp dir. Commands in the config are node argvs (never a shell): check fails when the
 * staged file contains "POISON"; reload appends a line to the marker file, so tests count reloads.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";

export const lbwatchBin = fileURLToPath(new URL("../../bin/lbwatch", import.meta.url));
const node = process.execPath;

export const SERVER_TEMPLATE = "{{#each services.web.backends}}server {{id}} {{endpoint}}\n{{/each}}";
const CHECK_SCRIPT = `process.exit(require("fs").readFileSync(process.argv[1], "utf8").includes("POISON") ? 3 : 0)`;
const RELOAD_SCRIPT = `require("fs").appendFileSync(process.argv[1], "reload\\n")`;

/** A block of 100 ports for this test file run: pid-based so concurrent runs by other engineers differ. */
export function portBlock(slot: number): number {
  return 10_000 + ((process.pid * 7 + slot * 100) % 20_000);
}

export interface Workspace {
  dir: string;
  config: string;
  template: string;
  dest: string;
  marker: string;
  reloads(): Promise<number>;
  readDest(): Promise<string | undefined>;
  remove(): Promise<void>;
}

export async function createWorkspace(options: {
  ports: string;
  template?: string;
  /** Config lines appended at the top level (e.g. `http: …`). */
  extra?: string;
}): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), "lbwatch-run-"));
  const ws: Workspace = {
    dir,
    config: join(dir, "lbwatch.yaml"),
    template: join(dir, "lb.hbs"),
    dest: join(dir, "lb.cfg"),
    marker: join(dir, "reloads"),
    async reloads() {
      const text = await readFile(ws.marker, "utf8").catch(() => "");
      return text.split("\n").filter(Boolean).length;
    },
    readDest: () => readFile(ws.dest, "utf8").catch(() => undefined),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
  await writeFile(ws.template, options.template ?? SERVER_TEMPLATE);
  const argv = (list: string[]) => `[${list.map((a) => JSON.stringify(a)).join(", ")}]`;
  await writeFile(
    ws.config,
    [
      "wait: { min: 30ms, max: 300ms }",
      "resync: 0",
      "services:",
      "  web:",
      `    ports: [${options.ports}]`,
      "    uid: [0]",
      "targets:",
      "  - template: lb.hbs",
      "    dest: lb.cfg",
      `    check: ${argv([node, "-e", CHECK_SCRIPT, "{staged}"])}`,
      `    reload: ${argv([node, "-e", RELOAD_SCRIPT, ws.marker])}`,
      ...(options.extra ? [options.extra] : []),
      "",
    ].join("\n"),
  );
  return ws;
}

/** A running `lbwatch run` (or `agent`), its stdout and its JSON log lines. */
export interface LbwatchRun {
  pid: number;
  stdout(): string;
  logs(): Record<string, unknown>[];
  /** Resolves with the first log line matching, within timeoutMs. */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** Sends a signal (SIGKILL for a crash, SIGSTOP/SIGCONT to freeze it). */
  signal(signal: NodeJS.Signals): void;
  /** Resolves with the exit code once the process is gone. */
  exited(): Promise<number | undefined>;
  /** SIGTERM, then the exit code (SIGKILL after 5 s). */
  stop(): Promise<number | undefined>;
}

export interface LbwatchOptions {
  /** Starts the argv elsewhere (a SimulatedHost's spawn, inside its namespace). */
  spawn?: (argv: string[], options: { env: Record<string, string> }) => ResultPromise;
  /** The log message that says it is ready (default "lbwatch running"), awaited for 20 s. */
  ready?: string;
  /** The process is killed after this long whatever happens (default 60 s). */
  timeoutMs?: number;
}

/** `bin/lbwatch ...args` at log level debug; resolves once it logged `ready`. */
export async function startLbwatch(args: string[], options: LbwatchOptions = {}): Promise<LbwatchRun> {
  const env = { LBWATCH_LOG_LEVEL: "debug" };
  const timeout = options.timeoutMs ?? 60_000;
  const child: ResultPromise = options.spawn
    ? options.spawn([lbwatchBin, ...args], { env })
    : execa(lbwatchBin, args, { reject: false, env, timeout });
  const bound = setTimeout(() => child.kill("SIGKILL"), timeout);
  bound.unref();
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const logs = () =>
    err
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const exited = async () => {
    const result = await child;
    clearTimeout(bound);
    return result.exitCode;
  };
  const run: LbwatchRun = {
    pid: child.pid ?? 0,
    stdout: () => out,
    logs,
    async waitForLog(match, timeoutMs = 10_000) {
      await until(() => logs().some(match) || child.exitCode !== null, timeoutMs);
      const found = logs().find(match);
      if (!found)
        throw new Error(`no matching log line within ${timeoutMs} ms; stderr:\n${err.slice(-3000)}`);
      return found;
    },
    signal: (signal) => child.kill(signal),
    exited,
    async stop() {
      child.kill("SIGCONT");
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      const code = await exited();
      clearTimeout(timer);
      return code;
    },
  };
  const ready = options.ready ?? "lbwatch running";
  await run
    .waitForLog((l) => l.msg === ready, 20_000)
    .catch(async (e: unknown) => {
      child.kill("SIGKILL");
      await child;
      throw e;
    });
  return run;
}

export function startRun(
  ws: Workspace,
  flags: string[] = [],
  options: LbwatchOptions = {},
): Promise<LbwatchRun> {
  return startLbwatch(["run", "-c", ws.config, ...flags], options);
}

/** Polls `what` every 20 ms until it holds or timeoutMs passes; returns whether it held. */
export async function until(what: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return what();
}
