/**
 * lbwatch against an etcd that wants TLS with a client certificate (--client-cert-auth) and has
 * authentication enabled: a user `lb` whose role may read and write the test's prefix and nothing else.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { defaultRouteAddress } from "../../src/agent/host-addresses.js";
import {
  createWorkspace,
  type LbwatchRun,
  lbwatchBin,
  portBlock,
  startLbwatch,
  startRun,
  until,
  type Workspace,
} from "../cli/lbwatch-process.js";
import { describeEbpf } from "../helpers/ebpf.js";
import { fetchPath, freePort } from "../helpers/endpoint.js";
import { type EtcdCluster, startEtcd } from "../helpers/etcd.js";
import { startListenerProcess } from "../helpers/listener-process.js";
import { createTestPki, type KeyPair, type TestPki } from "../helpers/test-pki.js";

const PREFIX = "/lbwatch-tls";
const REFUSED_RUN = "etcd refused the connection: keeping the last backends (fail static) and retrying";
const REFUSED_AGENT = "etcd refused the connection: local changes wait; the lease expires after ttl";

let dir: string;
let pki: TestPki;
let etcd: EtcdCluster;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lbwatch-etcd-tls-"));
  pki = await createTestPki(dir);
  etcd = await startEtcd({ tls: pki, rootPassword: "root-secret" });
  const admin = etcd.client();
  await admin.role("lb").create();
  await admin.role("lb").grant({ permission: "Readwrite", range: admin.range({ prefix: `${PREFIX}/` }) });
  await admin.user("lb").create("lb-secret");
  await admin.user("lb").addRole("lb");
  await writeFile(join(dir, "password"), "lb-secret\n", { mode: 0o600 });
  await writeFile(join(dir, "wrong-password"), "not-it\n", { mode: 0o600 });
}, 90_000);
afterAll(async () => {
  await etcd?.destroy();
  await rm(dir, { recursive: true, force: true });
});

let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  cleanups = [];
});

/** The `etcd:` mapping, as YAML flow; `pair: null` gives no client certificate. */
function etcdYaml(options: { pair?: KeyPair | null; passwordFile?: string; prefix?: string } = {}): string {
  const pair = options.pair === undefined ? pki.client : options.pair;
  const cert = pair ? `, cert: ${pair.cert}, key: ${pair.key}` : "";
  const password = join(dir, options.passwordFile ?? "password");
  return `{ endpoints: ${JSON.stringify(etcd.endpoints)}, prefix: ${options.prefix ?? PREFIX}, tls: { ca: ${pki.ca}${cert} }, auth: { username: lb, passwordFile: ${password} } }`;
}

async function workspace(
  slot: number,
  etcdSettings: string,
  more = "",
): Promise<{ base: number; ws: Workspace }> {
  const base = portBlock(slot);
  const ws = await createWorkspace({
    ports: `${base}-${base + 99}`,
    extra: `sources:\n  - etcd: ${etcdSettings}\n${more}`,
  });
  cleanups.push(() => ws.remove());
  return { base, ws };
}

async function startAgent(base: number, etcdSettings: string): Promise<LbwatchRun> {
  const file = join(dir, `agent-${base}.yaml`);
  await writeFile(
    file,
    [
      `hostId: tls-${process.pid}`,
      `etcd: ${etcdSettings}`,
      "resync: 0",
      `services: { web: { ports: [${base}-${base + 99}], uid: [0] } }`,
      "",
    ].join("\n"),
  );
  const agent = await startLbwatch(["agent", "-c", file], { ready: "agent publishing", timeoutMs: 90_000 });
  cleanups.push(() => agent.stop());
  return agent;
}

const lbwatch = (...args: string[]) => execa(lbwatchBin, args, { reject: false, timeout: 60_000 });

describeEbpf("lbwatch agent and run over TLS with a client certificate and an etcd user", () => {
  it("publishes a listener that run's etcd source renders into dest", async () => {
    const { base, ws } = await workspace(40, etcdYaml());
    const listener = await startListenerProcess({ addr: "0.0.0.0", port: base + 7, backlog: 8 });
    cleanups.push(() => listener.stop());
    const agent = await startAgent(base, etcdYaml());
    const admin = etcd.client();
    const published = await until(
      async () => (await admin.getAll().prefix(`${PREFIX}/v1/backends/`).keys()).length > 0,
      30_000,
    );
    expect(published, JSON.stringify(agent.logs().slice(-5))).toBe(true);
    const address = (await defaultRouteAddress(4)) ?? "";
    const result = await lbwatch("run", "--once", "-c", ws.config);
    expect([result.exitCode, await ws.readDest()]).toEqual([
      0,
      `server b${address.replaceAll(".", "_")}_${base + 7} ${address}:${base + 7}\n`,
    ]);
  }, 120_000);

  it("logs a wrong password once, with what to check, and keeps retrying", async () => {
    const base = portBlock(41);
    const agent = await startAgent(base, etcdYaml({ passwordFile: "wrong-password" }));
    const line = await agent.waitForLog((l) => l.msg === REFUSED_AGENT, 30_000);
    expect(line).toMatchObject({
      kind: "auth",
      error: "3 INVALID_ARGUMENT: etcdserver: authentication failed, invalid user ID or password",
      check: "auth.username and auth.passwordFile: etcd has no user with that name and password",
    });
    // Several retries later (backoff up to 5 s): still running, still that one line.
    await new Promise((r) => setTimeout(r, 6000));
    expect(agent.logs().filter((l) => l.msg === REFUSED_AGENT)).toHaveLength(1);
    expect(
      await Promise.race([agent.exited(), new Promise((r) => setTimeout(() => r("running"), 100))]),
    ).toBe("running");
  }, 60_000);
});

