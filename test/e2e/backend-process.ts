/** HTTP backends in their own processes (test/fixtures/http-backend.mjs), as lbwatch sees real services. */
import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import type { TestNetns } from "../helpers/netns.js";

const script = fileURLToPath(new URL("../fixtures/http-backend.mjs", import.meta.url));

export interface BackendProcess {
  port: number;
  /** Wall clock (epoch ms, sub-ms) when every port was listening. */
  listenedAt: number;
  /** Graceful stop: close the listeners, finish requests, exit. Resolves with when it stopped listening. */
  stop(): Promise<number>;
  /** SIGKILL: a crash. */
  kill(): Promise<void>;
  /** SIGSTOP / SIGCONT: a process that hangs while its sockets still listen, and one that resumes. */
  signal(signal: "SIGSTOP" | "SIGCONT"): void;
  /** With `readyAfterMs`: when /healthz started answering 200, and when the first client GET came. */
  readyAt(): Promise<number>;
  firstServedAt(): Promise<number>;
}

function firstLine(child: ResultPromise, prefix: string, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`backend printed no "${prefix}": ${out}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n").find((l) => l.startsWith(`${prefix} `));
      if (!line) return;
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      resolve(Number(line.split(" ")[1]));
    };
    child.stdout?.on("data", onData);
    const exited = (err: unknown) => {
      clearTimeout(timer);
      reject(err);
    };
    child.then(() => exited(new Error(`backend exited: ${out}`)), exited);
  });
}

export async function startBackend(
  addr: string,
  port: number,
  options: { count?: number; netns?: Pick<TestNetns, "spawn">; readyAfterMs?: number } = {},
): Promise<BackendProcess> {
  const argv = [process.execPath, script, addr, String(port), String(options.count ?? 1)];
  if (options.readyAfterMs !== undefined) argv.push(String(options.readyAfterMs));
  const child = options.netns
    ? options.netns.spawn(argv)
    : execa(argv[0] as string, argv.slice(1), { reject: false });
  const listenedAt = await firstLine(child, "listening");
  const ready = firstLine(child, "ready", 60_000);
  const first = firstLine(child, "first", 60_000);
  // Read only by tests that ask; the others must not see an unhandled rejection when it exits.
  ready.catch(() => undefined);
  first.catch(() => undefined);
  return {
    port,
    listenedAt,
    async stop() {
      const closed = firstLine(child, "closed");
      child.stdin?.end();
      const at = await closed;
      await child;
      return at;
    },
    async kill() {
      child.kill("SIGKILL");
      await child;
    },
    signal(signal) {
      child.kill(signal);
    },
    readyAt: () => ready,
    firstServedAt: () => first,
  };
}
