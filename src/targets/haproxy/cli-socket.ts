/**
 * The transport shared by the stats socket (Runtime API) and the master CLI: one command per connection.
 * A fresh connection per command is slower than `prompt` mode by a connect, but it has no framing to get
 * wrong, survives a reload replacing the socket under us, and leaves nothing open between applies.
 */
import { createConnection } from "node:net";
import { LbwatchError } from "../../errors.js";

/** Commands end at a newline and `;` chains commands: neither may come from data. */
const UNSAFE = /[\n\r;]/;

export interface SendOptions {
  /** Whole exchange (connect, write, read to EOF); the socket is destroyed after it. */
  timeoutMs: number;
}

/**
 * Send `command` and resolve with everything HAProxy answers until it closes the connection.
 * Rejects with E_HAPROXY_API naming the socket when it cannot connect, times out or the command is unsafe.
 */
export function sendCommand(socketPath: string, command: string, options: SendOptions): Promise<string> {
  if (UNSAFE.test(command)) {
    return Promise.reject(
      new LbwatchError(
        "E_HAPROXY_API",
        `refused to send ${JSON.stringify(command)}: it contains a newline or ";"`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = createConnection({ path: socketPath });
    const fail = (why: string, cause?: unknown) => {
      socket.destroy();
      reject(new LbwatchError("E_HAPROXY_API", `${socketPath}: "${command}": ${why}`, { cause }));
    };
    socket.setTimeout(options.timeoutMs, () =>
      fail(`no complete answer within ${options.timeoutMs} ms (is this the right socket?)`),
    );
    socket.on("connect", () => {
      // Half-close: the master CLI answers and closes only once it has seen the end of input.
      socket.end(`${command}\n`);
    });
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", (err: NodeJS.ErrnoException) =>
      fail(`${err.code ?? err.message} (is HAProxy running with this socket, at level admin?)`, err),
    );
    socket.on("close", (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
}
