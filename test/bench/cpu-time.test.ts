import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { cpuWindow, treeCpuSeconds } from "../../bench/lib/cpu-time.js";

/** A shell-free parent: python that starts a CPU-burning child after delayMs, reaps it, then idles. */
function parentWithShortChild(delayMs: number, burnMs: number) {
  const script = `
import os, time
time.sleep(${delayMs / 1000})
pid = os.fork()
if pid == 0:
    end = time.time() + ${burnMs / 1000}
    while time.time() < end: pass
    os._exit(0)
os.waitpid(pid, 0)
time.sleep(30)
`;
  return execa("python3", ["-c", script], { reject: false });
}

describe("cpuWindow", () => {
  it("counts the CPU of a child that starts and is reaped inside the window", async () => {
    const parent = parentWithShortChild(300, 400);
    try {
      const pid = parent.pid as number;
      await new Promise((r) => setTimeout(r, 100));
      const result = await cpuWindow({ parent: pid }, 1500);
      const perMin = (result.parent as { cpuSecPerMin: number }).cpuSecPerMin;
      // 0.4 s of CPU in a 1.5 s window is 16 s/min; ticks are 10 ms and the machine is shared.
      expect(perMin).toBeGreaterThan(12);
      expect(perMin).toBeLessThan(20);
    } finally {
      parent.kill("SIGKILL");
      await parent;
    }
  }, 10_000);

  it("reports a process that exits during the window as an error, not a figure", async () => {
    const child = execa("sleep", ["0.2"], { reject: false });
    const result = await cpuWindow({ sleeper: child.pid as number }, 600);
    await child;
    expect(result).toEqual({ sleeper: { error: "the process exited during the window" } });
  });
});

describe("treeCpuSeconds", () => {
  it("rejects for a pid that does not exist", async () => {
    await expect(treeCpuSeconds(2 ** 22 + 1)).rejects.toThrow(/ENOENT/);
  });
});
