import { execa } from "execa";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEbpf } from "../helpers/ebpf.js";
import { get, waitFor } from "../helpers/http.js";
import { createTestNetns, type TestNetns } from "../helpers/netns.js";
import { type BackendProcess, startBackend } from "./backend-process.js";
import { startHaproxyHarness } from "./lb-harness.js";

/** A template edit that breaks the config as soon as service web has a backend. */
const BROKEN = "{{#if services.web.backends}}    no-such-keyword\n{{/if}}";

describeEbpf("lbwatch with a real HAProxy: a render that HAProxy's check rejects", () => {
  let h: Awaited<ReturnType<typeof startHaproxyHarness>>;
  let b: BackendProcess | undefined;
  beforeAll(async () => {
    h = await startHaproxyHarness(2, { edit: (t) => t.replace("defaults\n", `defaults\n${BROKEN}`) });
  });
  afterAll(async () => {
    await b?.kill();
    await h?.stop();
  });

  it("keeps out the backend whose render fails the check, logging the failing line, and HAProxy ends as before", async () => {
    const before = await h.ws.readDest();
    b = await startBackend("127.0.0.1", h.base + 1);
    const kept = await h.run.waitForLog((l) => String(l.msg).startsWith("backend quarantined"));
    expect(kept).toMatchObject({ service: "web", backend: `b127_0_0_1_${h.base + 1}`, comm: "node" });
    // haproxy -c names "[<staged file>:<line>]"; the line is the one holding the bad keyword.
    const line = (before ?? "").split("\n").indexOf("defaults") + 2;
    expect(String(kept.checker)).toMatch(new RegExp(`:${line}\\] : unknown keyword 'no-such-keyword'`));
    // It was routed live before the check of the file behind it failed; the quarantine takes it out.
    await waitFor(async () => (await get(h.haproxy.port, { host: "web" })).status === 503, 3000, 10);
    expect(await h.ws.readDest()).toBe(before);
  });
});

describeEbpf("lbwatch with a real HAProxy: backends in another network namespace", () => {
  // HAProxy runs in one test-made namespace, the backend in another, joined by a veth pair.
  const subnet = `10.${100 + (process.pid % 100)}.${process.pid % 250}`;
  let lb: TestNetns;
  let be: TestNetns;
  let h: Awaited<ReturnType<typeof startHaproxyHarness>>;
  beforeAll(async () => {
    lb = await createTestNetns("lb");
    be = await createTestNetns("be");
    await be.ip("link", "add", "v0", "type", "veth", "peer", "name", "v1", "netns", lb.name);
    await be.ip("addr", "add", `${subnet}.2/24`, "dev", "v0");
    await lb.ip("addr", "add", `${subnet}.1/24`, "dev", "v1");
    await be.ip("link", "set", "v0", "up");
    await lb.ip("link", "set", "v1", "up");
    // The host has no route to the backend's namespace (HAProxy's has): only naming it makes it a backend.
    h = await startHaproxyHarness(3, {
      wrap: (argv) => ["ip", "netns", "exec", lb.name, ...argv],
      services: (base) => ({
        web: [`ports: [${base}-${base + 99}]`, "uid: [0]", 'comm: ["node*"]', `netns: ${be.path}`],
      }),
    });
  });
  afterAll(async () => {
    await h?.stop();
    await be?.destroy();
    await lb?.destroy();
  });

  it("routes to the backend's veth address", async () => {
    await startBackend("0.0.0.0", h.base + 1, { netns: be });
    const curl = ["ip", "netns", "exec", lb.name, "curl", "-s", "-m", "2", "-H", "Host: web"];
    const url = `http://127.0.0.1:${h.haproxy.port}/`;
    await waitFor(
      async () => (await execa(curl[0] as string, [...curl.slice(1), url])).stdout === `port ${h.base + 1}`,
      5000,
      10,
    );
    // Routed through the Runtime API first: dest is written (checked) behind it.
    const line = `server b${subnet.replaceAll(".", "_")}_2_${h.base + 1} ${subnet}.2:${h.base + 1}`;
    await waitFor(async () => (await h.ws.readDest())?.includes(line) === true, 5000, 10).catch(
      () => undefined,
    );
    expect(await h.ws.readDest()).toContain(line);
  });
});
