import { availableParallelism } from "node:os";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEbpf } from "../helpers/ebpf.js";
import { get, waitFor } from "../helpers/http.js";
import { type BackendProcess, startBackend } from "./backend-process.js";
import { startNginxHarness } from "./lb-harness.js";

describeEbpf("lbwatch with a real nginx (reload path)", () => {
  let h: Awaited<ReturnType<typeof startNginxHarness>>;
  const backends: BackendProcess[] = [];
  beforeAll(async () => {
    h = await startNginxHarness(4);
  });
  afterAll(async () => {
    await Promise.all(backends.map((b) => b.kill().catch(() => undefined)));
    await h?.stop();
  });
  const answer = async () => get(h.port, { host: "web" });

  it("answers 503 while service web has no backend", async () => {
    expect((await answer()).status).toBe(503);
  });

  it("routes a backend that starts listening, by a reload, within 2 s", async () => {
    const b = await startBackend("127.0.0.1", h.base + 1);
    backends.push(b);
    await waitFor(async () => (await answer()).body === `port ${b.port}`, 2000, 1);
    console.log(`listen() → first 200 through nginx: ${(Date.now() - b.listenedAt).toFixed(1)} ms`);
    const line = await h.run.waitForLog((l) => l.msg === "target applied" && String(l.added) !== "");
    expect(line).toMatchObject({ activation: "reload", added: [`b127_0_0_1_${b.port}`] });
  });

  it("stops routing to a killed backend and answers 503 again once none is left", async () => {
    const b = backends.pop() as BackendProcess;
    await b.kill();
    await waitFor(async () => (await answer()).status === 503, 3000, 5);
    const line = await h.run.waitForLog((l) => l.msg === "target applied" && String(l.removed) !== "");
    expect(line).toMatchObject({ activation: "reload", removed: [`b127_0_0_1_${b.port}`] });
  });

  it("is back to one master and its workers (worker_processes auto: one per CPU) after the reloads", async () => {
    await waitFor(async () => (await h.processes()) === 1 + availableParallelism(), 10_000, 50);
  });
});
