/**
 * The HTTP listener of `http.listen`: bound before the controller starts, so /healthz answers 503
 * during start-up, and so a port in use stops `lbwatch run` at once with E_CONFIG (exit 2) instead
 * of failing later. A unix socket left behind by a lbwatch that died is replaced; one that answers is
 * in use.
 */
import { chmod, lstat, unlink } from "node:fs/promises";
import { createServer, type RequestListener, type Server } from "node:http";
import { connect } from "node:net";
import { listenText, notASocket } from "../config/http.js";
import type { HttpListen } from "../config/types.js";
import { LbwatchError } from "../errors.js";
import type { Logger } from "../log.js";

/** Root and the socket's group may connect; /status names processes and their uids. */
const SOCKET_MODE = 0o660;
/** A scraper or `lbwatch status` sends its request at once: a client that does not is cut off. */
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 30_000;
/**
 * A client that stops reading stalls its /status stream, and with it the /status queue: its socket
 * is closed after this long without progress.
 */
const STALL_TIMEOUT_MS = 30_000;

export interface HttpEndpoint {
  /** As http.listen names it: host:port, [v6]:port or the socket path. */
  readonly address: string;
  close(): Promise<void>;
}

const WHY: Record<string, string> = {
  EADDRINUSE: "is in use: stop what listens there or choose another address",
  EADDRNOTAVAIL: "is not an address of this host",
  ENOENT: "cannot be created: its directory does not exist",
  EACCES: "permission denied (a port below 1024 needs root or CAP_NET_BIND_SERVICE)",
};

function listenError(listen: HttpListen, err: NodeJS.ErrnoException): LbwatchError {
  const why = WHY[err.code ?? ""] ?? `cannot listen (${err.code ?? err.message})`;
  return new LbwatchError("E_CONFIG", `http.listen: ${listenText(listen)} ${why}`, { cause: err });
}

/** True when something accepts connections on the unix socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function bind(server: Server, listen: HttpListen): Promise<void> {
  if (listen.kind === "unix") {
    const existing = await lstat(listen.path).catch(() => undefined);
    if (existing && !existing.isSocket())
      throw new LbwatchError("E_CONFIG", `http.listen: ${notASocket(listen.path)}`);
    if (existing && (await answers(listen.path)))
      throw new LbwatchError("E_CONFIG", `http.listen: ${listen.path} ${WHY.EADDRINUSE}`);
    if (existing) await unlink(listen.path);
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(listenError(listen, err)));
    if (listen.kind === "unix") server.listen(listen.path, resolve);
    else server.listen({ host: listen.host, port: listen.port }, resolve);
  });
  if (listen.kind === "unix") await chmod(listen.path, SOCKET_MODE);
}

export async function startHttpServer(
  listen: HttpListen,
  handler: RequestListener,
  log: Logger,
): Promise<HttpEndpoint> {
  const server = createServer(
    { headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS },
    handler,
  );
  server.setTimeout(STALL_TIMEOUT_MS);
  await bind(server, listen);
  // Errors after the bind (a client's reset) concern one connection, which node:http already dropped.
  server.on("error", (err) => log.warn({ err }, "http server error"));
  const address = listenText(listen);
  log.info({ address }, "http endpoint listening");
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
