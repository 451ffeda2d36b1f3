/**
 * Reads a rendered HAProxy config as the HAProxy target needs it: the `server` lines of its backends
 * (and `listen` sections), which can change live through the Runtime API, apart from every other
 * line, whose change needs a reload; and whether a server line is one `add server` can reproduce
 * exactly (when not, the reason says which line, so the reload is explained in the log).
 */
import { unsupportedOption } from "./dynamic-server-keywords.js";
import { SAFE_ADDRESS, SAFE_NAME } from "./runtime-commands.js";

export interface ServerLine {
  /** The backend (or listen section) the server belongs to. */
  proxy: string;
  name: string;
  /** As written: `127.0.0.1:8001`, `::1:8001`, `[::1]:8001`. */
  address: string;
  options: string[];
  /** 1-based line number in its render. */
  line: number;
}

export interface ParsedConfig {
  servers: Map<string, ServerLine>;
  /** The backend and listen sections: the proxies whose servers lbwatch manages. */
  proxies: Set<string>;
  /** Every meaningful line that is not a backend's server line, with its 1-based number. */
  rest: { text: string; line: number }[];
  /** Proxies whose servers take settings from a `default-server` line ("*" once a defaults section has one). */
  defaultServer: Set<string>;
}

const SECTIONS = new Set([
  "global",
  "defaults",
  "frontend",
  "backend",
  "listen",
  "peers",
  "resolvers",
  "userlist",
  "mailers",
  "program",
  "http-errors",
  "ring",
  "cache",
  "fcgi-app",
]);
const PROXIES_WITH_SERVERS = new Set(["backend", "listen"]);

const QUOTES = /["'\\]/;
/** A server line: name, address and the options after them. */
const SERVER_LINE = /^server\s+(\S+)\s+(\S+)\s*(.*)$/;

/** Strips a comment unless the line quotes or escapes anything (then it is compared as written). */
function meaningful(raw: string): string {
  const text = raw.includes("#") && !QUOTES.test(raw) ? raw.slice(0, raw.indexOf("#")) : raw;
  return text.trim();
}

/**
 * O(lines), once per render of the whole config (the file lane, a full reconcile): 100,000 server
 * lines are the case to keep fast, so a server line is read by one regex and lines with the same
 * options share one array.
 */
export function parseConfig(text: string): ParsedConfig {
  const parsed: ParsedConfig = { servers: new Map(), proxies: new Set(), rest: [], defaultServer: new Set() };
  const optionLists = new Map<string, string[]>();
  let section = "";
  let proxy = "";
  text.split("\n").forEach((raw, index) => {
    const line = index + 1;
    const content = meaningful(raw);
    if (content === "") return;
    const server = content.startsWith("server") && PROXIES_WITH_SERVERS.has(section) && !QUOTES.test(content);
    const match = server ? SERVER_LINE.exec(content) : null;
    if (match) {
      const [, name = "", address = "", rest = ""] = match;
      let options = optionLists.get(rest);
      if (!options) {
        options = rest === "" ? [] : rest.split(/\s+/);
        optionLists.set(rest, options);
      }
      parsed.servers.set(`${proxy}/${name}`, { proxy, name, address, options, line });
      return;
    }
    const [keyword = "", ...args] = content.split(/\s+/);
    if (SECTIONS.has(keyword)) {
      section = keyword;
      proxy = args[0] ?? "";
      if (PROXIES_WITH_SERVERS.has(keyword)) parsed.proxies.add(proxy);
    } else if (keyword === "default-server") {
      parsed.defaultServer.add(section === "defaults" ? "*" : proxy);
    }
    parsed.rest.push({ text: content, line });
  });
  return parsed;
}

/** The same options in the same order: compared in place, as the file lane does for every server of a pass. */
export function sameOptions(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((option, i) => option === b[i]));
}

/** Why a server line cannot be created with `add server`, or undefined when it can. */
export function notAddable(server: ServerLine, defaultServer: Set<string>): string | undefined {
  const where = `line ${server.line}: server ${server.proxy}/${server.name}`;
  if (!SAFE_NAME.test(server.proxy) || !SAFE_NAME.test(server.name) || !SAFE_ADDRESS.test(server.address)) {
    return `${where} has characters lbwatch does not send to the Runtime API`;
  }
  if (defaultServer.has("*") || defaultServer.has(server.proxy)) {
    return `${where} is under a default-server line, which "add server" does not apply`;
  }
  const option = unsupportedOption(server.options);
  return option && `${where}: ${option}`;
}
