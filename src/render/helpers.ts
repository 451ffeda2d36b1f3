/**
 * Template helpers: small, pure functions of their arguments. None reads files, runs commands or
 * looks at anything but its arguments, so a template can only turn the context into text.
 * README "Templates" documents each one.
 */
import Handlebars from "handlebars";
import { flattened } from "../flat-string.js";
import { REPLACEMENT, safeText } from "./safe-text.js";

type Helper = (...args: unknown[]) => unknown;
type CallSite = ConstructorParameters<typeof Handlebars.Exception>[1];

/** A value a helper refuses: reported at the call site, as `file:line:column: helper: message`. */
class Refused extends Error {}

/** Handlebars passes an options object last; these helpers work on the arguments before it. */
function withArity(name: string, min: number, max: number, fn: (...args: unknown[]) => unknown): Helper {
  return (...all: unknown[]) => {
    const args = all.slice(0, -1);
    // Given the options (which carry `loc`), the exception reports the call's line and column.
    const site = all.at(-1) as CallSite;
    if (args.length < min || args.length > max) {
      const expected = min === max ? `${min}` : `${min} to ${max}`;
      throw new Handlebars.Exception(`${name} takes ${expected} argument(s), got ${args.length}`, site);
    }
    try {
      return fn(...args);
    } catch (err) {
      if (err instanceof Refused) throw new Handlebars.Exception(`${name}: ${err.message}`, site);
      throw err;
    }
  };
}

const truthy = (value: unknown) => (Array.isArray(value) ? value.length > 0 : Boolean(value));
const empty = (value: unknown) => value === undefined || value === null || value === "";

function join(list: unknown, separator: unknown = ",", field?: unknown): string {
  if (!Array.isArray(list)) return "";
  const items =
    field === undefined ? list : list.map((item) => (item as Record<string, unknown>)?.[String(field)]);
  return items.map(String).join(String(separator));
}

function len(value: unknown): number {
  if (Array.isArray(value) || typeof value === "string") return value.length;
  if (typeof value === "object" && value !== null) return Object.keys(value).length;
  return 0;
}

/**
 * One HAProxy argument that reads back as `value`, whatever it holds. Single quotes are HAProxy's
 * strong quoting: inside them no space, `#`, `\`, `"` or `$` (environment variable) means anything; a
 * `'` closes the quote, is written `\'` outside it, and the quote reopens ('it'\''s'), since HAProxy
 * joins adjacent quoted and unquoted parts into one argument. `%` is doubled because arguments
 * HAProxy reads as log-format (set-header values, `hdr` of return, log-format) evaluate `%[...]`
 * (`%[env(SECRET)]` is 14 bytes: a process name) and print `%%` as `%`; in a plain-string argument a
 * `%` therefore shows doubled. Control and non-ASCII characters, which no config line can hold,
 * become `_` (safe-text.ts), and so does an empty string: HAProxy reads an empty argument ('' or "")
 * as a missing one, which shifts the arguments after it or fails the config.
 */
export function haproxyQuote(value: unknown): string {
  const text = safeText(String(value)).replaceAll("%", "%%") || REPLACEMENT;
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * One nginx argument: double quotes, inside which `;`, `{`, `}`, `#`, `'` and spaces are literal, with
 * `\` and `"` escaped by a backslash (nginx's tokenizer unescapes exactly those, and turns `\n`,
 * `\t`, `\r` into control characters, which escaping the backslash also prevents). nginx has no
 * escape for `$` in arguments that take variables (add_header, return, proxy_set_header...): `$x`
 * would expand and a lone `$` fails the config test, so `$` becomes `_`, like control and non-ASCII
 * characters (safe-text.ts).
 */
export function nginxQuote(value: unknown): string {
  const text = safeText(String(value)).replaceAll("$", "_");
  return `"${text.replace(/[\\"]/g, "\\$&")}"`;
}

/** Characters a word printed without quotes may hold: none is quoting, comment, variable or block syntax. */
const BARE_WORD = /^[A-Za-z0-9_.:/@=,+()[\]-]+$/;

/**
 * A string (or list of strings and numbers) as words printed bare, one space apart: options such as
 * `ssl verify none` that must stay unquoted (HAProxy reads a quoted `'ssl'` as the same word, but
 * lbwatch sends server lines to the Runtime API only unquoted). A word holding anything but
 * BARE_WORD's characters is refused, so nothing can open a quote, a comment or a block, or
 * end a line. Missing, null or false is no words. `lead` goes before the words when there are any
 * (`(bareWords meta.serverOptions " ")`), so that a template can compute a line's optional part once.
 */
