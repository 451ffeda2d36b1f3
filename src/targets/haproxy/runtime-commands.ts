/**
 * The Runtime API commands lbwatch sends, built from data (backend and server names, addresses and
 * server options all come from listeners, which any local user controls), and what their answers mean.
 *
 * The CLI reads a command up to a newline or an unescaped ";", unescapes "\", splits words at spaces
 * and tabs, and takes a line ending in "<<" as the start of a payload that swallows the lines after it
 * (HAProxy 2.6 cli.c). So a value with any of these could append a command of its own, or shift every
 * answer of a pipelined connection by one. Each builder checks its values against a charset without
 * them and refuses with E_HAPROXY_API before anything is sent; `assertSafeLine` checks whole lines
 * again at the connection, for commands that do not come from a builder.
 */
import { LbwatchError } from "../../errors.js";
import { unsupportedOption } from "./dynamic-server-keywords.js";

/** HAProxy's own charset for proxy and server names. */
export const SAFE_NAME = /^[A-Za-z0-9_.:-]+$/;
/** `host:port`, `[v6]:port`, `ipv4@host:port` and the like. */
export const SAFE_ADDRESS = /^[A-Za-z0-9_.:@[\]-]+$/;
/** One word of a server option: keywords, numbers, paths, sample expressions, cipher lists. */
const SAFE_OPTION = /^[A-Za-z0-9_.:@/,=+%!*()[\]~^-]+$/;
/** HAProxy drops the connection on a line longer than its buffer (tune.bufsize, 16 kB by default). */
const MAX_LINE = 4096;
/** Commands that change the CLI session itself: its framing (`prompt`, `quit`) or its level. */
const SESSION_COMMANDS = new Set(["prompt", "quit", "user", "operator", "expert-mode", "experimental-mode"]);
const UNSAFE_IN_LINE = /[\p{Cc};\\]|<</u;

export interface ServerRef {
  backend: string;
  name: string;
}

export interface ServerSpec extends ServerRef {
  /** As on a server line: `127.0.0.1:8001`, `[::1]:8001`. */
  address: string;
  /** Server keywords and their arguments, one word each, as `add server` takes them. */
  options: readonly string[];
  /**
   * The `id N` of its server line, when it has one: not among the options, since only a reload sets
   * it (bulk-route.ts sends such servers that way) and a live add lets HAProxy choose.
   */
  id?: number;
}

/**
 * A server by the id its `add server` gave it (`backend/#id`). HAProxy 2.6 finds a server by walking
 * its backend's list, and comparing ids there is cheaper than comparing names: 10,000 `enable server`
 * into one backend took 2.5-2.8 s by name and 1.4-1.7 s by id (measured after the adds).
 */
export interface ServerById {
  backend: string;
  id: number;
}

export type AdminState = "ready" | "drain" | "maint";

function refuse(what: string, why: string): LbwatchError {
  const shown = what.length > 200 ? `${JSON.stringify(what.slice(0, 200))}…` : JSON.stringify(what);
  return new LbwatchError("E_HAPROXY_API", `refused to send ${shown} to HAProxy: ${why}`);
}

/** Throws E_HAPROXY_API unless `line` is exactly one command that leaves the session as it was. */
export function assertSafeLine(line: string): void {
  if (line.length > MAX_LINE) throw refuse(line, `longer than ${MAX_LINE} characters`);
  if (UNSAFE_IN_LINE.test(line)) {
    throw refuse(
      line,
      'it contains a control character, ";", "\\" or "<<", which would change what HAProxy reads',
    );
  }
  const word = line.trim().split(/\s+/)[0] ?? "";
  if (word === "") throw refuse(line, "it is empty");
  if (SESSION_COMMANDS.has(word)) throw refuse(line, `"${word}" would change the CLI session lbwatch shares`);
}

function checked(kind: string, value: string, charset: RegExp): string {
  if (!charset.test(value)) throw refuse(value, `${kind} has characters outside ${charset.source}`);
  return value;
}

/** A named server always goes by its name; only a `ServerById` built for it goes by id. */
const serverPath = (s: ServerRef | ServerById) =>
  `${checked("a backend name", s.backend, SAFE_NAME)}/${"name" in s ? checked("a server name", s.name, SAFE_NAME) : `#${checked("a server id", String(s.id), /^[1-9][0-9]*$/)}`}`;

/** The command lines, one per function. Each throws E_HAPROXY_API for a value it will not send. */
export const command = {
  /** The server starts in maintenance with its checks off: see `enableCommands`. */
  addServer(s: ServerSpec): string {
    const path = serverPath(s);
    const address = checked("an address", s.address, SAFE_ADDRESS);
    for (const word of s.options) checked("a server option", word, SAFE_OPTION);
    const unsupported = unsupportedOption(s.options);
    if (unsupported) throw refuse(s.options.join(" "), unsupported);
    return ["add server", path, address, ...s.options].join(" ");
  },
  enableServer: (s: ServerRef | ServerById) => `enable server ${serverPath(s)}`,
  enableHealth: (s: ServerRef | ServerById) => `enable health ${serverPath(s)}`,
  enableAgent: (s: ServerRef | ServerById) => `enable agent ${serverPath(s)}`,
  setState: (s: ServerRef, state: AdminState) => `set server ${serverPath(s)} state ${state}`,
  delServer: (s: ServerRef) => `del server ${serverPath(s)}`,
  showServersState: (backend?: string) =>
    backend === undefined
      ? "show servers state"
      : `show servers state ${checked("a backend name", backend, SAFE_NAME)}`,
  showInfo: () => "show info",
};

/**
 * What makes a freshly added server behave as its config line would: checks run when the line asks
 * for them (a dynamic server starts with them off), and it takes traffic unless the line says `disabled`.
 * The commands name it as `as` does: by default its name.
 */
export function enableCommands(s: ServerSpec, as: ServerRef | ServerById = s): string[] {
  const lines: string[] = [];
  if (s.options.includes("check")) lines.push(command.enableHealth(as));
  if (s.options.includes("agent-check")) lines.push(command.enableAgent(as));
  if (!s.options.includes("disabled")) lines.push(command.enableServer(as));
  return lines;
}

/**
 * How a command went. Besides "ok", the outcomes a caller acts on differently have their own status:
 * "exists" (add: the name is taken), "no-such-server", "no-such-backend", "has-connections" (del: try
 * again later); "refused" is any other answer, "unsafe" a value lbwatch would not send.
 */
export type OutcomeStatus =
  | "ok"
  | "exists"
  | "no-such-server"
  | "no-such-backend"
  | "has-connections"
  | "refused"
  | "unsafe";
export type Outcome = { status: "ok" } | { status: Exclude<OutcomeStatus, "ok">; message: string };

/** What a successful answer looks like: add server, del server, or silence (enable, set state). */
export type Success = "registered" | "deleted" | "silent";

const SUCCESS: Record<Success, string> = {
  registered: "New server registered.",
  deleted: "Server deleted.",
  silent: "",
};

const KNOWN_FAILURES = new Map<string, Exclude<OutcomeStatus, "ok">>([
  ["Already exists a server with the same name in backend.", "exists"],
  ["No such server.", "no-such-server"],
  ["No such backend.", "no-such-backend"],
  ["Server still has connections attached to it, cannot remove it.", "has-connections"],
]);

export function classify(success: Success, answer: string): Outcome {
  if (answer === SUCCESS[success]) return { status: "ok" };
  return { status: KNOWN_FAILURES.get(answer) ?? "refused", message: answer || "(no answer)" };
}
