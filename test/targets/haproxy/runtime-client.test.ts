import { createServer, type Server, type Socket } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { adminStateOf, isRoutable } from "../../../src/targets/haproxy/runtime-answers.js";
import { RuntimeClient } from "../../../src/targets/haproxy/runtime-client.js";
import type { ServerSpec } from "../../../src/targets/haproxy/runtime-commands.js";
import { RuntimeConnection } from "../../../src/targets/haproxy/runtime-connection.js";
import { rejectedMessage } from "../../helpers/errors.js";
import { childrenOf, minimalConfig, type RunningHaproxy, startHaproxy } from "../../helpers/haproxy.js";
import { get, type HttpBackend, startHttpBackend } from "../../helpers/http.js";

const backends = (names: string[]) => names.map((n) => `backend ${n}\n    balance roundrobin\n`).join("");
const CONFIG = minimalConfig("default_backend be_web", backends(["be_web", "be_other"]));

let haproxy: RunningHaproxy;
let web: HttpBackend;
let connection: RuntimeConnection;
let client: RuntimeClient;

beforeAll(async () => {
  haproxy = await startHaproxy(CONFIG);
  web = await startHttpBackend();
});
afterAll(async () => {
  await web?.close();
  await haproxy?.stop();
});
afterEach(async () => {
  await connection?.close();
  // Every test starts from empty backends: servers left over would slow every command (see the timings).
  const cleaner = new RuntimeClient(new RuntimeConnection(haproxy.statsSocket, { timeoutMs: 20_000 }));
  for (const backend of ["be_web", "be_other"]) {
    const servers = await cleaner.serversState(backend);
    await cleaner.setState(servers, "maint");
    await cleaner.deleteServers(servers);
  }
  await cleaner.connection.close();
});

function connect(options = {}): RuntimeClient {
  connection = new RuntimeConnection(haproxy.statsSocket, { timeoutMs: 20_000 });
  client = new RuntimeClient(connection, options);
  return client;
}

const spec = (name: string, options: string[] = [], backend = "be_other"): ServerSpec => ({
  backend,
  name,
  address: "127.0.0.1:9",
  options,
});

