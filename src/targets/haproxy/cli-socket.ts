/**
 * One command per connection, for the master CLI: its commands are rare (`show proc`, `reload`) and a
 * reload replaces the master process under the socket, so nothing is kept open. The Runtime API
 * stats socket, where changes are frequent, has a persistent connection (runtime-connection.ts).
 */
import { createConnection } from "node:net";
import { LbwatchError } from "../../errors.js";
import { assertSafeLine } from "./runtime-commands.js";

export interface SendOptions {
  /** Whole exchange (connect, write, read to EOF); the socket is destroyed after it. */
  timeoutMs: number;
}

/**
 * Send `command` and resolve with everything HAProxy answers until it closes the connection.
 * Rejects with E_HAPROXY_API naming the socket when it cannot connect, times out or the command is unsafe.
 */
export function sendCommand(socketPath: string, command: string, options: SendOptions): Promise<string> {
  try {
    assertSafeLine(command);
  } catch (err) {
    return Promise.reject(err);
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
