/** Backends and idle listeners for the contender benchmarks (bench/helpers/listeners.py). */
import { Child } from "./children.js";
import { LISTENERS_PY } from "./helpers.js";
import { idleAddress } from "./lb-layout.js";

const PER_PROCESS = 1000;

/** Python start-up alone takes seconds on a loaded 2-core machine. */
const START_TIMEOUT_MS = 30_000;

/** An HTTP backend on 127.0.0.1:port that reports listen and first-request times. */
export function startBackend(port: number): Child {
  return Child.start("python3", [LISTENERS_PY, "--http", "--hold-ms", "100", `127.0.0.1:${port}`]);
}

/** The same backend, started but listening only when listenNow() is called. */
export async function armBackend(port: number): Promise<{ child: Child; listenNow: () => void }> {
  const child = Child.start("python3", [
    LISTENERS_PY,
    "--http",
    "--armed",
    "--hold-ms",
    "100",
    `127.0.0.1:${port}`,
  ]);
  await child.waitFor((l) => l.ev === "armed", START_TIMEOUT_MS);
  return { child, listenNow: () => child.signal("SIGUSR1") };
}

export async function waitListening(backend: Child): Promise<bigint> {
  const line = await backend.waitFor((l) => l.ev === "listening", START_TIMEOUT_MS);
  return BigInt(line.t as number);
}

/** Waits for the first request through HAProxy; undefined when it did not come within timeoutMs. */
export async function waitFirstRequest(backend: Child, timeoutMs: number): Promise<bigint | undefined> {
  try {
    const line = await backend.waitFor((l) => l.ev === "first", timeoutMs);
    return BigInt(line.t as number);
  } catch {
    return undefined;
  }
}

/** count listeners on 127.77.x.y:port that accept and close, at most 1000 per helper process. */
export async function startIdleListeners(count: number, port: number): Promise<Child[]> {
  const children: Child[] = [];
  for (let start = 0; start < count; start += PER_PROCESS) {
    const binds = [];
    for (let i = start; i < Math.min(count, start + PER_PROCESS); i++)
      binds.push(`${idleAddress(i)}:${port}`);
    children.push(Child.start("python3", [LISTENERS_PY, ...binds]));
  }
  await Promise.all(children.map((c) => c.waitFor((l) => l.ev === "ready", START_TIMEOUT_MS)));
  return children;
}
