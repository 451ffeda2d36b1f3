/**
 * The typed listen/close event. It mirrors `struct lbwatch_event` in bpf/lbwatch.h (the single
 * definition shared by the BPF program and the addon); test/probe/event-layout.test.ts checks that
 * the TypeScript decoder and the C layout agree.
 */
export type ListenEventType = "listen" | "close";

/** A listening socket as both the kernel stream and the /proc snapshot describe it. */
export interface Listener {
  /** Process id (thread-group id: what `ps` and /proc call the pid). */
  pid: number;
  /** Thread id that made the call (equals pid for single-threaded processes; snapshot: pid). */
  tid: number;
  comm: string;
  uid: number;
  gid: number;
  /** cgroup v2 id (inode of the cgroup directory); 0 when unknown. */
  cgroupId: bigint;
  /** Inode number of the network namespace (as in /proc/PID/ns/net -> net:[N]). */
  netns: number;
  family: 4 | 6;
  /** Local address in canonical text form: "0.0.0.0", "127.0.0.1", "::", "::ffff:10.0.0.1". */
  addr: string;
  /** Local port, host byte order; never 0 in an emitted event (resolved from /proc when the kernel said 0). */
  port: number;
  /** sk_max_ack_backlog: the effective backlog after the kernel's somaxconn clamp. */
  backlog: number;
  /** Socket identity: the socket inode, as in /proc/net/tcp and /proc/PID/fd -> socket:[N]. */
  sock: number;
}

export interface ListenEvent extends Listener {
  type: ListenEventType;
  /** Kernel monotonic timestamp (bpf_ktime_get_ns), nanoseconds. */
  ts: bigint;
}

/** Which kernel hook is delivering events. */
export type HookName = "tp_btf" | "tracepoint" | "kprobe";
