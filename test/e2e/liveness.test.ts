/**
 * The shipped templates' liveness safety net, end to end: a backend that hangs (SIGSTOP) keeps its
 * socket listening, so no kernel event comes; under a bounded client load, HAProxy's slow health
 * check takes it out of rotation within fall × inter + 1 s and back after SIGCONT, and nginx's
 * passive checks skip it after the first request that times out, retrying that request elsewhere.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { OP_STATE } from "../../src/targets/haproxy/runtime-answers.js";
import { until } from "../cli/lbwatch-process.js";
import { describeEbpf } from "../helpers/ebpf.js";
import { type RunningHaproxy, serversState } from "../helpers/haproxy.js";
import { get } from "../helpers/http.js";
import { type BackendProcess, startBackend } from "./backend-process.js";
import { type Harness, startHaproxyHarness, startNginxHarness } from "./lb-harness.js";

interface Answer {
  start: number;
  ms: number;
  status: number;
  body: string;
}

/** `clients` sequential clients, each waiting `pauseMs` between requests, until stop(): at most ~clients × 1000 / pauseMs req/s. */
function load(port: number, clients: number, pauseMs: number, timeoutMs: number) {
  const answers: Answer[] = [];
  let running = true;
  const client = async () => {
    while (running && answers.length < 50_000) {
      const start = Date.now();
      const r = await get(port, { host: "web", timeoutMs }).catch((e: Error) => ({
        status: 0,
        body: e.message,
      }));
      answers.push({ start, ms: Date.now() - start, ...r });
      await sleep(pauseMs);
    }
  };
  const all = Promise.all(Array.from({ length: clients }, client));
  return {
    answers,
    async stop() {
      running = false;
      await all;
    },
  };
}

/** HAProxy's shipped check: inter 2s, fall 3. */
const FALL_TIMES_INTER_MS = 3 * 2000;

describeEbpf("a hung backend with a real HAProxy and the shipped template's health check", () => {
  let h: Harness & { haproxy: RunningHaproxy };
  const backends: BackendProcess[] = [];
  beforeAll(async () => {
    h = await startHaproxyHarness(22);
  });
  afterAll(async () => {
    for (const b of backends) b.signal("SIGCONT");
    await Promise.all(backends.map((b) => b.kill().catch(() => undefined)));
    await h?.stop();
  });

  it("leaves rotation within fall × inter + 1 s of a SIGSTOP, and comes back after SIGCONT", async () => {
    const [a, b] = [await startBackend("127.0.0.1", h.base + 1), await startBackend("127.0.0.1", h.base + 2)];
    backends.push(a, b);
    const state = async () =>
      new Map((await serversState(h.haproxy.statsSocket, "be_web")).map((s) => [s.port, s.opState]));
    expect(await until(async () => (await state()).size === 2, 5000)).toBe(true);
    // A server added with a check starts one failure from down; after two passed checks it takes `fall`.
    await sleep(4500);
    const clients = load(h.haproxy.port, 4, 20, 1500);
    await sleep(500);
    a.signal("SIGSTOP");
    const stopped = Date.now();
    expect(await until(async () => (await state()).get(a.port) === OP_STATE.STOPPED, 10_000)).toBe(true);
    const down = Date.now() - stopped;
    // Clients whose request went to it before then wait for their 1.5 s timeout; after, none goes there.
    await sleep(2500);
    a.signal("SIGCONT");
    const resumed = Date.now();
    expect(await until(async () => (await state()).get(a.port) === OP_STATE.RUNNING, 10_000)).toBe(true);
    const up = Date.now() - resumed;
    await sleep(500);
    await clients.stop();
    const during = clients.answers.filter((r) => r.start >= stopped && r.start < stopped + down);
    const after = clients.answers.filter((r) => r.start >= stopped + down + 50 && r.start < resumed);
    console.log(
      `SIGSTOP → out of rotation ${down} ms (aim ≤ ${FALL_TIMES_INTER_MS + 1000}); SIGCONT → back ${up} ms; ` +
        `${clients.answers.length} requests, ${during.filter((r) => r.status !== 200).length} of ${during.length} failed before it left`,
    );
    expect(down).toBeLessThanOrEqual(FALL_TIMES_INTER_MS + 1000);
    expect(after.length).toBeGreaterThan(10);
    expect(after.filter((r) => r.status !== 200 || r.body !== `port ${b.port}`)).toEqual([]);
    const back = clients.answers.filter((r) => r.start > resumed + up);
    expect(back.some((r) => r.body === `port ${a.port}`)).toBe(true);
  }, 40_000);
});

describeEbpf("a hung backend with a real nginx and the shipped template's passive checks", () => {
  let h: Awaited<ReturnType<typeof startNginxHarness>>;
  const backends: BackendProcess[] = [];
  beforeAll(async () => {
    h = await startNginxHarness(23, {
      services: (base) => ({
        web: [`ports: [${base}-${base + 99}]`, "uid: [0]", 'comm: ["node*"]', "meta: { timeout: 1s }"],
      }),
    });
  });
  afterAll(async () => {
    for (const b of backends) b.signal("SIGCONT");
    await Promise.all(backends.map((b) => b.kill().catch(() => undefined)));
    await h?.stop();
  });

  it("retries the requests that time out on the hung backend elsewhere, then skips it, and uses it again after SIGCONT", async () => {
    const [a, b] = [await startBackend("127.0.0.1", h.base + 1), await startBackend("127.0.0.1", h.base + 2)];
    backends.push(a, b);
    const seen = new Set<string>();
    expect(
      await until(async () => {
        seen.add((await get(h.port, { host: "web" }).catch(() => ({ body: "" }))).body);
        return seen.has(`port ${a.port}`) && seen.has(`port ${b.port}`);
      }, 5000),
    ).toBe(true);
    const clients = load(h.port, 3, 20, 5000);
    await sleep(300);
    a.signal("SIGSTOP");
    const stopped = Date.now();
    await sleep(4000);
    a.signal("SIGCONT");
    const resumed = Date.now();
    // fail_timeout is 10 s: after it nginx sends the backend requests again.
    const back = await until(
      () => clients.answers.some((r) => r.start > resumed && r.body === `port ${a.port}`),
      15_000,
    );
    await clients.stop();
    const hung = clients.answers.filter((r) => r.start >= stopped - 20 && r.start < resumed);
    const slow = hung.filter((r) => r.ms >= 900);
    console.log(
      `nginx, SIGSTOP for 4 s: ${hung.length} requests, ${hung.filter((r) => r.status !== 200).length} failed, ` +
        `${slow.length} waited for the 1 s timeout and were retried (max ${Math.max(...hung.map((r) => r.ms))} ms); back after SIGCONT: ${back}`,
    );
    expect(hung.filter((r) => r.status !== 200)).toEqual([]);
    // Each client has at most one request on the hung backend when nginx marks it failed.
    expect(slow.length).toBeGreaterThanOrEqual(1);
    expect(slow.length).toBeLessThanOrEqual(3);
    expect(
      hung.filter((r) => r.start > stopped + 1500).every((r) => r.ms < 900 && r.body === `port ${b.port}`),
    ).toBe(true);
    expect(back).toBe(true);
  }, 40_000);
});
