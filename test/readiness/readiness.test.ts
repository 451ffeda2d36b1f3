import { createServer, type Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { ReadyGate, ServiceRule } from "../../src/config/types.js";
import { Readiness } from "../../src/readiness/readiness.js";
import type { Backend } from "../../src/registry/backend.js";
import { Registry, type RegistryChange } from "../../src/registry/registry.js";
import type { BackendClaim } from "../../src/sources/source.js";
import { claimAt } from "../controller/fake-source.js";
import { freePort } from "../helpers/haproxy.js";
import { recordingLogger } from "../registry/fakes.js";

/** An HTTP backend that answers 503 until `readyAfterMs` after it started (never when undefined), counting requests. */
async function backend(readyAfterMs?: number, port = 0) {
  const started = performance.now();
  const times: number[] = [];
  let open = 0;
  let maxOpen = 0;
  const server: Server = createServer((_req, res) => {
    const at = performance.now() - started;
    times.push(at);
    res.statusCode = readyAfterMs !== undefined && at >= readyAfterMs ? 200 : 503;
    res.end();
  });
  server.on("connection", (s) => {
    maxOpen = Math.max(maxOpen, ++open);
    s.on("close", () => open--);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  cleanups.push(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as { port: number }).port, times, maxOpen: () => maxOpen };
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const gate = (fields: Partial<ReadyGate> = {}): ReadyGate => ({
  check: { kind: "http", path: "/", expect: [{ from: 200, to: 299 }] },
  timeoutMs: 200,
  intervalMs: 40,
  deadlineMs: 5000,
  ...fields,
});
const rule = (name: string, ready?: ReadyGate): ServiceRule => ({
  name,
  ports: [],
  netns: { kind: "any" },
  ...(ready ? { ready } : {}),
});
/** Registry and Readiness wired as the controller wires them; `changes` records what targets would see. */
function wired(services: ServiceRule[]) {
  const { log, lines } = recordingLogger();
  const changes: RegistryChange[] = [];
  let readiness: Readiness;
  const registry = new Registry((s) => readiness.gated(s));
  const dispatch = (change: RegistryChange) => {
    changes.push(change);
    readiness.changed(change);
  };
  readiness = new Readiness(services, {
    log,
    ready: (b: Backend, at: bigint) => dispatch(registry.markReady(b.service, b.id, at)),
  });
  cleanups.push(() => readiness.close());
  return {
    registry,
    readiness,
    lines,
    changes,
    listen: (...claims: BackendClaim[]) => dispatch(registry.update("local", claims, [])),
    close: (...keys: string[]) => dispatch(registry.update("local", [], keys)),
    ready: (port: number) => registry.get("web", `b127_0_0_1_${port}`)?.ready,
  };
}

const until = async (what: () => boolean, ms: number) => {
  const end = performance.now() + ms;
  while (!what() && performance.now() < end) await sleep(5);
  return what();
};

describe("Readiness", () => {
  it("checks a new backend at once, backs off from 10 ms, and runs nothing once it is ready", async () => {
    const b = await backend(150);
    const w = wired([rule("web", gate())]);
    w.listen(claimAt(b.port));
    expect(w.ready(b.port)).toBe(false);
    expect(await until(() => w.ready(b.port) === true, 2000)).toBe(true);
    const tries = b.times.length;
    await sleep(200);
    expect(b.times.length).toBe(tries);
    // At once, then 10, 20, 40 (the interval) ms apart: the pass comes at most 40 ms after 150 ms.
    expect(b.times[0]).toBeLessThan(50);
    const gaps = b.times.slice(1).map((t, i) => t - (b.times[i] as number));
    expect(gaps.slice(0, 3).map((g) => g >= 9)).toEqual([true, true, true]);
    expect(Math.max(...gaps)).toBeLessThan(120);
    const update = w.changes.find((c) => c.updated.length > 0);
    expect([
      update?.updated.map((u) => u.ready),
      update?.updatedFrom?.map((u) => u.ready),
      typeof update?.firstEventTs,
    ]).toEqual([[true], [false], "bigint"]);
    expect(w.lines.find((l) => l.msg === "backend ready")).toMatchObject({
      level: 30,
      service: "web",
      backend: `b127_0_0_1_${b.port}`,
      attempts: tries,
    });
  });

  it("leaves a backend of a service without a gate alone: ready from the start, never checked", async () => {
    const b = await backend(0);
    const w = wired([rule("web")]);
    w.listen(claimAt(b.port));
    await sleep(50);
    expect([w.ready(b.port), b.times.length]).toEqual([true, 0]);
  });

  it("gives up at the deadline, logs it with the process, and tries again when its source resyncs", async () => {
    const b = await backend(undefined);
    const w = wired([rule("web", gate({ deadlineMs: 300 }))]);
    w.listen(claimAt(b.port, { pid: 4242, comm: "gunicorn" }));
    expect(await until(() => w.lines.some((l) => l.level === 40), 2000)).toBe(true);
    const tries = b.times.length;
    expect(w.lines.find((l) => l.level === 40)).toEqual({
      level: 40,
      component: "readiness",
      service: "web",
      backend: `b127_0_0_1_${b.port}`,
      endpoint: `127.0.0.1:${b.port}`,
      pid: 4242,
      comm: "gunicorn",
      host: "h1",
      deadlineMs: 300,
      attempts: tries,
      last: "status 503",
      msg: "backend not ready by its deadline: left out until it closes or its source resyncs",
    });
    expect(w.readiness.status("web", `b127_0_0_1_${b.port}`)).toEqual({
      attempts: tries,
      last: "status 503",
      givenUp: true,
    });
    await sleep(100);
    expect([b.times.length, w.ready(b.port)]).toEqual([tries, false]);
    w.readiness.retry("etcd-0");
    await sleep(50);
    expect(b.times.length).toBe(tries);
    w.readiness.retry("local");
    expect(await until(() => b.times.length > tries, 1000)).toBe(true);
  });

  it("stops checking a backend that goes away", async () => {
    const b = await backend(undefined);
    const w = wired([rule("web", gate())]);
    w.listen(claimAt(b.port));
    expect(await until(() => b.times.length >= 3, 2000)).toBe(true);
    w.close(String(b.port));
    await sleep(60);
    const tries = b.times.length;
    await sleep(200);
    expect(b.times.length).toBe(tries);
    expect(w.readiness.status("web", `b127_0_0_1_${b.port}`)).toBeUndefined();
  });

  it("resolves firstAttempts once every backend had its first try, ready or not", async () => {
    const [up, down] = [await backend(0), await backend(undefined)];
    const w = wired([rule("web", gate())]);
    w.listen(claimAt(up.port), claimAt(down.port));
    await w.readiness.firstAttempts();
    expect([w.ready(up.port), w.ready(down.port), up.times.length, down.times.length]).toEqual([
      true,
      false,
      1,
      1,
    ]);
  });

  it("runs at most 32 checks at once", async () => {
    const silent = createServer(() => {});
    let open = 0;
    let maxOpen = 0;
    silent.on("connection", (s) => {
      maxOpen = Math.max(maxOpen, ++open);
      s.on("close", () => open--);
    });
    // On the wildcard address: 40 backends on 40 loopback addresses all reach it.
    await new Promise<void>((resolve) => silent.listen(0, "0.0.0.0", resolve));
    cleanups.push(() => {
      silent.closeAllConnections();
      silent.close();
    });
    const port = (silent.address() as { port: number }).port;
    const w = wired([rule("web", gate({ timeoutMs: 300 }))]);
    w.listen(
      ...Array.from({ length: 40 }, (_, i) => claimAt(port, { key: `k${i}`, address: `127.0.0.${i + 2}` })),
    );
    await sleep(200);
    expect([open, maxOpen]).toEqual([32, 32]);
    // The 8 others wait for a slot (the first 32 time out at 300 ms), and retries queue behind them.
    // The server may see a timed-out check's socket close just after the next check connected.
    await w.readiness.firstAttempts();
    expect(maxOpen).toBeLessThanOrEqual(33);
  });

  it("stops the checks of a service whose gate the config removed", async () => {
    const b = await backend(undefined);
    const w = wired([rule("web", gate())]);
    w.listen(claimAt(b.port));
    expect(await until(() => b.times.length >= 2, 2000)).toBe(true);
    w.readiness.configure([rule("web")]);
    w.registry.regate((s) => w.readiness.gated(s));
    await sleep(60);
    const tries = b.times.length;
    await sleep(150);
    expect([b.times.length, w.ready(b.port)]).toEqual([tries, true]);
  });

  it("starts no attempt the deadline leaves no time for: the reason given is the last real one", async () => {
    const port = await freePort();
    const w = wired([rule("web", gate({ deadlineMs: 200 }))]);
    w.listen(claimAt(port));
    const id = `b127_0_0_1_${port}`;
    expect(await until(() => w.readiness.status("web", id)?.attempts === 1, 2000)).toBe(true);
    // The event loop is held past the deadline while the retry waits (a loaded machine).
    const blockedUntil = performance.now() + 250;
    while (performance.now() < blockedUntil) {}
    expect(await until(() => w.lines.some((l) => l.level === 40), 2000)).toBe(true);
    expect(w.lines.find((l) => l.level === 40)).toMatchObject({
      attempts: 1,
      last: "request failed: ECONNREFUSED",
    });
  });

  it("checks the address a backend is reached on, not only loopback", async () => {
    const port = await freePort();
    const w = wired([rule("web", gate({ deadlineMs: 200 }))]);
    w.listen(claimAt(port));
    expect(await until(() => w.lines.some((l) => l.level === 40), 2000)).toBe(true);
    expect(w.lines.find((l) => l.level === 40)?.last).toBe("request failed: ECONNREFUSED");
  });
});
