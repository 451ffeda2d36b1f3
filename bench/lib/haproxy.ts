/**
 * One HAProxy 2.6 in master-worker mode for a contender: started in the foreground as a tracked child,
 * with a master CLI socket (reloads) and a stats socket at level admin (Runtime API, `show stat`).
 * The bench keeps its own few-line API client so its measurements do not depend on the code measured.
 */
import { connect } from "node:net";
import { join } from "node:path";
import { Child } from "./children.js";

export interface HaproxyPaths {
  config: string;
  masterSocket: string;
  runtimeSocket: string;
}

export function haproxyPaths(dir: string): HaproxyPaths {
  return {
    config: join(dir, "haproxy.cfg"),
    masterSocket: join(dir, "master.sock"),
    runtimeSocket: join(dir, "api.sock"),
  };
}

/** One command per connection: the socket answers and closes. */
export function apiCommand(socket: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let out = "";
    const timer = setTimeout(() => conn.destroy(new Error(`${socket}: "${command}" timed out`)), timeoutMs);
    conn.on("connect", () => conn.write(`${command}\n`));
    conn.on("data", (d) => {
      out += d.toString();
    });
    conn.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    conn.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

export interface ServerStat {
  backend: string;
  server: string;
  addr: string;
  status: string;
  /** Sessions the server was given plus connection errors and retries: grows whenever HAProxy tries it. */
  attempts: number;
}

/** Server rows of `show stat` (CSV, header names from its first line). */
export function parseShowStat(csv: string): ServerStat[] {
  const lines = csv.split("\n").filter((l) => l.length > 0);
  const header = (lines[0] ?? "").replace(/^# /, "").split(",");
  const col = (name: string) => header.indexOf(name);
  const [px, sv, st, addr, stot, econ, wretr] = [
    "pxname",
    "svname",
    "status",
    "addr",
    "stot",
    "econ",
    "wretr",
  ].map(col) as number[];
  const rows: ServerStat[] = [];
  for (const line of lines.slice(1)) {
    const f = line.split(",");
    const server = f[sv as number] ?? "";
    if (server === "FRONTEND" || server === "BACKEND") continue;
    rows.push({
      backend: f[px as number] ?? "",
      server,
      addr: f[addr as number] ?? "",
      status: f[st as number] ?? "",
      attempts:
        Number(f[stot as number] || 0) + Number(f[econ as number] || 0) + Number(f[wretr as number] || 0),
    });
  }
  return rows;
}

/** A row of `show servers state` (format version 1), the fields the benchmarks compare. */
export interface ServerState {
  backend: string;
  server: string;
  addr: string;
  port: number;
  opState: number;
  adminState: number;
}

/** Up (or warming up) and in no maintenance or drain: HAProxy sends it traffic. */
export const isReady = (s: ServerState) => (s.opState === 2 || s.opState === 1) && s.adminState === 0;

/** `show servers state` rows, columns by the header's names. */
export function parseServersState(text: string): ServerState[] {
  const lines = text.split("\n");
  const header = (lines[1] ?? "").replace(/^# /, "").split(" ");
  const [be, sv, addr, op, admin, port] = [
    "be_name",
    "srv_name",
    "srv_addr",
    "srv_op_state",
    "srv_admin_state",
    "srv_port",
  ].map((c) => header.indexOf(c)) as number[];
  if (lines[0] !== "1" || [be, sv, addr, op, admin, port].some((i) => (i as number) < 0))
    throw new Error(`show servers state: unexpected answer ${JSON.stringify(text.slice(0, 200))}`);
  const rows: ServerState[] = [];
  for (const line of lines.slice(2)) {
    if (line === "" || line.startsWith("#")) continue;
    const f = line.split(" ");
    rows.push({
      backend: f[be as number] ?? "",
      server: f[sv as number] ?? "",
      addr: f[addr as number] ?? "",
      port: Number(f[port as number]),
      opState: Number(f[op as number]),
      adminState: Number(f[admin as number]),
    });
  }
  return rows;
}

export class Haproxy {
  readonly paths: HaproxyPaths;
  readonly child: Child;

  private constructor(paths: HaproxyPaths, child: Child) {
    this.paths = paths;
    this.child = child;
  }

  /** Starts haproxy on paths.config and waits until the Runtime API answers. */
  static async start(paths: HaproxyPaths, env: Record<string, string>): Promise<Haproxy> {
    const argv = ["-W", "-db", "-f", paths.config, "-S", `${paths.masterSocket},mode,600`];
    const child = Child.start("haproxy", argv, { env, stderrLines: false });
    const h = new Haproxy(paths, child);
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exited) throw new Error(`haproxy exited at start: ${child.stderrTail}`);
      const ok = await apiCommand(paths.runtimeSocket, "show info", 1000).then(
        (out) => out.includes("Pid:"),
        () => false,
      );
      if (ok) return h;
      if (Date.now() > deadline)
        throw new Error(`haproxy did not answer on ${paths.runtimeSocket}: ${child.stderrTail}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Server rows of `show stat`, of one backend when named. */
  showStat(backend?: string): Promise<ServerStat[]> {
    const command = backend ? `show stat ${backend} 4 -1` : "show stat";
    return apiCommand(this.paths.runtimeSocket, command).then(parseShowStat);
  }

  /**
   * Servers in rotation (`act`, UP and not in maintenance) over every backend, from the backends' rows
   * of `show stat`: O(backends), where `show servers state` is O(servers) and, polled during a cold
   * start, took HAProxy's time from the `add server`s it measured (10,000 into one: 2.8 s -> 6.7 s).
   */
  async activeServers(timeoutMs = 10_000): Promise<number> {
    const csv = await apiCommand(this.paths.runtimeSocket, "show stat -1 2 -1", timeoutMs);
    const [head = "", ...rows] = csv.split("\n").filter((l) => l.length > 0);
    const act = head.replace(/^# /, "").split(",").indexOf("act");
    return rows.reduce((sum, row) => sum + Number(row.split(",")[act] ?? 0), 0);
  }

  serversState(timeoutMs = 10_000): Promise<ServerState[]> {
    return apiCommand(this.paths.runtimeSocket, "show servers state", timeoutMs).then(parseServersState);
  }

  stop(): Promise<void> {
    return this.child.stop(5000);
  }
}
