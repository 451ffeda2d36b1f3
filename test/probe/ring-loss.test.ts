import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { ListenProbe, type LostInfo } from "../../src/probe/listen-probe.js";
import { describeEbpf, EventRecorder } from "../helpers/ebpf.js";

const script = fileURLToPath(new URL("../fixtures/listen-scenario.py", import.meta.url));

describeEbpf("ring buffer loss", () => {
  it("counts every event a full ring could not take and reports it as lost", async () => {
    const probe = ListenProbe.open({ ringBytes: 4096 }); // room for ~40 records
    const recorder = new EventRecorder(probe);
    const lost: LostInfo[] = [];
    probe.on("lost", (info) => lost.push(info));
    // Synchronous: the loop cannot drain the ring while the child makes 2 * 300 events.
    const { pid } = JSON.parse(
      execFileSync("python3", [script, "churn", "300"], { timeout: 20_000 }).toString(),
    );
    const deadline = Date.now() + 5_000;
    while (lost.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const { drops } = probe.stats();
    probe.close();
    const delivered = recorder.matching((ev) => ev.pid === pid).length;
    // Other processes' listeners share the ring: counts are bounds, not exact figures.
    const lostCount = lost.reduce((n, l) => n + l.drops, 0);
    expect({
      reasons: [...new Set(lost.map((l) => l.reason))],
      lostReported: lostCount > 0 && lostCount <= drops,
      someDelivered: delivered > 0 && delivered < 600,
      accounted: delivered + drops >= 600,
    }).toEqual({ reasons: ["ring-full"], lostReported: true, someDelivered: true, accounted: true });
  });
});
