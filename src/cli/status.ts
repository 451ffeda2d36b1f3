/** `lbwatch status`: reads a running lbwatch's GET /status and prints a summary (or the JSON). */
import { request } from "node:http";
import type { Command } from "commander";
import { listenText, parseListen } from "../config/http.js";
import { parseYaml } from "../config/load-config.js";
import { isPlainObject } from "../config/problems.js";
import type { ControllerSnapshot } from "../controller/controller.js";
import { LbwatchError } from "../errors.js";
import { targetUp } from "../metrics/target-up.js";
import { statusSummary } from "./status-format.js";

interface StatusFlags {
  json?: boolean;
  url?: string;
  config?: string;
}

const DEFAULT_URL = "http://127.0.0.1:9369";
const TIMEOUT_MS = 10_000;
const EXIT_TARGET_DOWN = 1;

/** Where the request goes: a TCP host:port or a unix socket, and the path of /status. */
export interface StatusRequest {
  url: string;
  socketPath?: string;
  host?: string;
  port?: number;
  path: string;
}

/**
 * `http://HOST:PORT[/PREFIX]`, `unix:/PATH`, or what http.listen takes (`127.0.0.1:9369`,
 * `[::1]:9369`, `/run/lbwatch.sock`).
 */
export function statusRequest(text: string): StatusRequest {
  const usage = (why: string) =>
    new LbwatchError(
      "E_USAGE",
      `option '--url <url>': ${JSON.stringify(text)} ${why}; e.g. http://127.0.0.1:9369 or unix:/run/lbwatch.sock`,
    );
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length);
    if (!path.startsWith("/")) throw usage("must name an absolute socket path after unix:");
    return { url: text, socketPath: path, path: "/status" };
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    const listen = parseListen(text);
    if ("error" in listen) throw usage("is not a URL or an http.listen address");
    const l = listen.value;
    if (l.kind === "unix") return { url: `unix:${l.path}`, socketPath: l.path, path: "/status" };
    return statusRequest(`http://${listenText(l)}`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usage("is not a URL");
  }
  if (url.protocol !== "http:") throw usage("is not http: (lbwatch serves plain HTTP)");
  if (url.username || url.password || url.search || url.hash)
    throw usage("must not have credentials, a query or a fragment");
  return {
    url: text,
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port === "" ? 80 : Number(url.port),
    path: `${url.pathname.replace(/\/+$/, "")}/status`,
  };
}

/** The URL of `-c FILE`'s http.listen: the key only, so a config this user cannot fully use still works. */
async function configUrl(file: string): Promise<string> {
  const raw = await parseYaml(file);
  const http = isPlainObject(raw) ? raw.http : undefined;
  const listen = isPlainObject(http) ? parseListen(http.listen) : undefined;
  if (!listen)
    throw new LbwatchError(
      "E_CONFIG",
      `${file}: has no http.listen, so no status endpoint: add http: { listen: "127.0.0.1:9369" }`,
    );
  if ("error" in listen) throw new LbwatchError("E_CONFIG", `${file}: http.listen: ${listen.error}`);
  return listenText(listen.value);
}

function fetchStatus(target: StatusRequest): Promise<string> {
  const unreachable = (why: string) => new LbwatchError("E_UNREACHABLE", `${target.url}: ${why}`);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...(target.socketPath ? { socketPath: target.socketPath } : { host: target.host, port: target.port }),
        path: target.path,
        timeout: TIMEOUT_MS,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("error", (err) => reject(unreachable(`the answer broke off (${err.message})`)));
        res.on("end", () => {
          if (res.statusCode === 200) return resolve(body);
          reject(unreachable(`answered ${res.statusCode}: ${body.trim().slice(0, 200)}`));
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    req.on("error", (err: NodeJS.ErrnoException) =>
      reject(
        unreachable(
          `nothing answers (${err.code ?? err.message}): is \`lbwatch run\` running, with http.listen set to this address?`,
        ),
      ),
    );
    req.end();
  });
}

/** Anything can listen on a local port: what it sends is checked before it is read as a status. */
function parseStatus(url: string, body: string): ControllerSnapshot {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const ok =
    isPlainObject(parsed) &&
    isPlainObject(parsed.services) &&
    Object.values(parsed.services).every(Array.isArray) &&
    Array.isArray(parsed.targets) &&
    parsed.targets.every(isPlainObject) &&
    Array.isArray(parsed.sources);
  if (!ok) throw new LbwatchError("E_UNREACHABLE", `${url}: the answer is not an lbwatch status`);
  return parsed as unknown as ControllerSnapshot;
}

async function status(flags: StatusFlags): Promise<void> {
  const target = statusRequest(flags.url ?? (flags.config ? await configUrl(flags.config) : DEFAULT_URL));
  const body = await fetchStatus(target);
  const snapshot = parseStatus(target.url, body);
  process.stdout.write(flags.json ? `${body.trimEnd()}\n` : statusSummary(snapshot, Date.now()));
  if (!snapshot.targets.every(targetUp)) process.exitCode = EXIT_TARGET_DOWN;
}

export function register(program: Command): void {
  program
    .command("status")
    .description("summarise a running lbwatch from its /status endpoint; exit 1 when a target is not up")
    .option("--json", "print /status as it came: one JSON document")
    .option(
      "--url <url>",
      `the endpoint: http://HOST:PORT or unix:/PATH (default: -c's http.listen, else ${DEFAULT_URL})`,
    )
    .option("-c, --config <file>", "read the endpoint's address from this config's http.listen")
    .action((flags: StatusFlags) => status(flags));
}
