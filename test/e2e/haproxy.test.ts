import { afterAll, beforeAll, expect, it } from "vitest";
import { MasterCli } from "../../src/targets/haproxy/master-cli.js";
import { describeEbpf } from "../helpers/ebpf.js";
import type { RunningHaproxy } from "../helpers/haproxy.js";
import { get, waitFor } from "../helpers/http.js";
import { type BackendProcess, startBackend } from "./backend-process.js";
import { type Harness, startHaproxyHarness } from "./lb-harness.js";

type H = Harness & { haproxy: RunningHaproxy };
const web = { host: "web" };
const answeredBy = (h: H, port: number) => async () =>
  (await get(h.haproxy.port, web)).body === `port ${port}`;
const reloads = (h: H) => h.applied().filter((l) => l.activation === "reload").length;

describeEbpf("lbwatch with a real HAProxy: the Runtime API path", () => {
  let h: H;
  const backends: BackendProcess[] = [];
  beforeAll(async () => {
    h = await startHaproxyHarness(0);
  });
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.kill().catch(() => undefined)));
    await h?.stop();
  });
  const backend = async (port: number) => {
    const b = await startBackend("127.0.0.1", port);
    backends.push(b);
    return b;
  };

  it("routes a backend that starts listening, through the Runtime API, within 2 s", async () => {
    const b = await backend(h.base + 1);
    await waitFor(answeredBy(h, b.port), 2000, 1);
    const ms = Date.now() - b.listenedAt;
    console.log(`listen() → first 200 through HAProxy: ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(2000);
    // The request can be answered before lbwatch's log line about it reaches us: wait for the line.
    const line = await h.run.waitForLog((l) => l.msg === "target applied");
    expect(line).toMatchObject({ activation: "runtime-api", added: [`b127_0_0_1_${b.port}`] });
  });

  it("stops sending requests to a backend that is killed", async () => {
    const [a, b] = [await backend(h.base + 2), await backend(h.base + 3)];
    await waitFor(answeredBy(h, a.port), 2000, 1);
    await a.kill();
    await h.run.waitForLog((l) => l.msg === "target applied" && String(l.removed).includes(`_${a.port}`));
    const answers = await Promise.all(Array.from({ length: 12 }, () => get(h.haproxy.port, web)));
    expect(new Set(answers.map((r) => `${r.status} ${r.body}`)).has(`200 port ${a.port}`)).toBe(false);
    expect(answers.every((r) => r.status === 200)).toBe(true);
    await b.kill();
  });

  it("fails no client request while three backends restart one after another", async () => {
    const ports = [h.base + 5, h.base + 6, h.base + 7];
    for (const p of ports) await backend(p);
    for (const p of ports) await waitFor(answeredBy(h, p), 2000, 1);
    const failures: string[] = [];
    let requests = 0;
    let running = true;
    const client = async () => {
      while (running && requests < 20_000) {
        requests++;
        const r = await get(h.haproxy.port, web).catch((e: Error) => ({ status: 0, body: e.message }));
        if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
      }
    };
    const load = Promise.all([client(), client(), client(), client()]);
    for (const p of ports) {
      const old = backends.find((b) => b.port === p) as BackendProcess;
      await old.stop();
      await h.run.waitForLog((l) => l.msg === "target applied" && String(l.removed).includes(`_${p}`));
      await backend(p);
      await waitFor(answeredBy(h, p), 3000, 1);
    }
    running = false;
    await load;
    console.log(`restarts under load: ${requests} requests, ${failures.length} failed`);
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(50);
  });
});

describeEbpf("lbwatch with a real HAProxy: many backends at once", () => {
  let h: H;
  let many: BackendProcess | undefined;
  beforeAll(async () => {
    h = await startHaproxyHarness(1);
  });
  afterAll(async () => {
    await many?.kill();
    await h?.stop();
  });

  it("routes 100 backends started together, all through the Runtime API (no reload)", async () => {
    const master = new MasterCli(h.haproxy.masterSocket);
    const reloadsBefore = (await master.showProc()).master.reloads;
    many = await startBackend("127.0.0.1", h.base, { count: 100 });
    const seen = new Set<string>();
    const all = [...Array(100).keys()].map((i) => `port ${h.base + i}`);
    await waitFor(
      async () => {
        seen.add((await get(h.haproxy.port, web)).body);
        return all.every((body) => seen.has(body));
      },
      10_000,
      0,
    );
    expect(reloads(h)).toBe(0);
    expect((await master.showProc()).master.reloads).toBe(reloadsBefore);
  });
});
