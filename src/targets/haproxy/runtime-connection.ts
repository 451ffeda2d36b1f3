/**
 * ONE persistent connection to a HAProxy's stats socket, shared by every caller, in the CLI's
 * interactive mode (`prompt`): the connection stays open after each command and every answer ends
 * with the prompt (prompt-frames.ts). HAProxy runs the commands of a connection one after the other,
 * in order, so a send writes all its lines at once (pipelining) and answers are matched first in,
 * first out, also between concurrent callers.
 *
 * Every send ends with a `show info` of its own: a reload does not close CLI connections (the old
 * worker keeps answering them, on its old state, until `hard-stop-after`), so a send answered by a
 * worker with `Stopping: 1` is rejected and the connection re-opened, and a send answered by another
 * process than the one before (restart) is reported.
 *
 * "reset" is emitted whenever what callers know of HAProxy may be wrong: pending commands were lost
 * (timeout, EOF, socket error, an old worker answered) or another process now answers. Every pending
 * send then rejects with E_HAPROXY_API naming the socket, the next send opens a new connection, and
 * nothing is retried here: a lost command may or may not have run, which only the caller can judge.
 * An idle connection that closes (HAProxy's `stats timeout`, or this side's own idle close) loses
 * nothing: it is re-opened quietly by the next send. The idle close does not leave it to HAProxy:
 * 2.6.12 keeps about one idle CLI connection in ten open past its stats timeout, which would hold an
 * old worker alive after a reload; the 5 s default also stays under HAProxy's 10 s default timeout,
 * so a send rarely meets a connection HAProxy is closing.
 */
import { EventEmitter } from "node:events";
import { createConnection, type NetConnectOpts, type Socket } from "node:net";
import { LbwatchError } from "../../errors.js";
import { PromptFrames } from "./prompt-frames.js";
import { type HaproxyInfo, parseShowInfo } from "./runtime-answers.js";
import { assertSafeLine } from "./runtime-commands.js";

export type ResetReason = "timeout" | "closed" | "error" | "stopping" | "worker-changed";

export interface ResetEvent {
  /** The socket as configured. */
  address: string;
  reason: ResetReason;
  detail: string;
  /** Sends rejected by this reset (0 for "worker-changed"). */
  rejected: number;
}

export interface RuntimeConnectionOptions {
  /** Longest wait for all answers of one send, counted once the sends before it are answered. */
  timeoutMs?: number;
  /** Closes the connection after this long without a send, before HAProxy's `stats timeout` does. */
  idleCloseMs?: number;
}