describe("RuntimeClient against a real HAProxy 2.6", () => {
  it("adds servers as their config lines would run them, and the ready one takes traffic", async () => {
    connect();
    const servers = [
      { backend: "be_web", name: "web", address: `127.0.0.1:${web.port}`, options: ["weight", "10"] },
      spec("checked", ["check", "inter", "100ms"]),
      spec("agent", ["agent-check", "agent-port", "9", "agent-inter", "100ms"]),
      spec("off", ["disabled"]),
    ];
    const results = await client.addServers(servers);
    expect(results).toEqual(servers.map((server) => ({ server, outcome: { status: "ok" } })));
    expect(await get(haproxy.port)).toEqual({ status: 200, body: `port ${web.port}` });
    const state = await client.serversState();
    expect(state.map((s) => [s.backend, s.name, adminStateOf(s), s.weight])).toEqual([
      ["be_web", "web", "ready", 10],
      ["be_other", "checked", "ready", 1],
      ["be_other", "agent", "ready", 1],
      ["be_other", "off", "maint", 1],
    ]);
  });

  it("gives each server its own outcome, and never enables a server whose name was taken", async () => {
    connect();
    await client.addServers([spec("kept")]);
    await client.setState([spec("kept")], "maint");
    const servers = [
      spec("kept"),
      spec("fine"),
      spec("bad;name"),
      spec("lost", [], "be_nope"),
      spec("seer", ["observe", "nonsense"]),
    ];
    const results = await client.addServers(servers);
    expect(results).toEqual([
      {
        server: servers[0],
        outcome: { status: "exists", message: "Already exists a server with the same name in backend." },
        command: "add server be_other/kept 127.0.0.1:9",
      },
      { server: servers[1], outcome: { status: "ok" } },
      {
        server: servers[2],
        outcome: {
          status: "unsafe",
          message:
            'refused to send "bad;name" to HAProxy: a server name has characters outside ^[A-Za-z0-9_.:-]+$',
        },
      },
      {
        server: servers[3],
        outcome: { status: "no-such-backend", message: "No such backend." },
        command: "add server be_nope/lost 127.0.0.1:9",
      },
      {
        server: servers[4],
        outcome: {
          status: "refused",
          message: "'observe' expects one of 'none', 'layer4', 'layer7' but got 'nonsense'.",
        },
        command: "add server be_other/seer 127.0.0.1:9 observe nonsense",
      },
    ]);
    const state = await client.serversState("be_other");
    expect(state.map((s) => [s.name, adminStateOf(s)])).toEqual([
      ["kept", "maint"],
      ["fine", "ready"],
    ]);
  });

  it("sets states and deletes, telling a server that still has connections apart", async () => {
    connect();
    const held = await holdingBackend();
    try {
      const servers = [{ backend: "be_web", name: "slow", address: `127.0.0.1:${held.port}`, options: [] }];
      await client.addServers(servers);
      const request = get(haproxy.port, { timeoutMs: 5000 }).catch(() => undefined);
      await held.accepted;
      expect((await client.setState([...servers, spec("ghost")], "drain")).map((r) => r.outcome)).toEqual([
        { status: "ok" },
        { status: "no-such-server", message: "No such server." },
      ]);
      expect(adminStateOf((await client.serversState("be_web"))[0] ?? { adminState: -1 })).toBe("drain");
      expect(await client.deleteServers(servers)).toEqual([
        {
          server: servers[0],
          outcome: { status: "refused", message: "Only servers in maintenance mode can be deleted." },
          command: "del server be_web/slow",
        },
      ]);
      await client.setState(servers, "maint");
      expect((await client.deleteServers(servers))[0]?.outcome).toEqual({
        status: "has-connections",
        message: "Server still has connections attached to it, cannot remove it.",
      });
      held.release();
      await request;
      expect((await client.deleteServers(servers))[0]?.outcome).toEqual({ status: "ok" });
    } finally {
      await held.close();
    }
  });

  it("reads servers state and show info, and rejects an unknown backend naming the socket", async () => {
    connect();
    const [worker] = await childrenOf(haproxy.pid);
    expect((await client.showInfo()).pid).toBe(worker);
    expect(await rejectedMessage("E_HAPROXY_API", client.serversState("be_nope"))).toBe(
      `${haproxy.statsSocket}: "show servers state" did not answer in format version 1; HAProxy answered: "Can't find backend."`,
    );
  });

  it("pipelines chunks, keeps every result in place, and gives a large batch explicit ids", async () => {
    connect({ chunkSize: 100 });
    const servers = Array.from({ length: 450 }, (_, i) =>
      spec(`s${i}`, [], i % 3 === 0 ? "be_web" : "be_other"),
    );
    const results = await client.addServers(servers);
    expect(results).toEqual(servers.map((server) => ({ server, outcome: { status: "ok" } })));
    const state = await client.serversState();
    expect(state.length).toBe(450);
    expect(Math.min(...state.map((s) => s.id))).toBeGreaterThan(1_000_000);
  });

  it("enables the servers of a large batch by the ids it gave them, and they take traffic", async () => {
    connect();
    const sent: string[] = [];
    const send = connection.send.bind(connection);
    connection.send = (commands, options) => {
      sent.push(...commands);
      return send(commands, options);
    };
    const servers = Array.from({ length: 40 }, (_, i) => ({
      ...spec(`w${i}`, i === 0 ? ["check", "inter", "1s"] : [], "be_web"),
      address: `127.0.0.1:${web.port}`,
    }));
    const results = await client.addServers(servers);
    expect(results).toEqual(servers.map((server) => ({ server, outcome: { status: "ok" } })));
    expect(sent.filter((line) => line.startsWith("enable")).slice(0, 3)).toEqual([
      "enable health be_web/#1000001",
      "enable server be_web/#1000001",
      "enable server be_web/#1000002",
    ]);
    expect(await get(haproxy.port)).toEqual({ status: 200, body: `port ${web.port}` });
    const state = await client.serversState("be_web");
    expect(state.map((s) => [s.name, s.id, adminStateOf(s)])).toEqual(
      servers.map((s, i) => [s.name, 1_000_001 + i, "ready"]),
    );
  });

  it("rejects the whole call with E_HAPROXY_API when the connection is lost", async () => {
    connection = new RuntimeConnection(haproxy.statsSocket, { timeoutMs: 200 });
    client = new RuntimeClient(connection, { chunkSize: 10 });
    const [worker] = (await childrenOf(haproxy.pid)) as [number];
    process.kill(worker, "SIGSTOP");
    try {
      const lost = client.addServers(Array.from({ length: 20 }, (_, i) => spec(`t${i}`)));
      expect(await rejectedMessage("E_HAPROXY_API", lost)).toBe(
        `${haproxy.statsSocket}: no answer to "add server be_other/t0 127.0.0.1:9" within 200 ms`,
      );
    } finally {
      process.kill(worker, "SIGCONT");
    }
    connect();
  });
});

