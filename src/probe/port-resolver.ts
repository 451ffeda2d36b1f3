/**
 * Keeps each socket's events in kernel order while filling in ports the kernel reported as 0.
 *
 * listen() without bind(), and a shut-down listener listening again after its port was released, are
 * traced before the kernel picks the port. Such a listen is held, with the socket's later events
 * queued behind it, until its port is known: from /proc/PID/net/tcp{,6} by socket inode, or from the
 * socket's close if one arrives first (the BPF side reads the port it had from inet_sport). Other
 * sockets' events pass straight through, so order is kept per socket, not across sockets.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { ListenEvent } from "./event.js";
import { type ProcTcpEntry, readProcNetTcp } from "./proc-net-tcp.js";

/** Delays before each /proc read: the row is normally there on the first read; ~100 ms in all. */
const RETRY_DELAYS_MS = [0, 1, 5, 20, 75];

export type ReadListeners = (pid: number) => Promise<ProcTcpEntry[]>;

const readListeners: ReadListeners = (pid) => readProcNetTcp(pid, { listenOnly: true });

export class PortResolver {
  /** Sockets whose listen awaits its port: the listen first, then what arrived after it. */
  private readonly held = new Map<number, ListenEvent[]>();
  /** Ports this resolver filled in, for a close the kernel reports with port 0. */
  private readonly resolvedPorts = new Map<number, number>();
  /** Sockets whose listen was never emitted: their close is not emitted either. */
  private readonly unannounced = new Set<number>();
  private closed = false;

  constructor(
    private readonly emit: (ev: ListenEvent) => void,
    /** A listen whose port could not be found (the process vanished or left the netns): dropped. */
    private readonly onUnresolved: (ev: ListenEvent) => void,
    private readonly read: ReadListeners = readListeners,
  ) {}

  push(ev: ListenEvent): void {
    if (this.closed) return;
    const queue = this.held.get(ev.sock);
    if (queue) {
      queue.push(ev);
      return;
    }
    if (ev.type === "listen" && ev.port === 0) {
      this.held.set(ev.sock, [ev]);
      void this.resolve(ev);
      return;
    }
    if (ev.type === "close") {
      if (this.unannounced.delete(ev.sock)) return;
      if (ev.port === 0) ev.port = this.resolvedPorts.get(ev.sock) ?? 0;
      this.resolvedPorts.delete(ev.sock);
    }
    this.emit(ev);
  }

  /** Drops held events and stops pending lookups. */
  close(): void {
    this.closed = true;
    this.held.clear();
  }

  private async resolve(listen: ListenEvent): Promise<void> {
    const port = await this.findPort(listen);
    if (this.closed) return;
    const queued = this.held.get(listen.sock)?.slice(1) ?? [];
    this.held.delete(listen.sock);
    if (port) {
      listen.port = port;
      this.resolvedPorts.set(listen.sock, port);
      this.emit(listen);
    } else {
      this.unannounced.add(listen.sock);
      this.onUnresolved(listen);
    }
    for (const ev of queued) this.push(ev);
  }

  /** A queued close knows the port exactly; else /proc, while the socket is still listening. */
  private async findPort(listen: ListenEvent): Promise<number | undefined> {
    const closePort = () => this.held.get(listen.sock)?.find((ev) => ev.type === "close")?.port;
    for (const delay of RETRY_DELAYS_MS) {
      if (delay) await sleep(delay);
      if (this.closed) return undefined;
      if (closePort() !== undefined) return closePort();
      const rows = await this.read(listen.pid).catch(() => []);
      // A close that arrived during the read wins: the row may already be a later listen's.
      if (closePort() !== undefined) return closePort();
      const row = rows.find((r) => r.inode === listen.sock);
      if (row) return row.port;
    }
    return undefined;
  }
}