describe("lbwatch agent and a changed config", () => {
  it("connects once a SIGHUP reads a corrected password file, adopting its lease; an invalid config is refused and it goes on", async () => {
    const base = portBlock(45);
    await writeFile(join(dir, "agent-password"), "not-it\n", { mode: 0o600 });
    const listener = await startListenerProcess({ addr: "0.0.0.0", port: base + 7, backlog: 8 });
    cleanups.push(() => listener.stop());
    const agent = await startAgent(base, etcdYaml({ passwordFile: "agent-password" }));
    await agent.waitForLog((l) => l.msg === REFUSED_AGENT, 30_000);
    const admin = etcd.client();
    // This test's listener only: the first test's keys may still be there, under their lease.
    const keys = async () =>
      (await admin.getAll().prefix(`${PREFIX}/v1/backends/`).keys()).filter((k) =>
        k.endsWith(`_${base + 7}`),
      );
    expect(await keys()).toEqual([]);
    await writeFile(join(dir, "agent-password"), "lb-secret\n", { mode: 0o600 });
    agent.signal("SIGHUP");
    await agent.waitForLog((l) => l.msg === "config reloaded: restarting the agent on it", 10_000);
    expect(await until(async () => (await keys()).length === 1, 30_000)).toBe(true);
    const lease = async () => (await admin.get((await keys())[0] as string).exec()).kvs[0]?.lease.toString();
    const before = await lease();
    // A config that no longer loads: refused, and the agent keeps publishing under the same lease.
    const file = join(dir, `agent-${base}.yaml`);
    const good = await readFile(file, "utf8");
    await writeFile(file, `${good}bogus: 1\n`);
    agent.signal("SIGHUP");
    const refused = await agent.waitForLog(
      (l) => l.msg === "config reload refused: the agent goes on as it was",
      10_000,
    );
    expect(String(refused.error)).toContain("bogus");
    // A valid one again: restarted in place, the new agent adopts the lease, the key never goes away.
    await writeFile(file, good);
    agent.signal("SIGHUP");
    expect(
      await until(() => agent.logs().filter((l) => l.msg === "agent publishing").length === 3, 20_000),
    ).toBe(true);
    expect([await keys(), await lease()]).toEqual([[expect.any(String)], before]);
    expect(
      await Promise.race([agent.exited(), new Promise((r) => setTimeout(() => r("running"), 100))]),
    ).toBe("running");
  }, 90_000);
});

describe("lbwatch run refused by etcd", () => {
  it("says etcd refused its certificate, keeps running, and connects once a SIGHUP reads the rotated files", async () => {
    const rotated = { cert: join(dir, "rotated.crt"), key: join(dir, "rotated.key") };
    await copyFile(pki.stranger.cert, rotated.cert);
    await copyFile(pki.stranger.key, rotated.key);
    const httpPort = await freePort();
    const { ws } = await workspace(
      42,
      etcdYaml({ pair: rotated }),
      `http: { listen: "127.0.0.1:${httpPort}" }`,
    );
    const run = await startRun(ws, [], { timeoutMs: 90_000 });
    cleanups.push(() => run.stop());
    const line = await run.waitForLog((l) => l.msg === REFUSED_RUN, 30_000);
    // Status says what the log says, not gRPC's "No connection established".
    const status = JSON.parse((await fetchPath({ port: httpPort }, "/status")).body) as {
      sources: { kind: string; state: string; detail?: string }[];
    };
    expect(status.sources.find((s) => s.kind === "etcd")).toMatchObject({
      state: "stale",
      detail: `${line.error}; check ${line.check}`,
    });
    // TLS 1.3: etcd's refusal arrives as an alert after the client's side of the handshake.
    expect(line).toMatchObject({
      kind: "tls",
      error: `${etcd.endpoints[0]}: sslv3 alert bad certificate`,
      check:
        "tls.cert and tls.key: etcd (--client-cert-auth) refused the certificate; it must be signed by etcd's --trusted-ca-file, be valid now and allow client authentication",
    });
    await copyFile(pki.client.cert, rotated.cert);
    await copyFile(pki.client.key, rotated.key);
    run.signal("SIGHUP");
    await run.waitForLog((l) => l.msg === "etcd source watching", 30_000);
    expect(run.logs().filter((l) => l.msg === REFUSED_RUN)).toHaveLength(1);
  }, 90_000);

  it("run --once without a client certificate exits 1 after saying etcd wants one, dest untouched", async () => {
    const { ws } = await workspace(43, etcdYaml({ pair: null }));
    const result = await lbwatch("run", "--once", "-c", ws.config);
    expect([result.exitCode, await ws.readDest()]).toEqual([1, undefined]);
    expect(result.stderr).toContain(
      '"check":"tls.cert and tls.key: etcd wants a client certificate (--client-cert-auth)"',
    );
  }, 90_000);

  it("run --once on a prefix its user may not read says which permission to grant", async () => {
    const { ws } = await workspace(44, etcdYaml({ prefix: "/elsewhere" }));
    const result = await lbwatch("run", "--once", "-c", ws.config);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      'the roles of the etcd user \\"lb\\": it needs read on the keys under /elsewhere/ (etcdctl role grant-permission ROLE --prefix=true read /elsewhere/)',
    );
  }, 90_000);
});
