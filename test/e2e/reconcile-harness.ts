/**
 * A lbwatch + HAProxy pair whose parts a test starts, kills and restarts on its own: HAProxy may be
 * absent when lbwatch starts, be SIGKILLed and come back from whatever file it is given, and lbwatch
 * may be SIGKILLed and started again on the same config. Both use one directory, as on a real host.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { type LbwatchRun, lbwatchBin, portBlock, startRun, type Workspace } from "../cli/lbwatch-process.js";
import { freePort, type RunningHaproxy, serversState, startHaproxy } from "../helpers/haproxy.js";
import { TEMPLATES } from "./lb-harness.js";

export interface Pair {
  base: number;
  dir: string;
  ws: Workspace;
  /** HAProxy's frontend port, the same across restarts. */
  port: number;
  haproxy: RunningHaproxy | undefined;
  lbwatch: LbwatchRun | undefined;
  /** Starts HAProxy from `cfg` (default: what dest holds now). */
  startHaproxy(cfg?: string): Promise<RunningHaproxy>;
  startLbwatch(): Promise<LbwatchRun>;
  /** `lbwatch run --once` as a child process. */
  once(): Promise<{ exitCode: number | undefined; stderr: string }>;
  /** Names of be_web's servers that take traffic (ready, not in maintenance), sorted. */
  routable(): Promise<string[]>;
  staged(): Promise<string[]>;
  stop(): Promise<void>;
}

const argv = (list: string[]) => `[${list.map((a) => JSON.stringify(a)).join(", ")}]`;

export async function startPair(
  slot: number,
  options: { resync?: string; check?: string[]; targetExtra?: string[] } = {},
): Promise<Pair> {
  const base = portBlock(slot);
  const dir = await mkdtemp(join(tmpdir(), "lbwatch-pair-"));
  const port = await freePort();
  const dest = join(dir, "haproxy.cfg");
  const ws: Workspace = {
    dir,
    config: join(dir, "lbwatch.yaml"),
    template: join(dir, "haproxy.cfg.hbs"),
    dest,
    marker: join(dir, "unused"),
    reloads: async () => 0,
    readDest: () => readFile(dest, "utf8").catch(() => undefined),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
  await writeFile(ws.template, await readFile(join(TEMPLATES, "haproxy.cfg.hbs"), "utf8"));
  await writeFile(
    ws.config,
    [
      "wait: { min: 5ms, max: 100ms }",
      `resync: ${options.resync ?? "0"}`,
      "services:",
      "  web:",
      `    ports: [${base}-${base + 99}]`,
      "    uid: [0]",
      '    comm: ["node*", "python3"]',
      "targets:",
      "  - template: haproxy.cfg.hbs",
      "    dest: haproxy.cfg",
      `    check: ${argv(options.check ?? ["haproxy", "-c", "-f", "{staged}"])}`,
      `    haproxy: { runtimeSocket: ${join(dir, "admin.sock")}, masterSocket: ${join(dir, "master.sock")} }`,
      ...(options.targetExtra ?? []).map((l) => `    ${l}`),
      "",
    ].join("\n"),
  );
  const pair: Pair = {
    base,
    dir,
    ws,
    port,
    haproxy: undefined,
    lbwatch: undefined,
    async startHaproxy(cfg) {
      if (cfg !== undefined) await writeFile(dest, cfg);
      pair.haproxy = await startHaproxy(undefined, { dir, port });
      return pair.haproxy;
    },
    async startLbwatch() {
      pair.lbwatch = await startRun(ws);
      return pair.lbwatch;
    },
    async once() {
      const result = await execa(lbwatchBin, ["run", "--once", "-c", ws.config], {
        reject: false,
        timeout: 30_000,
      });
      return { exitCode: result.exitCode, stderr: result.stderr };
    },
    async routable() {
      const servers = await serversState(join(dir, "admin.sock"), "be_web");
      return servers
        .filter((s) => (s.adminState & 0x23) === 0)
        .map((s) => s.name)
        .sort();
    },
    async staged() {
      // The applied and draining records stay beside dest; staged files are the others.
      return (await readdir(dir)).filter(
        (f) => f.includes(".lbwatch-") && !f.endsWith("-applied") && !f.endsWith("-draining"),
      );
    },
    async stop() {
      await pair.lbwatch?.stop();
      await pair.haproxy?.kill().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return pair;
}

export const serverName = (port: number) => `b127_0_0_1_${port}`;
