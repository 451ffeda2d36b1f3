import { createServer, request, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { StatusSummary } from "../../src/controller/controller.js";
import { Controller } from "../../src/controller/controller.js";
import { type StatusView, writeStatus } from "../../src/http/status-body.js";
import { type Backend, backendKey, makeBackend } from "../../src/registry/backend.js";
import { createWorkspace, until } from "../cli/lbwatch-process.js";
import { claimAt, FakeSource } from "../controller/fake-source.js";
import { fetchPath } from "../helpers/endpoint.js";
import { captureLog } from "../targets/capture-log.js";

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

/** Serves writeStatus(view) on a loopback port; `done` collects each response's completion. */
async function serve(view: StatusView): Promise<{ port: number; done: Promise<void>[] }> {
  const done: Promise<void>[] = [];
  const server: Server = createServer((_req, res) => {
    done.push(writeStatus(view, res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  );
  return { port: (server.address() as { port: number }).port, done };
}

/** Backend n of service web on 127.x.y.z:8000. */
const backend = (n: number, fields: Partial<Backend> = {}): Backend => ({
  ...makeBackend(
    "fake",
    claimAt(8000, {
      key: String(n),
      address: `127.${(n >> 16) & 255}.${(n >> 8) & 255}.${(n & 255) + 1}`,
      pid: n,
    }),
    n,
    true,
    n,
  ),
  ...fields,
});

const summary: StatusSummary = {
  services: ["web"],
  sources: [],
  targets: [],
  pending: false,
  lost: [],
  resyncs: [],
};

/** A view over a Map the test changes, as the registry's is. */
function mapView(
  map: Map<string, Backend>,
  backends: () => IterableIterator<Backend> = () => map.values(),
): StatusView {
  return {
    summary: () => summary,
    backends,
    backend: (service, id) => map.get(backendKey({ service, id })),
    statusOf: ({ id, endpoint, source, host, pid, comm, uid, since, ready }) => ({
      ...{ id, endpoint, source, host, pid, comm, uid, since, ready },
    }),
  };
}

describe("writeStatus", () => {
  it("streams the controller's snapshot: 20,000 backends of a configured service, none of an unknown one", async () => {
    const ws = await createWorkspace({ ports: "8000" });
    cleanups.push(() => ws.remove());
    const claims = Array.from({ length: 20_000 }, (_, i) => ({ ...backend(i), key: String(i), since: i }));
    const source = new FakeSource([...claims, claimAt(9000, { key: "ghost", service: "ghost" })]);
    const controller = await Controller.load({
      configFile: ws.config,
      log: captureLog().log,
      sources: () => [source],
    });
    cleanups.push(() => controller.close());
    await controller.start();
    expect(await until(() => controller.status().targets.every((t) => t.state === "ok" && !t.pending))).toBe(
      true,
    );
    const { port } = await serve(controller);
    const reply = await fetchPath({ port }, "/status");
    expect(JSON.parse(reply.body)).toEqual(JSON.parse(JSON.stringify(controller.snapshot())));
    expect(Object.keys(JSON.parse(reply.body).services)).toEqual(["web"]);
    expect(JSON.parse(reply.body).services.web).toHaveLength(20_000);
  });

  it("lets timers run while it serialises 100,000 backends", async () => {
    const map = new Map(Array.from({ length: 100_000 }, (_, i) => [backendKey(backend(i)), backend(i)]));
    const { port } = await serve(mapView(map));
    let ticks = 0;
    let stop = false;
    const tick = () => {
      ticks++;
      if (!stop) setTimeout(tick, 0);
    };
    tick();
    const reply = await fetchPath({ port }, "/status");
    stop = true;
    expect(JSON.parse(reply.body).services.web).toHaveLength(100_000);
    // One 100,000-backend document in one go would let the timer run once or twice at most.
    expect(ticks).toBeGreaterThan(20);
  });

  it("shows backends as they are when serialised: a changed one changed, a removed one gone, one removed and added again once", async () => {
    const map = new Map(Array.from({ length: 6 }, (_, i) => [backendKey(backend(i)), backend(i)]));
    const key = (n: number) => backendKey(backend(n));
    // After the walk met backends 0 and 1: 0 is removed and added again, 1 changes, 2 goes away.
    function* walk(): IterableIterator<Backend> {
      let met = 0;
      for (const b of map.values()) {
        yield b;
        if (++met !== 2) continue;
        map.delete(key(0));
        map.set(key(0), backend(0, { pid: 1000 }));
        map.set(key(1), backend(1, { pid: 1001 }));
        map.delete(key(2));
      }
    }
    const { port } = await serve(mapView(map, walk));
    const services = JSON.parse((await fetchPath({ port }, "/status")).body).services as Record<
      string,
      Backend[]
    >;
    expect(services.web?.map((b) => [b.id, b.pid])).toEqual([
      ["b127_0_0_1_8000", 1000],
      ["b127_0_0_2_8000", 1001],
      ["b127_0_0_4_8000", 3],
      ["b127_0_0_5_8000", 4],
      ["b127_0_0_6_8000", 5],
    ]);
  });

  it("stops walking when the client goes away", async () => {
    const map = new Map(Array.from({ length: 100_000 }, (_, i) => [backendKey(backend(i)), backend(i)]));
    let looked = 0;
    const view: StatusView = {
      ...mapView(map),
      backend: (service, id) => {
        looked++;
        return map.get(backendKey({ service, id }));
      },
    };
    const { port, done } = await serve(view);
    // GET /status, hanging up as soon as the first bytes of the body arrive.
    await new Promise<void>((resolve, reject) => {
      request({ host: "127.0.0.1", port, path: "/status", agent: false }, (res) => {
        res.once("data", () => {
          res.destroy();
          resolve();
        });
      })
        .on("error", reject)
        .end();
    });
    expect(await until(() => done.length === 1)).toBe(true);
    await done[0];
    expect(looked).toBeLessThan(100_000);
  });
});
