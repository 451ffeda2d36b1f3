import { LbwatchError } from "../errors.js";
import { runTool } from "./run-tool.js";

/**
 * Listen backlogs (sk_max_ack_backlog) of one network namespace, keyed by socket inode.
 *
 * /proc/net/tcp has no column for it (its rx_queue is the current accept-queue length), so this asks
 * the kernel's sock_diag, through iproute2's `ss`, which prints a listener's backlog limit as Send-Q
 * and its inode as `ino:N`. `ss` runs inside the namespace via `nsenter --net=/proc/PID/ns/net`
 * (argv only, no shell): one child per namespace, not per socket. A hand-written NETLINK_SOCK_DIAG
 * client would need a native addon of its own; that is not worth it for a once-per-snapshot read.
 */
export async function listenBacklogs(pid: number, inOwnNetns: boolean): Promise<Map<number, number>> {
  const ss = ["ss", "-H", "-l", "-t", "-n", "-e"];
  const argv = inOwnNetns ? ss : ["nsenter", `--net=/proc/${pid}/ns/net`, "--", ...ss];
  const { stdout, failure } = await runTool(argv);
  if (failure !== undefined) {
    throw new LbwatchError(
      "E_PROC",
      `reading listen backlogs with \`${argv.join(" ")}\` failed: ${failure} (install iproute2 and util-linux, run as root)`,
    );
  }
  return parseSsListeners(stdout);
}

/** `LISTEN RECV-Q SEND-Q LOCAL PEER ... ino:N ...` → inode → Send-Q. */
export function parseSsListeners(text: string): Map<number, number> {
  const backlogs = new Map<number, number>();
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    const ino = f.find((t) => t.startsWith("ino:"));
    if (f[0] !== "LISTEN" || !ino || f[2] === undefined) continue;
    backlogs.set(Number(ino.slice(4)), Number(f[2]));
  }
  return backlogs;
}
