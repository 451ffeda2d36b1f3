/**
 * Reads a rendered HAProxy config as the HAProxy target needs it: the `server` lines of its backends
 * (and `listen` sections), which can change live through the Runtime API, apart from every other
 * line, whose change needs a reload; and whether a server line is one `add server` can reproduce
 * exactly (when not, the reason says which line, so the reload is explained in the log).
 */
import { unsupportedOption } from "./dynamic-server-keywords.js";
import { SAFE_ADDRESS, SAFE_NAME, type ServerSpec } from "./runtime-commands.js";

/**
 * A server line as `add server` would take it, and where it is. Its `id` is not among the options:
 * lbwatch lets HAProxy number the servers it adds live (a line's id may still belong to a server
 * being deleted), so an id on a line only spares HAProxy numbering servers when it parses the config.
 */
export interface ServerLine extends ServerSpec {
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
/** A server line: name, address and the options after them (`d`: where each part starts and ends). */
const SERVER_LINE = /^server\s+(\S+)\s+(\S+)\s*(.*)$/d;

/** Strips a comment unless the line quotes or escapes anything (then it is compared as written). */
function meaningful(raw: string): string {
  const text = raw.includes("#") && !QUOTES.test(raw) ? raw.slice(0, raw.indexOf("#")) : raw;
  return text.trim();
}

/**
 * A server line of a backend or listen section as positions in `text`, so that a caller comparing
 * 100,000 of them with what runs allocates nothing per line but what it keeps (the file lane
 * allocated ~50 MiB per pass at 100,000 when every line became strings and an object). The scanner
 * passes one object, reused for every line: read it inside the callback, do not keep it.
 */
export interface ServerSpan {
  proxy: string;
  /** The whole config, or the line alone (`plain` false: a line with other blanks or non-ASCII). */
  text: string;
  plain: boolean;
  nameStart: number;
  nameEnd: number;
  addressStart: number;
  addressEnd: number;
  optionsStart: number;
  optionsEnd: number;
  /** Where `id N` and the blanks after it are, inside the options (equal when there is none). */
  idStart: number;
  idEnd: number;
  /** 1-based line number in its render. */
  line: number;
}

/** A config without its server lines. */
export type ConfigOutline = Omit<ParsedConfig, "servers">;

const SPACE = 32;
const TAB = 9;
const isBlank = (code: number) => code === SPACE || code === TAB;
const isDigit = (code: number) => code >= 48 && code <= 57;

/** The first option `id` followed by a number, and the blanks after it (lines read by the regex). */
const ID_OPTION = /(?<=^|\s)id\s+\d+(?=\s|$)\s*/d;

/** Sets the span's id range as ID_OPTION would, for a plain line: O(options' length). */
function findId(span: ServerSpan): void {
  const { text, optionsEnd: end } = span;
  let p = span.optionsStart;
  span.idStart = span.idEnd = end;
  while (p < end) {
    const token = p;
    while (p < end && !isBlank(text.charCodeAt(p))) p++;
    const tokenEnd = p;
    while (p < end && isBlank(text.charCodeAt(p))) p++;
    if (tokenEnd - token !== 2 || text.charCodeAt(token) !== 105 || text.charCodeAt(token + 1) !== 100)
      continue;
    let q = p;
    while (q < end && isDigit(text.charCodeAt(q))) q++;
    if (q === p || (q < end && !isBlank(text.charCodeAt(q)))) continue;
    while (q < end && isBlank(text.charCodeAt(q))) q++;
    span.idStart = token;
    span.idEnd = q;
    return;
  }
}

/**
 * Where a line needs the regex path: quotes and escapes (compared as written), other control
 * characters and non-ASCII (what counts as blank in `trim` and `\s`). Else -1, or where its comment starts.
 */
const SLOW = -2;
function commentAt(text: string, start: number, end: number): number {
  let hash = -1;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 || c === 39 || c === 92 || c > 126 || (c < SPACE && c !== TAB)) return SLOW;
    if (c === 35 && hash < 0) hash = i;
  }
  return hash;
}

/**
 * O(lines), once per render of the whole config (the file lane, a full reconcile): calls `server`
 * for every server line of a backend or listen section and returns every other meaningful line.
 * Plain lines (ASCII, blanks only spaces and tabs, no quotes) are read by position; the rest as
 * strings by the regex, with the same result.
 */