export function bareWords(value: unknown, lead: unknown = ""): string {
  if (value === undefined || value === null || value === false) return "";
  const items = Array.isArray(value) ? value : [value];
  const words = items.flatMap((item) => {
    if (typeof item !== "string" && typeof item !== "number")
      throw new Refused(`${JSON.stringify(item)} is not a string or number`);
    return String(item).split(" ").filter(Boolean);
  });
  for (const word of words) {
    if (!BARE_WORD.test(word)) {
      throw new Refused(
        `${JSON.stringify(word)} holds characters that are syntax in a config file: only letters, digits and _ . : / @ = , + ( ) [ ] - are printed bare (quote free text with haproxyQuote or nginxQuote)`,
      );
    }
  }
  return words.length > 0 ? `${String(lead)}${words.join(" ")}` : "";
}

/** `value` when it is one of `choices`, else refused: a typo in a setting fails the render, not silently. */
function oneOf(value: unknown, ...choices: unknown[]): unknown {
  if (choices.includes(value)) return value;
  throw new Refused(`${JSON.stringify(value) ?? "nothing"} is not one of ${choices.join(", ")}`);
}

function required(value: unknown, what: unknown): unknown {
  if (empty(value)) throw new Refused(`${String(what)} is required`);
  return value;
}

/** The items of a list (or values of a mapping, in order) whose field at dotted `path` is `value`. */
function where(collection: unknown, path: unknown, value: unknown): unknown[] {
  const items = Array.isArray(collection)
    ? collection
    : typeof collection === "object" && collection !== null
      ? Object.values(collection)
      : [];
  const field = (item: unknown) =>
    String(path)
      .split(".")
      .reduce<unknown>(
        (at, part) =>
          typeof at === "object" && at !== null && Object.hasOwn(at, part)
            ? (at as Record<string, unknown>)[part]
            : undefined,
        item,
      );
  return items.filter((item) => field(item) === value);
}

export const helpers: Record<string, Helper> = {
  eq: withArity("eq", 2, 2, (a, b) => a === b),
  ne: withArity("ne", 2, 2, (a, b) => a !== b),
  not: withArity("not", 1, 1, (a) => !truthy(a)),
  and: withArity("and", 2, Number.POSITIVE_INFINITY, (...values) => values.every(truthy)),
  or: withArity("or", 2, Number.POSITIVE_INFINITY, (...values) => values.some(truthy)),
  default: withArity("default", 2, 2, (value, fallback) => (empty(value) ? fallback : value)),
  join: withArity("join", 1, 3, join),
  sanitize: withArity("sanitize", 1, 1, (value) => String(value).replace(/[^A-Za-z0-9_]/g, "_") || "_"),
  upper: withArity("upper", 1, 1, (value) => String(value).toUpperCase()),
  lower: withArity("lower", 1, 1, (value) => String(value).toLowerCase()),
  len: withArity("len", 1, 1, len),
  json: withArity("json", 1, 1, (value) => JSON.stringify(value)),
  haproxyQuote: withArity("haproxyQuote", 1, 1, haproxyQuote),
  nginxQuote: withArity("nginxQuote", 1, 1, nginxQuote),
  bareWords: withArity("bareWords", 1, 2, bareWords),
  oneOf: withArity("oneOf", 2, Number.POSITIVE_INFINITY, oneOf),
  required: withArity("required", 2, 2, required),
  where: withArity("where", 3, 3, where),
};

/**
 * Handlebars checks helper arguments leniently even in strict mode, so `{{#each services.wbe}}` (a typo)
 * would silently render nothing. `each` and `with` only ever get missing values from a wrong path here,
 * so they refuse them; `if` and `unless` stay lenient: they are how a template asks "is it there?".
 */
export function strictBlockHelpers(env: typeof Handlebars): Record<string, Helper> {
  const wrap = (name: "each" | "with"): Helper => {
    const builtin = env.helpers[name] as Helper;
    return function (this: unknown, ...args: unknown[]) {
      if (args.length < 2 || args[0] === undefined) {
        throw new Handlebars.Exception(`#${name} of a missing field`, args.at(-1) as CallSite);
      }
      const out = builtin.apply(this, args);
      // The server lines of 1,000 backends, dropped while they are still young.
      return typeof out === "string" ? flattened(out) : out;
    };
  };
  return { each: wrap("each"), with: wrap("with") };
}
