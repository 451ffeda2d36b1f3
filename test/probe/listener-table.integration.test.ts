import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ListenProbe } from "../../src/probe/listen-probe.js";
import { startListening } from "../../src/probe/listener-table.js";
import { netnsInodeOfPath } from "../../src/probe/netns.js";
import { snapshot } from "../../src/probe/snapshot.js";
import { describeEbpf } from "../helpers/ebpf.js";
import { type ListenerProcess, startListenerProcess } from "../helpers/listener-process.js";
import { createTestNetns, type TestNetns } from "../helpers/netns.js";

const churnScript = fileURLToPath(new URL("../fixtures/listen-churn.py", import.meta.url));

describeEbpf("startListening on the real probe", () => {
  let ns: TestNetns;
  let netns: number;
  let before: ListenerProcess;
  let probe: ListenProbe | undefined;

  beforeAll(async () => {
    ns = await createTestNetns("merge");
    netns = await netnsInodeOfPath(ns.path);
    before = await startListenerProcess({ addr: "127.0.0.1", port: 7000, backlog: 11, netns: ns });
  });

  afterAll(async () => {
    probe?.close();
    await before?.stop();
    await ns?.destroy();
  });

  it("yields each listener exactly once while listeners open and close during the snapshot", async () => {
    const churn = ns.spawn(["python3", churnScript, "1.5", String(process.pid)]);
    const lines = createInterface({ input: churn.stdout })[Symbol.asyncIterator]();
    expect((await lines.next()).value).toBe("started");

    probe = ListenProbe.open();
    let racing = 0; // events of the namespace that arrived while the snapshot was being taken
    let merged = false;
    probe.on("event", (ev) => {
      if (!merged && ev.netns === netns) racing++;
    });
    const present = new Set<number>();
    const violations: string[] = [];
    const listening = await startListening(probe, (ev, result) => {
      if (ev.netns !== netns) return;
      if (result === "added" && present.has(ev.sock)) violations.push(`added twice: ${ev.sock}`);
      if (result === "removed" && !present.has(ev.sock)) violations.push(`removed while absent: ${ev.sock}`);
      if (result === "added") present.add(ev.sock);
      if (result === "removed") present.delete(ev.sock);
    });
    merged = true;
    expect(racing).toBeGreaterThan(0);
    for (const l of listening.initial) if (l.netns === netns) present.add(l.sock);
    expect(listening.initial.filter((l) => l.sock === before.sock)).toEqual([
      expect.objectContaining({ pid: before.pid, netns, addr: "127.0.0.1", port: 7000, backlog: 11 }),
    ]);

    const stillOpen = JSON.parse((await lines.next()).value as string) as number[];
    const expected = [before.sock, ...stillOpen].sort((a, b) => a - b);
    const inTable = () =>
      [...listening.table.values()]
        .filter((l) => l.netns === netns)
        .map((l) => l.sock)
        .sort((a, b) => a - b);
    // Events already in the ring are delivered on the next loop turns: wait for them (bounded).
    for (let i = 0; i < 100 && inTable().join() !== expected.join(); i++)
      await new Promise((r) => setTimeout(r, 20));

    expect(violations).toEqual([]);
    expect(inTable()).toEqual(expected);
    expect([...present].sort((a, b) => a - b)).toEqual(expected);
    const fresh = (await snapshot()).filter((l) => l.netns === netns).map((l) => l.sock);
    expect(fresh.sort((a, b) => a - b)).toEqual(expected);
    expect(probe.stats().drops).toBe(0);
    listening.stop();
    churn.stdin?.end();
    await churn;
  });
});
