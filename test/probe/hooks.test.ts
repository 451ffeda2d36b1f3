import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { expect, it } from "vitest";
import { isLbwatchError } from "../../src/errors.js";
import { ListenProbe } from "../../src/probe/listen-probe.js";
import { defaultObjectPath } from "../../src/probe/native.js";
import { describeEbpf, EventRecorder } from "../helpers/ebpf.js";

const child = fileURLToPath(new URL("../fixtures/probe-child.ts", import.meta.url));

describeEbpf("probe hooks chosen at run time", () => {
  it("falls back to the tracepoint hook when forced, mounting tracefs where it is missing", async () => {
    // A private mount namespace: the child unmounts tracefs there without touching the host's.
    const argv = ["--mount", "--propagation", "private", "node", "--import", "tsx", child, "tracepoint"];
    const proc = execa("unshare", argv, { timeout: 20_000 });
    const { stdout } = await proc;
    const expected = {
      type: "listen",
      pid: proc.pid,
      tid: proc.pid,
      comm: "node",
      uid: 0,
      gid: 0,
      cgroupId: expect.any(String),
      netns: expect.any(Number),
      family: 4,
      addr: "127.0.0.1",
      port: expect.any(Number),
      backlog: 33,
      sock: expect.any(Number),
      ts: expect.any(String),
    };
    const out = JSON.parse(stdout);
    expect(out).toEqual({
      tracefsBefore: false,
      tracefsAfter: true,
      hook: "tracepoint",
      events: [expected, { ...expected, type: "close" }],
    });
    expect(out.events[0].sock).toBe(out.events[1].sock);
  });

  it("selects the kprobe hook, which fails with the reason on a kernel without kprobes", async () => {
    const kprobes = existsSync("/sys/bus/event_source/devices/kprobe");
    let error: unknown;
    try {
      const probe = ListenProbe.open({ hooks: ["kprobe"] });
      const recorder = new EventRecorder(probe);
      const server = (await import("node:net"))
        .createServer()
        .listen({ host: "127.0.0.1", port: 0, backlog: 9 });
      const [listen] = await recorder.waitFor((ev) => ev.pid === process.pid && ev.backlog === 9);
      server.close();
      probe.close();
      expect([probe.hook, listen?.type]).toEqual(["kprobe", "listen"]);
    } catch (err) {
      error = err;
    }
    if (kprobes) return expect(error).toBeUndefined();
    expect(isLbwatchError(error, "E_BPF_LOAD") && error.message).toMatch(
      new RegExp(
        `^no kernel hook could be loaded and attached from ${defaultObjectPath}\\. Tried:\n` +
          "  kprobe: attach lbwatch_kprobe_listen: .+ \\(E[A-Z]+\\) \\[libbpf: .*kprobe.*\\]\n" +
          "tp_btf needs kernel BTF",
      ),
    );
  });
});
