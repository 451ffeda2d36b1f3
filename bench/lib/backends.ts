/** Backends and idle listeners for the contender benchmarks (bench/helpers/listeners.py). */
import { readFile } from "node:fs/promises";
import { Child } from "./children.js";
import { LISTENERS_PY } from "./helpers.js";
import { idleEndpoint, type Layout } from "./lb-layout.js";

/** Listeners per helper process: run.ts raises the descriptor limit (inherited) well above this. */
const PER_PROCESS = 5000;

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

/** The soft limit on open files that helpers inherit from this process (run.ts raises it). */
export async function openFilesLimit(): Promise<number> {
  const limits = await readFile("/proc/self/limits", "utf8");
  const soft = /^Max open files\s+(\S+)/m.exec(limits)?.[1];
  return soft === "unlimited" ? Number.POSITIVE_INFINITY : Number(soft);
}

/** The layout's idle listeners (they accept and close: what a TCP health check needs), 5,000 per process. */
export async function startIdleListeners(layout: Layout): Promise<Child[]> {
  const limit = await openFilesLimit();
  if (layout.idleCount > 0 && limit < PER_PROCESS + 64) {
    throw new Error(
      `open files limit ${limit} is below the ${PER_PROCESS + 64} an idle-listener helper needs: run bench/run.ts as root (it raises it) or raise ulimit -n`,
    );
  }
  const children: Child[] = [];
  for (let start = 0; start < layout.idleCount; start += PER_PROCESS) {
    const binds = [];
    for (let i = start; i < Math.min(layout.idleCount, start + PER_PROCESS); i++) {
      const { address, port } = idleEndpoint(layout, i);
      binds.push(`${address}:${port}`);
    }
    children.push(Child.start("python3", [LISTENERS_PY, ...binds]));
  }
  await Promise.all(children.map((c) => c.waitFor((l) => l.ev === "ready", START_TIMEOUT_MS)));
  return children;
}
