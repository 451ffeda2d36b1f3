/**
 * Issue 9's attacks as a local user would run them, against `lbwatch run` and a real HAProxy: a
 * network namespace of the user's own with any address on its loopback, and process names that try
 * to write config lines. And the case the rules must keep working: container-like namespaces with a
 * veth to the host, directly or through a bridge.
 */
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ServerState } from "../../src/targets/haproxy/runtime-answers.js";
import { until } from "../cli/lbwatch-process.js";
import { ensureBuilt } from "../helpers/cli.js";
import { describeEbpf } from "../helpers/ebpf.js";
import { type RunningHaproxy, serversState } from "../helpers/haproxy.js";
import { get, waitFor } from "../helpers/http.js";
import { type ReadyProcess, waitReady } from "../helpers/listener-process.js";
import { createRoutedNetns, type RoutedNetns } from "../helpers/netns.js";
import { createTestUser, type TestUser } from "../helpers/test-user.js";
import { type BackendProcess, startBackend } from "./backend-process.js";
import { type Harness, startHaproxyHarness } from "./lb-harness.js";

type H = Harness & { haproxy: RunningHaproxy };
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const PYTHON = "/usr/bin/python3";

const servers = (h: H, backend: string): Promise<ServerState[]> =>
  serversState(h.haproxy.statsSocket, backend);
const refusals = (h: H) => h.run.logs().filter((l) => l.msg === "listener refused as a backend");

describeEbpf("lbwatch run against an unprivileged user's own network namespace", () => {
  let h: H;
  let user: TestUser;
  let attack: ReadyProcess;

  beforeAll(async () => {
    await ensureBuilt();
    // Port rules only, as in the issue: any local user may serve these ports, but only where the host reaches it.
    h = await startHaproxyHarness(5, {
      services: (base) => ({ web: [`ports: [${base}-${base + 99}]`] }),
      resync: "500ms",
    });
    user = await createTestUser("attack");
    const argv = [
      ...["unshare", "-U", "-r", "-n", PYTHON, fixture("userns-listener.py"), "169.254.169.254,10.9.9.9"],
      ...[`169.254.169.254:${h.base + 1}`, `0.0.0.0:${h.base + 2}`],
    ];
    attack = await waitReady(user.run(argv), "userns-listener.py");
  }, 60_000);

  afterAll(async () => {
    await attack?.stop();
    await user?.remove();
    await h?.stop();
  });

  it("gives no backend and no HAProxy server, and warns once per socket across resyncs", async () => {
    const [metadata, wildcard] = attack.ready.map(Number);
    await h.run.waitForLog((l) => l.msg === "listener refused as a backend" && l.sock === wildcard);
    await h.run.waitForLog((l) => l.msg === "listener refused as a backend" && l.sock === metadata);
    // Resyncs place every socket again: they must not warn again.
    const resyncs = () => h.run.logs().filter((l) => l.msg === "resynced from a fresh view").length;
    const before = resyncs();
    expect(await until(() => resyncs() >= before + 2, 10_000)).toBe(true);
    const userns =
      "its network namespace belongs to a user namespace other than the initial one (any user can make " +
      "such a namespace, with any address); set userns: allow on the service to accept it";
    expect(refusals(h).map(({ sock, uid, reason, level }) => ({ sock, uid, reason, level }))).toEqual(
      expect.arrayContaining([
        { sock: metadata, uid: user.uid, reason: "169.254.169.254 is link-local", level: 40 },
        { sock: wildcard, uid: user.uid, reason: userns, level: 40 },
      ]),
    );
    expect(refusals(h).filter((l) => l.sock === metadata || l.sock === wildcard)).toHaveLength(2);
    expect(refusals(h)[0]).toMatchObject({ pid: attack.pid, comm: "python3", netns: expect.any(Number) });
    expect(await servers(h, "be_web")).toEqual([]);
    expect(await h.ws.readDest()).not.toMatch(/^\s*server /m);
  });
});

