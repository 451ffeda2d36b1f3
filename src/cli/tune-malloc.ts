/**
 * Keeps what a large fleet's transient buffers took from staying resident in the daemons (`run`,
 * `agent`). Without it RSS ratchets up with every full render of a large fleet while the V8 heap
 * stays flat (the measurement is in native/malloc-tune.cc):
 * - large buffers stay out of glibc's brk heap (a fixed mmap threshold);
 * - after a major GC, which is when a full render's or a large Runtime API answer's buffers have
 *   been freed, the brk heap's free pages go back to the kernel (malloc_trim).
 * An operator who tunes malloc through the environment keeps their choice, since glibc read it at
 * start and a later mallopt would override it; the trim still runs, as it changes no setting.
 */
import { constants, PerformanceObserver } from "node:perf_hooks";
import type { Logger } from "../log.js";
import { loadAddon } from "../probe/native.js";

/** glibc's own starting threshold, kept from then on rather than raised to the largest free. */
export const MMAP_THRESHOLD_BYTES = 128 * 1024;
/**
 * A trim at most this often: a full render of 100,000 backends runs several major GCs, and the trim
 * walks the whole heap (~1 ms for 30 MiB).
 */
export const TRIM_AFTER_GC_MS = 1000;

const OPERATOR_SETTINGS = ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"];

export function tuneMalloc(log: Logger, env: NodeJS.ProcessEnv = process.env): void {
  let addon: ReturnType<typeof loadAddon>;
  try {
    addon = loadAddon();
  } catch (err) {
    // Memory tuning is not worth failing over: a missing addon is reported by whatever needs it.
    log.debug({ err: (err as Error).message }, "malloc not tuned: the native addon did not load");
    return;
  }
  trimAfterMajorGc(() => addon.trimMalloc());
  const chosen = OPERATOR_SETTINGS.find((name) => env[name] !== undefined);
  if (chosen || env.GLIBC_TUNABLES?.includes("glibc.malloc.")) {
    log.debug({ setting: chosen ?? "GLIBC_TUNABLES" }, "malloc tuned by the environment: left as it is");
    return;
  }
  if (!addon.tuneMalloc(MMAP_THRESHOLD_BYTES)) log.warn("mallopt refused the mmap threshold");
}

/** Calls `trim` TRIM_AFTER_GC_MS after a major GC, for as long as the process lives: no timer while idle. */
export function trimAfterMajorGc(trim: () => void): void {
  let pending: NodeJS.Timeout | undefined;
  const observer = new PerformanceObserver((list) => {
    if (pending) return;
    const major = list
      .getEntries()
      .some(
        (entry) =>
          (entry as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR,
      );
    if (!major) return;
    pending = setTimeout(() => {
      pending = undefined;
      trim();
    }, TRIM_AFTER_GC_MS);
    pending.unref();
  });
  observer.observe({ entryTypes: ["gc"] });
}
