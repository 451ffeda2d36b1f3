import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createServer as createTcpServer, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { ReadyCheck } from "../../src/config/types.js";
import { runCheck, substituteTarget } from "../../src/readiness/checks.js";
import { freePort } from "../helpers/haproxy.js";

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

interface Seen {
  url?: string;
  headers?: IncomingHttpHeaders;
}

async function httpServer(status: number, host = "127.0.0.1"): Promise<{ port: number; seen: Seen }> {
  const seen: Seen = {};
  const server: Server = createServer((req, res) => {
    seen.url = req.url;
    seen.headers = req.headers;
    res.statusCode = status;
    res.end("a body nobody reads");
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  servers.push({
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  });
  return { port: (server.address() as { port: number }).port, seen };
}

const target = (port: number, address = "127.0.0.1") => {
  const family = address.includes(":") ? 6 : 4;
  return {
    address,
    port,
    family,
    endpoint: family === 6 ? `[${address}]:${port}` : `${address}:${port}`,
  } as const;
};
const http = (fields: Partial<Extract<ReadyCheck, { kind: "http" }>> = {}): ReadyCheck => ({
  kind: "http",
  path: "/",
  expect: [{ from: 200, to: 399 }],
  ...fields,
});
const never = new AbortController().signal;
const node = process.execPath;

describe("runCheck: http", () => {
  it("passes on a status in range, sending the path and the Host header", async () => {
    const { port, seen } = await httpServer(204);
    const result = await runCheck(
      http({ path: "/healthz?x=1", host: "web.example.com" }),
      target(port),
      1000,
      never,
    );
    expect([result, seen.url, seen.headers?.host, seen.headers?.["user-agent"]]).toEqual([
      { ok: true, detail: "status 204" },
      "/healthz?x=1",
      "web.example.com",
      "lbwatch-ready",
    ]);
  });

  it("fails on a status out of range, and sends the backend's endpoint as Host by default (IPv6 too)", async () => {
    const { port, seen } = await httpServer(503, "::1");
    expect(await runCheck(http(), target(port, "::1"), 1000, never)).toEqual({
      ok: false,
      detail: "status 503",
    });
    expect(seen.headers?.host).toBe(`[::1]:${port}`);
  });

  it("fails on a refused connection", async () => {
    expect(await runCheck(http(), target(await freePort()), 1000, never)).toEqual({
      ok: false,
      detail: "request failed: ECONNREFUSED",
    });
  });

  it("fails at its timeout when the backend accepts but never answers", async () => {
    const sockets: Socket[] = [];
    const silent = createTcpServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    servers.push({
      close: () => {
        for (const s of sockets) s.destroy();
        silent.close();
      },
    });
    const started = performance.now();
    const result = await runCheck(http(), target((silent.address() as { port: number }).port), 150, never);
    const ms = performance.now() - started;
    expect(result).toEqual({ ok: false, detail: "timed out after 150 ms" });
    expect(ms).toBeGreaterThanOrEqual(140);
    expect(ms).toBeLessThan(1000);
  });
});

describe("runCheck: exec", () => {
  const exec = (argv: string[], stdout?: string): ReadyCheck => ({
    kind: "exec",
    argv,
    ...(stdout ? { stdout } : {}),
  });

  it("replaces {address} and {port} in every argument, also inside one", () => {
    expect(
      substituteTarget(["cli", "-h", "{address}", "--url=http://{address}:{port}/"], target(6379, "::1")),
    ).toEqual(["cli", "-h", "::1", "--url=http://::1:6379/"]);
  });

  it("passes on exit 0 with the expected stdout, fails on another stdout", async () => {
    const print = [node, "-e", "console.log(process.argv.slice(1).join(' '))", "{address}", "{port}"];
    expect(await runCheck(exec(print, "127.0.0.1 6379"), target(6379), 5000, never)).toEqual({
      ok: true,
      detail: "exit 0",
    });
    expect(await runCheck(exec(print, "PONG"), target(6379), 5000, never)).toEqual({
      ok: false,
      detail: 'exit 0, but stdout is "127.0.0.1 6379"',
    });
  });

  it("fails on a non-zero exit with its stderr, on a command that does not exist, and at its timeout", async () => {
    const failing = [node, "-e", "console.error('LOADING'); process.exit(3)"];
    expect(await runCheck(exec(failing), target(1), 5000, never)).toEqual({
      ok: false,
      detail: "exit 3: LOADING",
    });
    expect(await runCheck(exec(["/nonexistent-lbwatch-cli"]), target(1), 5000, never)).toEqual({
      ok: false,
      detail: "could not run: ENOENT",
    });
    const started = performance.now();
    expect(await runCheck(exec([node, "-e", "setTimeout(() => {}, 60000)"]), target(1), 300, never)).toEqual({
      ok: false,
      detail: "timed out after 300 ms",
    });
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
