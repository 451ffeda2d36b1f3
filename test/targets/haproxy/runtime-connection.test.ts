import { readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { sendCommand } from "../../../src/targets/haproxy/cli-socket.js";
import { MasterCli } from "../../../src/targets/haproxy/master-cli.js";
import { parseShowInfo } from "../../../src/targets/haproxy/runtime-answers.js";
import {
  connectOptions,
  type ResetEvent,
  RuntimeConnection,
} from "../../../src/targets/haproxy/runtime-connection.js";
import { rejectedMessage } from "../../helpers/errors.js";
import {
  childrenOf,
  freePort,
  minimalConfig,
  type RunningHaproxy,
  startHaproxy,
} from "../../helpers/haproxy.js";

const BACKEND = "backend be\n    balance roundrobin\n";
const CONFIG = minimalConfig("default_backend be", BACKEND);

let haproxy: RunningHaproxy | undefined;
let connection: RuntimeConnection | undefined;

afterEach(async () => {
  await connection?.close();
  await haproxy?.stop();
  connection = undefined;
  haproxy = undefined;
});

/** A running HAProxy and a connection to its stats socket that records its resets. */
async function connected(config = CONFIG, options = {}) {
  haproxy = await startHaproxy(config);
  connection = new RuntimeConnection(haproxy.statsSocket, options);
  const resets: ResetEvent[] = [];
  connection.on("reset", (event) => resets.push(event));
  return { haproxy, connection, resets };
}

const rejection = (promise: Promise<unknown>) => rejectedMessage("E_HAPROXY_API", promise);

const worker = async (h: RunningHaproxy) => (await childrenOf(h.pid))[0] as number;

/** SIGSTOP, returning once the kernel shows the process stopped (it may still run for a moment). */
async function pause(pid: number): Promise<void> {
  process.kill(pid, "SIGSTOP");
  for (const deadline = Date.now() + 2000; Date.now() < deadline; await sleep(5)) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("T")) return;
  }
  throw new Error(`process ${pid} did not stop`);
}

describe("connectOptions", () => {
  it("reads host:port and ipv4@/ipv6@ addresses as TCP and anything else as a unix path", () => {
    expect(
      [
        "/run/haproxy/admin.sock",
        "unix@/run/a.sock",
        "admin.sock",
        "127.0.0.1:9999",
        "ipv4@10.0.0.1:80",
        "ipv6@[::1]:9999",
        "localhost:1",
      ].map(connectOptions),
    ).toEqual([
      { path: "/run/haproxy/admin.sock" },
      { path: "/run/a.sock" },
      { path: "admin.sock" },
      { host: "127.0.0.1", port: 9999 },
      { host: "10.0.0.1", port: 80 },
      { host: "::1", port: 9999 },
      { host: "localhost", port: 1 },
    ]);
  });
});

