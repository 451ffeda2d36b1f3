/**
 * Drives test/fixtures/timed-backend.mjs: one process (on this host or inside a simulated host) that
 * listens and closes on command and stamps each step with CLOCK_MONOTONIC, the clock of
 * process.hrtime here. For the cluster demo and benchmark: listen → served, close → unrouted.
 */
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { ResultPromise } from "execa";

const SCRIPT = fileURLToPath(new URL("../fixtures/timed-backend.mjs", import.meta.url));
const STEP_TIMEOUT_MS = 5000;

type Step = "listening" | "served" | "closed";

export interface TimedBackends {
  /** Listens on port; resolves with the CLOCK_MONOTONIC ns when listen() had returned. */
  listen(port: number): Promise<bigint>;
  /** Resolves with when the first request after the last listen on port arrived (waits for it). */
  served(port: number, timeoutMs?: number): Promise<bigint>;
  /** Closes port's listener; resolves with when it was closed. */
  close(port: number): Promise<bigint>;
  readonly pid: number;
}

export function startTimedBackends(
  host: { spawn(argv: string[]): ResultPromise },
  address = "0.0.0.0",
): TimedBackends {
  const child = host.spawn([process.execPath, SCRIPT, address]);
  // Steps seen and not yet taken, by `event port`; and who waits for one.
  const seen = new Map<string, bigint>();
  const waiting = new Map<string, (t: bigint) => void>();
  if (!child.stdout || !child.stdin) throw new Error("timed backend: no stdio pipes");
  createInterface({ input: child.stdout }).on("line", (line) => {
    const { event, port, t } = JSON.parse(line) as { event: string; port: number; t: string };
    const key = `${event} ${port}`;
    const waiter = waiting.get(key);
    if (waiter) {
      waiting.delete(key);
      waiter(BigInt(t));
    } else seen.set(key, BigInt(t));
  });
  const next = (step: Step, port: number, timeoutMs = STEP_TIMEOUT_MS) => {
    const key = `${step} ${port}`;
    const t = seen.get(key);
    if (t !== undefined) {
      seen.delete(key);
      return Promise.resolve(t);
    }
    return new Promise<bigint>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(key);
        reject(new Error(`timed backend: no "${step}" for port ${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(key, (value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
  };
  const send = (line: string) => child.stdin?.write(`${line}\n`);
  return {
    pid: child.pid ?? 0,
    listen(port) {
      seen.delete(`served ${port}`);
      const listened = next("listening", port);
      send(`listen ${port}`);
      return listened;
    },
    served: (port, timeoutMs) => next("served", port, timeoutMs),
    close(port) {
      const closed = next("closed", port);
      send(`close ${port}`);
      return closed;
    },
  };
}
