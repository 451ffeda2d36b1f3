import { fileURLToPath } from "node:url";
import { execa, type ResultPromise } from "execa";
import type { TestNetns } from "./netns.js";

const script = fileURLToPath(new URL("../fixtures/listen.py", import.meta.url));

/** A child that prints a line "ready ..." once set up, and exits when its stdin closes. */
export interface ReadyProcess {
  pid: number;
  /** The words after "ready". */
  ready: string[];
  /** Closes stdin (SIGKILL after 5 s) and waits for the exit. */
  stop(): Promise<void>;
}

/** Waits (at most 10 s) for `child`'s ready line; `what` names it in errors. */
export async function waitReady(child: ResultPromise, what: string): Promise<ReadyProcess> {
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${what} did not start: ${out}`));
    }, 10_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.then((r) => reject(new Error(`${what} exited before it was ready: ${r.stderr}`)), reject);
  });
  return {
    pid: child.pid ?? 0,
    ready: line.trim().split(" ").slice(1),
    async stop() {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await child.catch(() => undefined);
      clearTimeout(timer);
    },
  };
}

/** A separate process holding one listening socket (test/fixtures/listen.py). */
export interface ListenerProcess {
  pid: number;
  port: number;
  /** Socket inode. */
  sock: number;
  /** Pid of the forked child that shares the socket, 0 without `fork`. */
  childPid: number;
  /** Closes stdin: the process (and its child) close the socket and exit. */
  stop(): Promise<void>;
}

/** Starts a listener on addr:port (port 0: kernel picks), inside `netns` when given. */
export async function startListenerProcess(opts: {
  addr: string;
  port?: number;
  backlog: number;
  /** Fork a child sharing the socket; "low": one whose pid is lower, as after a pid wrap. */
  fork?: boolean | "low";
  netns?: TestNetns;
}): Promise<ListenerProcess> {
  const argv = [
    "python3",
    script,
    opts.addr,
    String(opts.port ?? 0),
    String(opts.backlog),
    ...(opts.fork === "low" ? ["fork-low"] : opts.fork ? ["fork"] : []),
  ];
  const child = opts.netns
    ? opts.netns.spawn(argv)
    : execa(argv[0] as string, argv.slice(1), { reject: false });
  const started = await waitReady(child, "listen.py");
  const [port, sock, childPid] = started.ready.map(Number);
  return { pid: started.pid, port: port ?? 0, sock: sock ?? 0, childPid: childPid ?? 0, stop: started.stop };
}

const many = fileURLToPath(new URL("../fixtures/listen-many.py", import.meta.url));

/** One process listening on `port` at `count` addresses 127.1.x.y (test/fixtures/listen-many.py). */
export async function startManyListeners(port: number, count: number): Promise<ReadyProcess> {
  return waitReady(
    execa("python3", [many, String(port), String(count)], { reject: false }),
    "listen-many.py",
  );
}
