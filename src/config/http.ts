/**
 * `http: { listen }`: where the metrics, health and status endpoint listens. An IP literal with a
 * port, or an absolute unix socket path; names are refused, since resolving one at start-up would
 * make the address depend on DNS. What can be checked without binding is checked here, at load; a
 * port in use is found when the server starts (src/http/server.ts).
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { dirname, isAbsolute } from "node:path";
import { canonicalIp } from "./ip-address.js";
import { checkMapping, keyPath, type Parsed, type Problems, show } from "./problems.js";
import type { HttpConfig, HttpListen } from "./types.js";

const HTTP_KEYS = ["listen"] as const;
const PATH = keyPath("http", "listen");
/** sun_path holds 108 bytes with its terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
const FORMS = 'host:port ("127.0.0.1:9369"), [v6]:port ("[::1]:9369") or an absolute unix socket path';

/** `listen`'s text → address, syntax only (no file system): also how `lbwatch status` reads it. */
export function parseListen(value: unknown): Parsed<HttpListen> {
  if (typeof value !== "string" || value === "") return { error: `${show(value)} is not ${FORMS}` };
  if (value.includes("/")) {
    if (!isAbsolute(value)) return { error: `${show(value)} is a relative path: give an absolute one` };
    if (Buffer.byteLength(value) > MAX_SOCKET_PATH_BYTES)
      return {
        error: `${show(value)} is longer than a unix socket path may be (${MAX_SOCKET_PATH_BYTES} bytes)`,
      };
    return { value: { kind: "unix", path: value } };
  }
  const m = /^(?:\[([^\]]*)\]|([^:]*)):([^:]*)$/.exec(value);
  if (!m) return { error: `${show(value)} is not ${FORMS}` };
  const hostText = m[1] ?? m[2] ?? "";
  const ip = canonicalIp(hostText);
  if (!ip || (m[1] !== undefined) !== (ip.family === 6)) {
    const hint =
      hostText === "" ? "give the address, e.g. 127.0.0.1:9369 or 0.0.0.0:9369" : "use an IP address";
    return { error: `${show(value)}: ${show(hostText)} is not an IPv4 or [IPv6] address; ${hint}` };
  }
  const port = /^\d{1,5}$/.test(m[3] ?? "") ? Number(m[3]) : Number.NaN;
  if (!(port >= 1 && port <= 65_535)) return { error: `${show(value)}: the port must be 1-65535` };
  return { value: { kind: "tcp", host: ip.address, family: ip.family, port } };
}

/** The socket's directory must exist and take a new entry; an existing file there must be a socket. */
async function checkSocketPath(path: string, problems: Problems): Promise<void> {
  const dir = dirname(path);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) return problems.add(PATH, `directory ${dir} does not exist`);
  const writable = await access(dir, constants.W_OK | constants.X_OK).then(
    () => true,
    () => false,
  );
  if (!writable) return problems.add(PATH, `directory ${dir} is not writable by this user`);
  const existing = await stat(path).catch(() => undefined);
  if (existing && !existing.isSocket()) problems.add(PATH, notASocket(path));
}

/** Never removed to make room: it may be anything. */
export const notASocket = (path: string) =>
  `${path} exists and is not a socket: remove it or choose another path`;

export async function parseHttp(value: unknown, problems: Problems): Promise<HttpConfig | undefined> {
  if (value === undefined) return undefined;
  const raw = checkMapping(value, HTTP_KEYS, "http", problems);
  if (!raw) return undefined;
  if (raw.listen === undefined) {
    problems.add(PATH, `is required: ${FORMS}`);
    return undefined;
  }
  const listen = problems.take(PATH, parseListen(raw.listen));
  if (!listen) return undefined;
  if (listen.kind === "unix") await checkSocketPath(listen.path, problems);
  return { listen };
}

/** How an address is written in logs, errors and URLs. */
export function listenText(listen: HttpListen): string {
  if (listen.kind === "unix") return listen.path;
  return listen.family === 6 ? `[${listen.host}]:${listen.port}` : `${listen.host}:${listen.port}`;
}
