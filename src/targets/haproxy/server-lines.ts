/**
 * Decides whether two renders of an HAProxy config differ only in the `server` lines of their
 * backends (and `listen` sections): then the change can be applied through the Runtime API without a
 * reload. Anything else, or a server line the Runtime API cannot reproduce exactly, needs a reload;
 * the reason says which line, so the fallback is explained in the log.
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

export type ServerChanges =
  | { hitless: true; added: ServerLine[]; removed: ServerLine[] }
  | { hitless: false; reason: string };

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

/** Strips a comment unless the line quotes or escapes anything (then it is compared as written). */
function meaningful(raw: string): string {
  const text = /["'\\]/.test(raw) ? raw : raw.replace(/#.*/, "");
  return text.trim();
}

export function parseConfig(text: string): ParsedConfig {
  const parsed: ParsedConfig = { servers: new Map(), proxies: new Set(), rest: [], defaultServer: new Set() };
  let section = "";
  let proxy = "";
  text.split("\n").forEach((raw, index) => {
    const line = index + 1;
    const content = meaningful(raw);
    if (content === "") return;
    const [keyword = "", ...args] = content.split(/\s+/);
    if (SECTIONS.has(keyword)) {
      section = keyword;
      proxy = args[0] ?? "";
      if (PROXIES_WITH_SERVERS.has(keyword)) parsed.proxies.add(proxy);
    } else if (keyword === "default-server") {
      parsed.defaultServer.add(section === "defaults" ? "*" : proxy);
    } else if (keyword === "server" && PROXIES_WITH_SERVERS.has(section) && !/["'\\]/.test(content)) {
      const [name = "", address = "", ...options] = args;
      parsed.servers.set(`${proxy}/${name}`, { proxy, name, address, options, line });
      return;
    }
    parsed.rest.push({ text: content, line });
  });
  return parsed;
}

function firstDifference(previous: ParsedConfig["rest"], next: ParsedConfig["rest"]): string | undefined {
  const length = Math.max(previous.length, next.length);
  for (let i = 0; i < length; i++) {
    const before = previous[i];
    const after = next[i];
    if (before?.text === after?.text) continue;
    if (!after) return `line ${before?.line} "${before?.text}" was removed`;
    return `line ${after.line} "${after.text}" changed outside the servers of a backend`;
  }
  return undefined;
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

/** Same address and options: what `add server` would create from either line is the same server. */
export const sameServer = (a: ServerLine, b: ServerLine) =>
  a.address === b.address && a.options.join(" ") === b.options.join(" ");

/** Compares the running config's text with the new render. */
export function diffServerLines(previous: string, next: string): ServerChanges {
  const before = parseConfig(previous);
  const after = parseConfig(next);
  const outside = firstDifference(before.rest, after.rest);
  if (outside) return { hitless: false, reason: outside };

  const added: ServerLine[] = [];
  const removed: ServerLine[] = [];
  for (const [key, server] of after.servers) {
    const old = before.servers.get(key);
    if (!old) added.push(server);
    else if (!sameServer(old, server)) {
      return { hitless: false, reason: `line ${server.line}: server ${key} changed its address or options` };
    }
  }
  for (const [key, server] of before.servers) {
    if (!after.servers.has(key)) removed.push(server);
  }
  for (const server of added) {
    const reason = notAddable(server, after.defaultServer);
    if (reason) return { hitless: false, reason };
  }
  for (const server of removed) {
    if (!SAFE_NAME.test(server.proxy) || !SAFE_NAME.test(server.name)) {
      return {
        hitless: false,
        reason: `line ${server.line}: server ${server.proxy}/${server.name} has unsafe characters`,
      };
    }
  }
  return { hitless: true, added, removed };
}