describe("RuntimeClient timings (logged; the bench has the figures)", () => {
  it("routes 10,000 servers added into an empty backend", { timeout: 60_000 }, async () => {
    connect();
    const servers = Array.from({ length: 10_000 }, (_, i) => spec(`c${i}`, [], "be_other"));
    const start = performance.now();
    const results = await client.addServers(servers);
    const added = performance.now() - start;
    const routable = (await client.serversState("be_other")).filter(isRoutable).length;
    const total = performance.now() - start;
    console.log(
      `10,000 servers into one empty backend: added ${added.toFixed(0)} ms, all routable ${total.toFixed(0)} ms`,
    );
    expect([results.filter((r) => r.outcome.status === "ok").length, routable]).toEqual([10_000, 10_000]);
    expect(total).toBeLessThan(10_000);
  });

  it("routes 10,000 servers added over 100 empty backends", { timeout: 60_000 }, async () => {
    const names = Array.from({ length: 100 }, (_, b) => `be${b}`);
    const spread = await startHaproxy(minimalConfig("default_backend be0", backends(names)));
    const own = new RuntimeClient(new RuntimeConnection(spread.statsSocket, { timeoutMs: 20_000 }));
    try {
      const servers = Array.from({ length: 10_000 }, (_, i) => spec(`c${i}`, [], `be${i % 100}`));
      const start = performance.now();
      const results = await own.addServers(servers);
      const routable = (await own.serversState()).filter(isRoutable).length;
      const total = performance.now() - start;
      console.log(`10,000 servers over 100 empty backends: all routable ${total.toFixed(0)} ms`);
      expect([results.filter((r) => r.outcome.status === "ok").length, routable]).toEqual([10_000, 10_000]);
      expect(total).toBeLessThan(10_000);
    } finally {
      await own.connection.close();
      await spread.stop();
    }
  });

  it("adds and enables one server on the warm connection", async () => {
    connect();
    await client.showInfo();
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const start = performance.now();
      const [result] = await client.addServers([spec(`one${i}`)]);
      times.push(performance.now() - start);
      expect(result?.outcome).toEqual({ status: "ok" });
      await client.setState([spec(`one${i}`)], "maint");
      await client.deleteServers([spec(`one${i}`)]);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => (times[Math.floor(q * (times.length - 1))] ?? 0).toFixed(3);
    console.log(`add + enable of one server: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`);
    expect(Number(at(0.5))).toBeLessThan(50);
  });
});

/** A TCP backend that accepts and answers nothing until released: its server keeps a connection. */
async function holdingBackend() {
  const sockets: Socket[] = [];
  let accepted!: () => void;
  const wasAccepted = new Promise<void>((resolve) => {
    accepted = resolve;
  });
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    accepted();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    accepted: wasAccepted,
    release: () => {
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
