import { fileURLToPath } from "node:url";
import { execa } from "execa";
import type { TestNetns } from "./netns.js";

const script = fileURLToPath(new URL("../fixtures/listen.py", import.meta.url));

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
  fork?: boolean;
  netns?: TestNetns;
}): Promise<ListenerProcess> {
  const argv = [
    "python3",
    script,
    opts.addr,
    String(opts.port ?? 0),
    String(opts.backlog),
    ...(opts.fork ? ["fork"] : []),
  ];
  const child = opts.netns
    ? opts.netns.spawn(argv)
    : execa(argv[0] as string, argv.slice(1), { reject: false });
  const line = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`listen.py did not start: ${out}`)), 10_000);
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.then((r) => reject(new Error(`listen.py exited before listening: ${r.stderr}`)), reject);
  });
  const [, port, sock, childPid] = line.trim().split(" ").map(Number);
  return {
    pid: child.pid ?? 0,
    port: port ?? 0,
    sock: sock ?? 0,
    childPid: childPid ?? 0,
    async stop() {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await child;
      clearTimeout(timer);
    },
  };
}
