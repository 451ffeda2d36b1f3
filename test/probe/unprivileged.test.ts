import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { expect, it } from "vitest";
import { describeEbpf } from "../helpers/ebpf.js";

const child = fileURLToPath(new URL("../fixtures/probe-child.ts", import.meta.url));

describeEbpf("probe without privileges", () => {
  it("fails with E_BPF_PERM naming the capabilities it needs and every hook it tried", async () => {
    const run = await execa(
      "setpriv",
      [
        ...["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"],
        ...["node", "--import", "tsx", child, "open"],
      ],
      { timeout: 20_000 },
    );
    expect(JSON.parse(run.stdout)).toEqual({
      code: "E_BPF_PERM",
      message: expect.stringMatching(
        new RegExp(
          "^loading the BPF probe was refused: lbwatch needs root, or CAP_BPF\\+CAP_PERFMON \\(and CAP_SYS_ADMIN " +
            "to mount tracefs for the tracepoint hook\\): run it as root or give its process those capabilities\\. Tried:\n" +
            "  tp_btf: load: Operation not permitted \\(EPERM\\)\n" +
            "  tracepoint: (mount tracefs at /sys/kernel/tracing|load): Operation not permitted \\(EPERM\\)\n" +
            "  kprobe: load: Operation not permitted \\(EPERM\\)$",
        ),
      ),
    });
  });
});