interface Exchange {
  commands: readonly string[];
  answers: string[];
  timeoutMs: number;
  resolve: (answers: string[]) => void;
  reject: (err: LbwatchError) => void;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_IDLE_CLOSE_MS = 5000;
const TCP_ADDRESS = /^(?:ipv4@|ipv6@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** `ipv4@host:port`, `ipv6@[::1]:port` or `host:port` is TCP; anything else is a unix socket path. */
export function connectOptions(address: string): NetConnectOpts {
  const tcp = TCP_ADDRESS.exec(address);
  if (!tcp) return { path: address.replace(/^unix@/, "") };
  return { host: (tcp[1] as string).replace(/^\[(.*)\]$/, "$1"), port: Number(tcp[2]) };
}

export class RuntimeConnection extends EventEmitter<{ reset: [ResetEvent] }> {
  readonly address: string;
  readonly #timeoutMs: number;
  readonly #idleCloseMs: number;
  #socket: Socket | undefined;
  /** Sends written on the current socket and not fully answered, oldest first. */
  #queue: Exchange[] = [];
  /** Answers to drop before the queue's: the `prompt` command's own. */
  #skip = 0;
  #timer: NodeJS.Timeout | undefined;
  #idle: NodeJS.Timeout | undefined;
  #worker: HaproxyInfo | undefined;
  #closed = false;

  constructor(address: string, options: RuntimeConnectionOptions = {}) {
    super();
    this.address = address;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#idleCloseMs = options.idleCloseMs ?? DEFAULT_IDLE_CLOSE_MS;
  }

  /** The process that answered the latest send (from its `show info`). */
  get worker(): HaproxyInfo | undefined {
    return this.#worker;
  }

  /**
   * Writes `commands` at once and resolves with their answers in order (without the prompt and the
   * newlines that end them). Rejects with E_HAPROXY_API, before writing anything, for a line that is
   * not exactly one command (runtime-commands.ts), and on any reset.
   */
  send(commands: readonly string[], options: { timeoutMs?: number } = {}): Promise<string[]> {
    if (this.#closed) return Promise.reject(this.#error("the connection was closed"));
    try {
      for (const line of commands) assertSafeLine(line);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => {
      const socket = this.#socket ?? this.#open();
      this.#queue.push({
        commands,
        answers: [],
        timeoutMs: options.timeoutMs ?? this.#timeoutMs,
        resolve,
        reject,
      });
      if (this.#queue.length === 1) this.#arm();
      clearTimeout(this.#idle);
      socket.ref();
      socket.write(`${[...commands, "show info"].join("\n")}\n`);
    });
  }

  /**
   * Lets the current socket go when nothing is pending: after a reload it is the old worker's, which
   * would answer the next send as stopping. The next send opens another, to the new workers.
   */
  detach(): void {
    if (this.#queue.length === 0) this.#forgetSocket();
  }

  /** Rejects what is pending and closes for good: a later send rejects. */
  async close(): Promise<void> {
    this.#closed = true;
    const socket = this.#socket;
    const closed = socket && new Promise((resolve) => socket.once("close", resolve));
    this.#drop(this.#error("the connection was closed while commands were pending"));
    await closed;
  }

  #open(): Socket {
    const socket = createConnection(connectOptions(this.address));
    this.#socket = socket;
    this.#skip = 1;
    // Answers still in flight on a socket already given up must not reach the queue of the next one.
    const frames = new PromptFrames((answer) => socket === this.#socket && this.#onAnswer(answer));
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => frames.push(chunk));
    let connected = false;
    socket.on("connect", () => {
      connected = true;
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (socket !== this.#socket) return;
      const code = err.code ?? err.message;
      const detail = connected
        ? `${code}: the connection broke with ${this.#queue.length} sends unanswered (HAProxy restarted or was killed)`
        : `${code} (is HAProxy running with this stats socket, at level admin?)`;
      this.#reset(this.#error(detail, err), "error");
    });
    socket.on("close", () => {
      if (socket !== this.#socket) return;
      const detail = `HAProxy closed the connection (restart, or its stats timeout) with ${this.#queue.length} sends unanswered`;
      this.#reset(this.#error(detail), "closed");
    });
    socket.write("prompt\n");
    return socket;
  }

  #onAnswer(answer: string): void {
    if (this.#skip > 0) {
      this.#skip--;
      return;
    }
    const head = this.#queue[0];
    if (!head) {
      this.#reset(
        this.#error(`an answer nobody asked for: ${JSON.stringify(answer.slice(0, 200))}`),
        "error",
      );
      return;
    }
    head.answers.push(answer);
    if (head.answers.length > head.commands.length) this.#complete(head, answer);
  }

  /** The last answer of a send is its `show info`: which process ran the commands. */
  #complete(head: Exchange, showInfo: string): void {
    let info: HaproxyInfo;
    try {
      info = parseShowInfo(showInfo, this.address);
    } catch (err) {
      this.#reset(err as LbwatchError, "error");
      return;
    }
    if (info.stopping) {
      this.#reset(this.#error(`old worker ${info.pid} answered: HAProxy was reloaded`), "stopping");
      return;
    }
    this.#queue.shift();
    const before = this.#worker;
    this.#worker = info;
    if (before && (before.pid !== info.pid || before.startTimeSec !== info.startTimeSec)) {
      const detail = `${this.address}: worker ${info.pid} answers instead of ${before.pid}`;
      this.emit("reset", { address: this.address, reason: "worker-changed", detail, rejected: 0 });
    }
    this.#arm();
    head.resolve(head.answers.slice(0, -1));
  }

  /** Times the send at the head of the queue, or, with none, lets the connection idle. */
  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const head = this.#queue[0];
    if (head) {
      const first = JSON.stringify(head.commands[0] ?? "show info");
      this.#timer = setTimeout(
        () => this.#reset(this.#error(`no answer to ${first} within ${head.timeoutMs} ms`), "timeout"),
        head.timeoutMs,
      );
      return;
    }
    this.#socket?.unref();
    this.#idle = setTimeout(() => this.#forgetSocket(), this.#idleCloseMs);
    this.#idle.unref();
  }

  /** Rejects every pending send with `err`; tells the callers when that lost any. */
  #reset(err: LbwatchError, reason: ResetReason): void {
    const rejected = this.#drop(err);
    if (rejected > 0) this.emit("reset", { address: this.address, reason, detail: err.message, rejected });
  }

  /** Rejects every pending send with `err` and forgets the socket; returns how many. */
  #drop(err: LbwatchError): number {
    const pending = this.#queue;
    this.#queue = [];
    this.#forgetSocket();
    for (const exchange of pending) exchange.reject(err);
    return pending.length;
  }

  #forgetSocket(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
    clearTimeout(this.#timer);
    clearTimeout(this.#idle);
  }

  #error(detail: string, cause?: unknown): LbwatchError {
    return new LbwatchError("E_HAPROXY_API", `${this.address}: ${detail}`, { cause });
  }
}
