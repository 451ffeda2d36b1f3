/**
 * Readiness gates end to end: the real kernel, lbwatch run, a real HAProxy on the shipped template.
 * A backend that listens at once but is not ready gets no client request until its check passes, and
 * is served right after; one that never becomes ready is left out at its deadline and logged, and a
 * resync tries it again; a redis replica is not ready (its PING says MASTERDOWN) until it is
 * promoted, checked by `redis-cli` (argv, no shell) and served as a tcp service through the shipped
 * template's own frontend for it.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, expect, it } from "vitest";
import { until } from "../cli/lbwatch-process.js";
import { describeEbpf } from "../helpers/ebpf.js";
import { freePort, type RunningHaproxy, serversState } from "../helpers/haproxy.js";
import { get } from "../helpers/http.js";
import { type BackendProcess, startBackend } from "./backend-process.js";
import { type Harness, startHaproxyHarness } from "./lb-harness.js";

type H = Harness & { haproxy: RunningHaproxy };
const NODE = ["uid: [0]", 'comm: ["node*"]'];
const HEALTHZ = "http: { path: /healthz }";

describeEbpf("readiness gates with a real HAProxy", () => {
  let h: H;
  const backends: BackendProcess[] = [];
  beforeAll(async () => {
    h = await startHaproxyHarness(20, {
      services: (base) => ({
        web: [
          `ports: [${base}-${base + 49}]`,
          ...NODE,
          `ready: { ${HEALTHZ}, interval: 20ms, deadline: 10s }`,
        ],
        late: [`ports: [${base + 50}-${base + 99}]`, ...NODE, `ready: { ${HEALTHZ}, deadline: 1s }`],
      }),
      resync: "3s",
    });
  });
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.kill().catch(() => undefined)));
    await h?.stop();
  });
  const backend = async (port: number, readyAfterMs: number) => {
    const b = await startBackend("127.0.0.1", port, { readyAfterMs });
    backends.push(b);
    return b;
  };

  it("sends no request to a backend before its check passes, and serves it right after", async () => {
    const b = await backend(h.base + 1, 2000);
    const answers: { at: number; body: string }[] = [];
    // A client at ~200 req/s, as long as it takes (bounded) to see the new backend answer.
    const served = await until(async () => {
      const r = await get(h.haproxy.port, { host: "web", timeoutMs: 1000 }).catch(() => ({ body: "" }));
      answers.push({ at: Date.now(), body: r.body });
      await sleep(5);
      return r.body === `port ${b.port}`;
    }, 8000);
    expect(served).toBe(true);
    const [readyAt, firstAt] = [await b.readyAt(), await b.firstServedAt()];
    console.log(
      `listen → ready ${(readyAt - b.listenedAt).toFixed(0)} ms; ready → first client request ${(firstAt - readyAt).toFixed(1)} ms`,
    );
    expect(firstAt).toBeGreaterThanOrEqual(readyAt);
    // Loose (a shared 2-core machine): the reload path or HAProxy's own checks would take far longer.
    expect(firstAt - readyAt).toBeLessThan(200);
    expect(answers.filter((a) => a.at < readyAt).every((a) => a.body !== `port ${b.port}`)).toBe(true);
    const applied = await h.run.waitForLog(
      (l) => l.msg === "target applied" && String(l.added) === `b127_0_0_1_${b.port}`,
    );
    expect(applied).toMatchObject({ activation: "runtime-api" });
    expect(h.run.logs().find((l) => l.msg === "backend ready")).toMatchObject({
      service: "web",
      backend: `b127_0_0_1_${b.port}`,
    });
  });

  it("leaves out a backend not ready by its deadline, logs it, and tries it again at the next resync", async () => {
    const b = await backend(h.base + 51, -1);
    const id = `b127_0_0_1_${b.port}`;
    const givenUp = (l: Record<string, unknown>) =>
      l.msg === "backend not ready by its deadline: left out until it closes or its source resyncs" &&
      l.backend === id;
    const line = await h.run.waitForLog(givenUp, 5000);
    expect(line).toMatchObject({
      level: 40,
      service: "late",
      endpoint: `127.0.0.1:${b.port}`,
      comm: "node",
      deadlineMs: 1000,
      last: "status 503",
    });
    expect(typeof line.pid).toBe("number");
    expect((await serversState(h.haproxy.statsSocket, "be_late")).map((s) => s.name)).toEqual([]);
    expect((await get(h.haproxy.port, { host: "late" })).status).toBe(503);
    // The resync timer (3s) delivers it again: checked again, given up again.
    expect(await until(() => h.run.logs().filter(givenUp).length >= 2, 8000)).toBe(true);
    const first = await Promise.race([b.firstServedAt(), sleep(100).then(() => "never")]);
    expect(first).toBe("never");
  });
});

/** A redis-server in a temp dir on a loopback port, a replica of a master that does not exist. */
async function startReplica(port: number): Promise<{ stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "lbwatch-redis-"));
  const child: ResultPromise = execa(
    "redis-server",
    [
      ...["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"],
      ...["--replicaof", "127.0.0.1", String(await freePort()), "--replica-serve-stale-data", "no"],
    ],
    { reject: false, stdin: "ignore" },
  );
  return {
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await child;
      clearTimeout(timer);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const redisCli = async (port: number, ...args: string[]) =>
  (await execa("redis-cli", ["-p", String(port), ...args], { reject: false, timeout: 5000 })).stdout.trim();

describeEbpf(
  "an exec readiness check with a real redis, served as a tcp service by the shipped template",
  () => {
    let h: H;
    let redis: { stop(): Promise<void> } | undefined;
    let redisPort: number;
    let bind: number;
    beforeAll(async () => {
      h = await startHaproxyHarness(21, {
        services: (base) => {
          redisPort = base + 1;
          bind = base + 2;
          return {
            redis: [
              `ports: [${redisPort}]`,
              "uid: [0]",
              'comm: ["redis-server"]',
              'ready: { exec: [redis-cli, -h, "{address}", -p, "{port}", ping], stdout: PONG, interval: 50ms }',
              `meta: { mode: tcp, bind: "127.0.0.1:${bind}", checkOption: redis-check }`,
            ],
          };
        },
      });
    });
    afterAll(async () => {
      await redis?.stop();
      await h?.stop();
    });

    it("routes the replica only once it answers PONG, then serves redis through the tcp frontend", async () => {
      redis = await startReplica(redisPort);
      expect(
        await until(async () => (await redisCli(redisPort, "ping")).startsWith("MASTERDOWN"), 5000),
      ).toBe(true);
      await sleep(500);
      expect((await serversState(h.haproxy.statsSocket, "be_redis")).map((s) => s.name)).toEqual([]);
      expect(await redisCli(bind, "ping")).not.toBe("PONG");
      expect(await redisCli(redisPort, "replicaof", "no", "one")).toBe("OK");
      const promoted = Date.now();
      expect(await until(async () => (await redisCli(bind, "ping")) === "PONG", 5000)).toBe(true);
      console.log(`redis promoted → PONG through HAProxy: ${Date.now() - promoted} ms`);
      expect(await redisCli(bind, "set", "lbwatch", "ready")).toBe("OK");
      expect(await redisCli(redisPort, "get", "lbwatch")).toBe("ready");
      expect(await h.run.waitForLog((l) => l.msg === "backend ready", 2000)).toMatchObject({
        service: "redis",
        backend: `b127_0_0_1_${redisPort}`,
      });
    });
  },
);