describe("RuntimeConnection against a real HAProxy 2.6", () => {
  it("answers pipelined commands in order, each without the prompt", async () => {
    const { connection } = await connected();
    const answers = await connection.send([
      "add server be/a 127.0.0.1:1",
      "add server be/a 127.0.0.1:1",
      "enable server be/a",
      "del server be/a",
      "set server be/a state maint",
      "del server be/a",
      "add server be/b 127.0.0.1:x1",
    ]);
    expect(answers).toEqual([
      "New server registered.",
      "Already exists a server with the same name in backend.",
      "",
      "Only servers in maintenance mode can be deleted.",
      "",
      "Server deleted.",
      "invalid character 'x' in port number 'x1' in '127.0.0.1:x1'",
    ]);
  });

  it("gives each of many concurrent senders its own answers", async () => {
    const { connection } = await connected();
    const sends = Array.from({ length: 50 }, (_, i) =>
      connection.send([`add server be/u${i} 127.0.0.1:x${i}`, `add server be/v${i} 127.0.0.1:y${i}`]),
    );
    expect(await Promise.all(sends)).toEqual(
      Array.from({ length: 50 }, (_, i) => [
        `invalid character 'x' in port number 'x${i}' in '127.0.0.1:x${i}'`,
        `invalid character 'y' in port number 'y${i}' in '127.0.0.1:y${i}'`,
      ]),
    );
  });

  it("refuses an unsafe line before writing anything, and the answers after it stay in order", async () => {
    const { connection, resets } = await connected();
    const refused = connection.send(["show info", "enable server be/a;shutdown sessions server be/a"]);
    const next = connection.send(["add server be/c 127.0.0.1:1", "del server be/c"]);
    expect(await rejection(refused)).toBe(
      'refused to send "enable server be/a;shutdown sessions server be/a" to HAProxy: it contains a control character, ";", "\\" or "<<", which would change what HAProxy reads',
    );
    // A server just added is still in maintenance, so it can be deleted at once.
    expect(await next).toEqual(["New server registered.", "Server deleted."]);
    expect(resets).toEqual([]);
  });

  it("rejects what an old worker answers after a reload, then talks to the new worker", async () => {
    const { haproxy, connection, resets } = await connected();
    await connection.send(["add server be/a 127.0.0.1:1"]);
    const before = connection.worker?.pid;
    await new MasterCli(haproxy.masterSocket).reload();
    // The old worker gets its stop signal right after the master counts the reload: allow it a moment.
    let message = "";
    for (const deadline = Date.now() + 3000; message === "" && Date.now() < deadline; ) {
      message = await connection.send(["show servers state be"]).then(
        () => "",
        (err: Error) => err.message,
      );
    }
    expect(message).toBe(`${haproxy.statsSocket}: old worker ${before} answered: HAProxy was reloaded`);
    const [state] = await connection.send(["show servers state be"]);
    expect([state?.split("\n").length, connection.worker?.pid === before]).toEqual([2, false]);
    expect(resets).toEqual([
      { address: haproxy.statsSocket, reason: "stopping", detail: message, rejected: 1 },
      {
        address: haproxy.statsSocket,
        reason: "worker-changed",
        detail: `${haproxy.statsSocket}: worker ${connection.worker?.pid} answers instead of ${before}`,
        rejected: 0,
      },
    ]);
  });

  it("talks to the new worker at once after a reload when the old socket was let go (detach)", async () => {
    const { haproxy, connection, resets } = await connected();
    await connection.send(["add server be/a 127.0.0.1:1"]);
    const before = connection.worker?.pid;
    await new MasterCli(haproxy.masterSocket).reload();
    connection.detach();
    const [state] = await connection.send(["show servers state be"]);
    // The new worker runs the config file, without the server added live.
    expect([state?.split("\n").length, connection.worker?.pid === before]).toEqual([2, false]);
    expect(resets.map((r) => r.reason)).toEqual(["worker-changed"]);
  });

  it("rejects every pending send when the worker is killed mid-exchange, and reconnects to the next HAProxy", async () => {
    const { haproxy: first, connection, resets } = await connected();
    await connection.send([]);
    const pid = await worker(first);
    await pause(pid);
    const pending = [connection.send(["show info"]), connection.send(["add server be/a 127.0.0.1:1"])];
    await sleep(50);
    process.kill(pid, "SIGKILL");
    const messages = await Promise.all(pending.map(rejection));
    // Killed with our commands unread, the worker's socket resets rather than closes.
    const broken = `${first.statsSocket}: ECONNRESET: the connection broke with 2 sends unanswered (HAProxy restarted or was killed)`;
    expect(messages).toEqual([broken, broken]);
    expect(resets).toEqual([{ address: first.statsSocket, reason: "error", detail: broken, rejected: 2 }]);
    await first.stop();
    haproxy = await startHaproxy(CONFIG, { dir: first.dir });
    expect(await connection.send(["add server be/a 127.0.0.1:1"])).toEqual(["New server registered."]);
    expect(resets.map((r) => r.reason)).toEqual(["error", "worker-changed"]);
  });

  it("times out an exchange HAProxy does not answer, resets, and works again once HAProxy does", async () => {
    const { haproxy, connection, resets } = await connected();
    await connection.send([]);
    const pid = await worker(haproxy);
    await pause(pid);
    try {
      const message = await rejection(connection.send(["show servers state be"], { timeoutMs: 200 }));
      expect(message).toBe(`${haproxy.statsSocket}: no answer to "show servers state be" within 200 ms`);
      expect(resets).toEqual([
        { address: haproxy.statsSocket, reason: "timeout", detail: message, rejected: 1 },
      ]);
    } finally {
      process.kill(pid, "SIGCONT");
    }
    expect(await connection.send(["add server be/a 127.0.0.1:1"])).toEqual(["New server registered."]);
    expect(resets.length).toBe(1);
  });

  it("re-opens quietly after HAProxy closed the idle connection, as its stats timeout does", async () => {
    const { haproxy, connection, resets } = await connected(CONFIG, { idleCloseMs: 60_000 });
    const cumConns = async () =>
      Number(/CumConns: (\d+)/.exec((await connection.send(["show info"]))[0] ?? "")?.[1]);
    const first = await cumConns();
    // HAProxy 2.6.12 leaves about one idle CLI connection in ten open past its stats timeout, so the
    // test closes it from HAProxy's side at once: every CLI session but the one asking.
    const sessions = await sendCommand(haproxy.statsSocket, "show sess", { timeoutMs: 1000 });
    const ids = sessions.match(/^0x[0-9a-f]+(?=: .* fe=GLOBAL )/gm) ?? [];
    for (const id of ids)
      await sendCommand(haproxy.statsSocket, `shutdown session ${id}`, { timeoutMs: 1000 });
    await sleep(50);
    // One more connection than the test's own one-shot ones: this send's.
    const oneShots = 1 + ids.length;
    expect([await cumConns(), resets]).toEqual([first + oneShots + 1, []]);
  });

  it("closes an idle connection itself after idleCloseMs, and the next send opens another", async () => {
    const { connection, resets } = await connected(CONFIG, { idleCloseMs: 100 });
    const cumConns = async () =>
      Number(/CumConns: (\d+)/.exec((await connection.send(["show info"]))[0] ?? "")?.[1]);
    const first = await cumConns();
    await sleep(300);
    expect([await cumConns(), resets]).toEqual([first + 1, []]);
  });

  it("names the socket when nothing listens there, and emits a reset for the rejected send", async () => {
    haproxy = await startHaproxy(CONFIG);
    connection = new RuntimeConnection(`${haproxy.dir}/missing.sock`);
    const resets: ResetEvent[] = [];
    connection.on("reset", (event) => resets.push(event));
    const message = await rejection(connection.send(["show info"]));
    expect(message).toBe(
      `${haproxy.dir}/missing.sock: ENOENT (is HAProxy running with this stats socket, at level admin?)`,
    );
    expect(resets).toEqual([
      { address: `${haproxy.dir}/missing.sock`, reason: "error", detail: message, rejected: 1 },
    ]);
  });

  it("reaches a stats socket on TCP the same way", async () => {
    const port = await freePort();
    const config = CONFIG.replace(
      "level admin",
      `level admin\n    stats socket ipv4@127.0.0.1:${port} level admin`,
    );
    haproxy = await startHaproxy(config);
    connection = new RuntimeConnection(`127.0.0.1:${port}`);
    const [info] = await connection.send(["show info"]);
    expect(parseShowInfo(info ?? "", "tcp").pid).toBe(connection.worker?.pid);
  });

  it("rejects what is pending on close, and every send after it", async () => {
    const { haproxy, connection } = await connected();
    const pid = await worker(haproxy);
    await connection.send([]);
    await pause(pid);
    try {
      // The handler is attached before close() rejects it.
      const pending = rejection(connection.send(["show info"]));
      await connection.close();
      expect([await pending, await rejection(connection.send(["show info"]))]).toEqual([
        `${haproxy.statsSocket}: the connection was closed while commands were pending`,
        `${haproxy.statsSocket}: the connection was closed`,
      ]);
    } finally {
      process.kill(pid, "SIGCONT");
    }
  });
});
