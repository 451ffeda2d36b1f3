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

/** A running `lbwatch run`, its stdout and its JSON log lines. */
export interface LbwatchRun {
  pid: number;
  stdout(): string;
  logs(): Record<string, unknown>[];
  /** Resolves with the first log line matching, within timeoutMs. */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  /** SIGTERM, then the exit code (SIGKILL after 5 s). */
  stop(): Promise<number | undefined>;
}

export async function startRun(ws: Workspace, flags: string[] = []): Promise<LbwatchRun> {
  const child: ResultPromise = execa(lbwatchBin, ["run", "-c", ws.config, ...flags], {
    reject: false,
    env: { LBWATCH_LOG_LEVEL: "debug" },
    timeout: 60_000,
  });
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
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      const result = await child;
      clearTimeout(timer);
      return result.exitCode;
    },
  };
  await run.waitForLog((l) => l.msg === "lbwatch running", 20_000);
  return run;
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