export function scanConfig(text: string, server: (span: Readonly<ServerSpan>) => void): ConfigOutline {
  const outline: ConfigOutline = { proxies: new Set(), rest: [], defaultServer: new Set() };
  const span: ServerSpan = {
    proxy: "",
    text,
    plain: true,
    nameStart: 0,
    nameEnd: 0,
    addressStart: 0,
    addressEnd: 0,
    optionsStart: 0,
    optionsEnd: 0,
    idStart: 0,
    idEnd: 0,
    line: 0,
  };
  let section = "";
  const other = (content: string, line: number) => {
    const [keyword = "", ...args] = content.split(/\s+/);
    if (SECTIONS.has(keyword)) {
      section = keyword;
      span.proxy = args[0] ?? "";
      if (PROXIES_WITH_SERVERS.has(keyword)) outline.proxies.add(span.proxy);
    } else if (keyword === "default-server") {
      outline.defaultServer.add(section === "defaults" ? "*" : span.proxy);
    }
    outline.rest.push({ text: content, line });
  };
  const inProxy = () => PROXIES_WITH_SERVERS.has(section);
  let line = 0;
  // Where "id" next occurs in the text: lines without it skip findId (one indexOf per occurrence, so
  // O(text) in all, whether the template gives ids or not).
  let nextId = -1;
  for (let start = 0; start <= text.length; start++) {
    line++;
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const from = start;
    start = end;
    const hash = commentAt(text, from, end);
    if (hash === SLOW) {
      const content = meaningful(text.slice(from, end));
      if (content === "") continue;
      const serverLike = inProxy() && content.startsWith("server") && !QUOTES.test(content);
      const match = serverLike ? SERVER_LINE.exec(content) : null;
      if (!match?.indices) {
        other(content, line);
        continue;
      }
      const [, name = [0, 0], address = [0, 0], options = [0, 0]] = match.indices;
      Object.assign(span, { text: content, plain: false, line });
      [span.nameStart, span.nameEnd] = name;
      [span.addressStart, span.addressEnd] = address;
      [span.optionsStart, span.optionsEnd] = options;
      const id = ID_OPTION.exec(content.slice(span.optionsStart, span.optionsEnd))?.indices?.[0];
      span.idStart = id ? span.optionsStart + id[0] : span.optionsEnd;
      span.idEnd = id ? span.optionsStart + id[1] : span.optionsEnd;
      server(span);
      span.text = text;
      continue;
    }
    let i = from;
    let last = hash < 0 ? end : hash;
    while (i < last && isBlank(text.charCodeAt(i))) i++;
    while (last > i && isBlank(text.charCodeAt(last - 1))) last--;
    if (i === last) continue;
    if (inProxy() && i + 6 < last && text.startsWith("server", i) && isBlank(text.charCodeAt(i + 6))) {
      let p = i + 6;
      while (p < last && isBlank(text.charCodeAt(p))) p++;
      span.nameStart = p;
      while (p < last && !isBlank(text.charCodeAt(p))) p++;
      span.nameEnd = p;
      while (p < last && isBlank(text.charCodeAt(p))) p++;
      span.addressStart = p;
      while (p < last && !isBlank(text.charCodeAt(p))) p++;
      span.addressEnd = p;
      if (span.addressEnd > span.addressStart) {
        while (p < last && isBlank(text.charCodeAt(p))) p++;
        span.optionsStart = p;
        span.optionsEnd = last;
        span.plain = true;
        span.line = line;
        if (nextId < span.optionsStart) {
          nextId = text.indexOf("id", span.optionsStart);
          if (nextId < 0) nextId = text.length;
        }
        if (nextId < span.optionsEnd) findId(span);
        else span.idStart = span.idEnd = span.optionsEnd;
        server(span);
        continue;
      }
    }
    other(text.slice(i, last), line);
  }
  return outline;
}

export const spanName = (s: Readonly<ServerSpan>): string => s.text.slice(s.nameStart, s.nameEnd);

/** The span's options without its `id`, as text (blanks as written). */
function optionsText(s: Readonly<ServerSpan>): string {
  const { text, optionsStart: start, optionsEnd: end, idStart, idEnd } = s;
  if (idStart === idEnd) return text.slice(start, end);
  if (idStart === start) return text.slice(idEnd, end);
  return `${text.slice(start, idStart)}${text.slice(idEnd, end)}`.trimEnd();
}

/**
 * The span's options are `options`, in that order, its `id` aside: compared in place, without
 * splitting the line.
 */
export function spanHasOptions(s: Readonly<ServerSpan>, options: readonly string[]): boolean {
  const { text, optionsEnd: end } = s;
  if (!s.plain) return sameOptions(splitOptions(optionsText(s)), options);
  let p = s.optionsStart;
  for (const option of options) {
    if (p === s.idStart) p = s.idEnd;
    if (option === "" || !text.startsWith(option, p)) return false;
    p += option.length;
    if (p > end || (p < end && !isBlank(text.charCodeAt(p)))) return false;
    while (p < end && isBlank(text.charCodeAt(p))) p++;
  }
  if (p === s.idStart) p = s.idEnd;
  return p >= end;
}

const splitOptions = (text: string): string[] => (text === "" ? [] : text.split(/\s+/));

/** Every server line as a record (a full reconcile, dest at adoption, the live lane's small renders). */
export function parseConfig(text: string): ParsedConfig {
  const servers = new Map<string, ServerLine>();
  // Lines with the same options share one array.
  const optionLists = new Map<string, string[]>();
  const outline = scanConfig(text, (s) => {
    const name = spanName(s);
    const rest = optionsText(s);
    let options = optionLists.get(rest);
    if (!options) {
      options = splitOptions(rest);
      optionLists.set(rest, options);
    }
    const address = s.text.slice(s.addressStart, s.addressEnd);
    const server: ServerLine = { backend: s.proxy, name, address, options, line: s.line };
    if (s.idStart !== s.idEnd) server.id = Number(s.text.slice(s.idStart + 2, s.idEnd));
    servers.set(`${s.proxy}/${name}`, server);
  });
  return { servers, ...outline };
}

/** The same options in the same order: compared in place, as the file lane does for every server of a pass. */
export function sameOptions(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((option, i) => option === b[i]));
}

/** Why a server line cannot be created with `add server`, or undefined when it can. */
export function notAddable(server: ServerLine, defaultServer: Set<string>): string | undefined {
  const where = `line ${server.line}: server ${server.backend}/${server.name}`;
  if (!SAFE_NAME.test(server.backend) || !SAFE_NAME.test(server.name) || !SAFE_ADDRESS.test(server.address)) {
    return `${where} has characters lbwatch does not send to the Runtime API`;
  }
  if (defaultServer.has("*") || defaultServer.has(server.backend)) {
    return `${where} is under a default-server line, which "add server" does not apply`;
  }
  const option = unsupportedOption(server.options);
  return option && `${where}: ${option}`;
}
