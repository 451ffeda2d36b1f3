/**
 * Issue 2, benchmark 4: what `lbwatch events` costs while nothing happens. CPU seconds from
 * /proc/PID/stat and context switches of all its threads (a periodic timer shows up as wake-ups)
 * over a window after start-up. Other processes on this machine may still listen or close during the
 * window; the events it printed are counted so a busy window is visible in the result.
 */
import type { BenchContext, Benchmark } from "./lib/bench.js";
import { Child } from "./lib/children.js";
import { contextSwitches, procStat } from "./lib/cpu-time.js";
import { lbwatchArgv, sleep } from "./lib/helpers.js";
import { round } from "./lib/percentiles.js";

export const idleCpu: Benchmark = {
  name: "idle-cpu",
  async run(ctx: BenchContext) {
    const windowMs = ctx.quick ? 5000 : 10_000;
    const child = Child.start(process.execPath, lbwatchArgv(["events"]), {
      env: { LBWATCH_LOG_LEVEL: "warn" },
    });
    try {
      // Start-up (module loading, BPF load, JIT) is not idle time.
      await sleep(2500);
      if (child.exited) throw new Error(`lbwatch events exited at start: ${child.stderrTail}`);
      const cpu0 = (await procStat(child.pid)).cpuSeconds;
      const cs0 = await contextSwitches(child.pid);
      const lines0 = child.lines().length;
      await sleep(windowMs);
      const cpu1 = (await procStat(child.pid)).cpuSeconds;
      const cs1 = await contextSwitches(child.pid);
      const seconds = windowMs / 1000;
      return {
        command: "lbwatch events",
        windowSeconds: seconds,
        cpuSeconds: round(cpu1 - cpu0, 2),
        cpuSecondsPerMinute: round(((cpu1 - cpu0) * 60) / seconds, 2),
        contextSwitches: cs1 - cs0,
        wakeupsPerSecond: round((cs1 - cs0) / seconds, 1),
        eventsPrintedDuringWindow: child.lines().length - lines0,
      };
    } finally {
      await child.stop();
    }
  },
};
