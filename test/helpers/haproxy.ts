/**
 * A real HAProxy in master-worker mode for tests: sockets and config under a temp dir, the frontend on
 * a free loopback port. The shipped template reads its bind address and stats socket from the
 * environment (LBWATCH_HAPROXY_BIND, LBWATCH_HAPROXY_STATS_SOCKET), which `env` holds for any
 * other process (lbwatch's `haproxy -c`) that must see the same values.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa, type ResultPromise } from "execa";
import { sendCommand } from "../../src/targets/haproxy/cli-socket.js";
import { parseServersState, type ServerState } from "../../src/targets/haproxy/runtime-answers.js";

/**
 * A minimal HTTP config for startHaproxy(): the stats socket at level admin, short timeouts, and one
 * frontend bound where the environment says, ending with `frontendTail` (its routing) and `rest`.
 */
export function minimalConfig(frontendTail: string, rest = ""): string {
  return `global
    stats socket "\${LBWATCH_HAPROXY_STATS_SOCKET}" level admin
defaults
    mode http
    timeout connect 200ms
    timeout client 5s
    timeout server 5s
frontend fe
    bind "\${LBWATCH_HAPROXY_BIND}"
    ${frontendTail}
${rest}`;
}

export interface RunningHaproxy {
  dir: string;
  cfg: string;
  masterSocket: string;
  statsSocket: string;
  port: number;
  env: Record<string, string>;
  pid: number;
  /** The master and every process it started that is still alive (workers, old workers). */
  processCount(): Promise<number>;
  /** SIGKILL of the master and its workers (a crash); the dir and its config stay for a restart. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** A port nothing listens on right now (the kernel's pick, released at once). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

export async function childrenOf(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // Field 4 (ppid) follows "pid (comm) state"; comm may hold spaces, so split after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] !== "Z" && Number(fields[1]) === pid) found.push(Number(entry));
  }
  return found;
}

/**
 * Starts HAProxy on `config` (text, written to dir/haproxy.cfg) and waits until both its sockets answer.
 * `dir` (default: a new temp dir) lets a test start a HAProxy again on the sockets of one that died;
 * with `config` undefined it starts from the haproxy.cfg already there (a restart from a stale file),
 * and `port` keeps the frontend where it was.
 */
export async function startHaproxy(
  config: string | undefined,
  options: { wrap?: (argv: string[]) => string[]; dir?: string; port?: number } = {},
): Promise<RunningHaproxy> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "lbwatch-haproxy-")));
  await mkdir(dir, { recursive: true });
  const cfg = join(dir, "haproxy.cfg");
  const masterSocket = join(dir, "master.sock");
  const statsSocket = join(dir, "admin.sock");
  const port = options.port ?? (await freePort());
  const env = { LBWATCH_HAPROXY_BIND: `127.0.0.1:${port}`, LBWATCH_HAPROXY_STATS_SOCKET: statsSocket };
  if (config !== undefined) await writeFile(cfg, config);
  // `wrap` may run it elsewhere (`ip netns exec NAME ...`, which execs in place: the pid stays HAProxy's).
  const [file, ...args] = (options.wrap ?? ((a) => a))([
    "haproxy",
    "-W",
    "-db",
    "-S",
    masterSocket,
    "-f",
    cfg,
  ]);
  const child: ResultPromise = execa(file as string, args, {
    env,
    reject: false,
    stdin: "ignore",
  });
  const stop = async () => {
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await child;
    clearTimeout(timer);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    // The worker answers on the stats socket before the master has opened its CLI: wait for both.
    const worker = await sendCommand(statsSocket, "show info", { timeoutMs: 500 }).catch(() => "");
    const master = await sendCommand(masterSocket, "show proc", { timeoutMs: 500 }).catch(() => "");
    if (worker.includes("Pid:") && master.includes("worker")) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      const result = await child;
      throw new Error(`haproxy did not start: ${result.stderr || result.stdout}`);
    }
    await sleep(20);
  }
  const pid = child.pid ?? 0;
  return {
    dir,
    cfg,
    masterSocket,
    statsSocket,
    port,
    env,
    pid,
    processCount: async () => 1 + (await childrenOf(pid)).length,
    async kill() {
      const workers = await childrenOf(pid);
      child.kill("SIGKILL");
      for (const w of workers) process.kill(w, "SIGKILL");
      await child;
    },
    stop,
  };
}

/** `show servers state` of a running HAProxy, parsed as lbwatch parses it. */
export async function serversState(statsSocket: string, backend?: string): Promise<ServerState[]> {
  const command = backend ? `show servers state ${backend}` : "show servers state";
  return parseServersState(await sendCommand(statsSocket, command, { timeoutMs: 2000 }), statsSocket);
}