describeEbpf("lbwatch run with container-like network namespaces", () => {
  const subnet = 2 * (process.pid % 50);
  let h: H;
  let direct: RoutedNetns;
  let bridged: RoutedNetns;
  const backends: BackendProcess[] = [];

  beforeAll(async () => {
    h = await startHaproxyHarness(6);
    [direct, bridged] = await Promise.all([
      createRoutedNetns("e2e-v", subnet),
      createRoutedNetns("e2e-b", subnet + 1, { bridge: true }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(backends.map((b) => b.kill()));
    await Promise.allSettled([direct?.destroy(), bridged?.destroy()]);
    await h?.stop();
  });

  it("routes a wildcard listener behind a veth and a specific one behind a bridge on their veth addresses", async () => {
    backends.push(await startBackend("0.0.0.0", h.base + 1, { netns: direct }));
    backends.push(await startBackend(bridged.address, h.base + 2, { netns: bridged }));
    const expected = [
      { address: direct.address, port: h.base + 1 },
      { address: bridged.address, port: h.base + 2 },
    ];
    const routed = async () =>
      (await servers(h, "be_web"))
        .filter((s) => s.adminState === 0)
        .map(({ address, port }) => ({ address, port }));
    expect(await until(async () => (await routed()).length === 2, 10_000)).toBe(true);
    expect(await routed()).toEqual(expected);
    // HAProxy, in the host's namespace, really reaches both through the veths.
    const answered = new Set<string>();
    await waitFor(async () => {
      answered.add((await get(h.haproxy.port, { host: "web" })).body);
      return answered.size === 2;
    }, 5_000);
    expect([...answered].sort()).toEqual([`port ${h.base + 1}`, `port ${h.base + 2}`]);
    expect(refusals(h)).toEqual([]);
  });
});

describeEbpf("lbwatch run with process names that try to write config", () => {
  let h: H;
  let user: TestUser;
  const evil: ReadyProcess[] = [];
  let root: BackendProcess | undefined;
  const names = ["\nserver e 10.1#", "\r\nbind :1"];

  beforeAll(async () => {
    h = await startHaproxyHarness(7, {
      // The template line: the process name in a comment after each server.
      edit: (t) => t.replace("{{> server-options}}", "{{> server-options}} # {{comm}} pid {{pid}}"),
      services: (base) => ({
        web: [`ports: [${base}-${base + 49}]`],
        root: [`ports: [${base + 50}-${base + 99}]`, "uid: [0]"],
      }),
    });
    user = await createTestUser("names");
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled([...evil.map((p) => p.stop()), root?.kill()]);
    await user?.remove();
    await h?.stop();
  });

  it("add no line to dest and no server to HAProxy, and a root listener of another service is routed meanwhile", async () => {
    for (const [i, name] of names.entries()) {
      const argv = [
        PYTHON,
        fixture("named-listener.py"),
        Buffer.from(name).toString("hex"),
        "127.0.0.1",
        `${h.base + 1 + i}`,
      ];
      evil.push(await waitReady(user.run(argv), "named-listener.py"));
    }
    root = await startBackend("127.0.0.1", h.base + 51);
    await waitFor(
      async () => (await get(h.haproxy.port, { host: "root" })).body === `port ${h.base + 51}`,
      5_000,
    );
    const ids = (list: ServerState[]) => list.map((s) => `${s.name} ${s.address}:${s.port}`);
    const web = [
      `b127_0_0_1_${h.base + 1} 127.0.0.1:${h.base + 1}`,
      `b127_0_0_1_${h.base + 2} 127.0.0.1:${h.base + 2}`,
    ];
    expect(await until(async () => ids(await servers(h, "be_web")).length === 2, 5_000)).toBe(true);
    expect([ids(await servers(h, "be_web")), ids(await servers(h, "be_root"))]).toEqual([
      web,
      [`b127_0_0_1_${h.base + 51} 127.0.0.1:${h.base + 51}`],
    ]);
    // dest follows the live change in the background.
    const serverLines = async () =>
      ((await h.ws.readDest()) ?? "").split("\n").filter((l) => /^\s*server /.test(l));
    expect(await until(async () => (await serverLines()).length === 3, 5_000)).toBe(true);
    // Each server's id is its slot: 1 in be_root, 1 and 2 in be_web in the order the two came.
    const lines = await serverLines();
    const slots = lines.map((l) => / id (\d+) /.exec(l)?.[1]);
    const [rootLine, ...webLines] = lines.map((l) => l.replace(/ id \d+ /, " "));
    expect([slots[0], slots.slice(1).sort()]).toEqual(["1", ["1", "2"]]);
    // The shipped template's health check, then the comment this test's template adds.
    const check = "check inter 2s fastinter 500ms fall 3 rise 2";
    expect(rootLine).toMatch(
      new RegExp(
        `^    server b127_0_0_1_${h.base + 51} 127\\.0\\.0\\.1:${h.base + 51} ${check} # \\S+ pid \\d+$`,
      ),
    );
    expect(webLines).toEqual([
      `    server b127_0_0_1_${h.base + 1} 127.0.0.1:${h.base + 1} ${check} # _server e 10.1# pid ${evil[0]?.pid}`,
      `    server b127_0_0_1_${h.base + 2} 127.0.0.1:${h.base + 2} ${check} # __bind :1 pid ${evil[1]?.pid}`,
    ]);
    const dest = (await h.ws.readDest()) ?? "";
    expect(dest.split("\n").filter((l) => /^\s*(server e|bind :1)/.test(l))).toEqual([]);
    expect([...dest].filter((c) => c !== "\n" && (c < " " || c > "~"))).toEqual([]);
  });
});
