import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { expect, it } from "vitest";
import { describeEbpf } from "../helpers/ebpf.js";

const child = fileURLToPath(new URL("../fixtures/probe-child.ts", import.meta.url));

/** Whether the kernel still has program `id` (bpftool fails for an id that is gone). */
async function programExists(id: number): Promise<boolean> {
  return (await execa("bpftool", ["prog", "show", "id", String(id)], { reject: false })).exitCode === 0;
}

describeEbpf("probe lifecycle", () => {
  it("holds BPF objects only while open: close() releases them all, and so does SIGKILL", async () => {
    const proc = execa("node", ["--import", "tsx", child, "hold"], { reject: false, timeout: 20_000 });
    const { value: line } = await createInterface({ input: proc.stdout })[Symbol.asyncIterator]().next();
    const report = JSON.parse(line as string);
    const attached = { kinds: ["bpf-map", "bpf-prog", "bpf_link"], progIds: [expect.any(Number)] };
    expect(report).toEqual({ open: attached, closed: { kinds: [], progIds: [] }, reopened: attached });
    const [id] = report.reopened.progIds as [number];
    expect(await programExists(id)).toBe(true);

    proc.kill("SIGKILL");
    await proc;
    // The kernel frees a program once its last fd is gone; nothing is pinned to keep it.
    const deadline = Date.now() + 5_000;
    while ((await programExists(id)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await programExists(id)).toBe(false);
  });
});
