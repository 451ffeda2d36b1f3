/**
 * Keeps large buffers out of glibc's brk heap for the daemons (`run`, `agent`): without it RSS
 * ratchets up with every full render of a large fleet while the V8 heap stays flat (the measurement
 * is in native/malloc-tune.cc). An operator who tunes malloc through the environment keeps their
 * choice, since glibc read it at start and a later mallopt would override it.
 */
import type { Logger } from "../log.js";
import { loadAddon } from "../probe/native.js";

/** glibc's own starting threshold, kept from then on rather than raised to the largest free. */
export const MMAP_THRESHOLD_BYTES = 128 * 1024;

const OPERATOR_SETTINGS = ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"];

export function tuneMalloc(log: Logger, env: NodeJS.ProcessEnv = process.env): void {
  const chosen = OPERATOR_SETTINGS.find((name) => env[name] !== undefined);
  if (chosen || env.GLIBC_TUNABLES?.includes("glibc.malloc.")) {
    log.debug({ setting: chosen ?? "GLIBC_TUNABLES" }, "malloc tuned by the environment: left as it is");
    return;
  }
  try {
    if (!loadAddon().tuneMalloc(MMAP_THRESHOLD_BYTES)) log.warn("mallopt refused the mmap threshold");
  } catch (err) {
    // Memory tuning is not worth failing over: a missing addon is reported by whatever needs it.
    log.debug({ err: (err as Error).message }, "malloc not tuned: the native addon did not load");
  }
}
