/**
 * Template helpers: small, pure functions of their arguments. None reads files, runs commands or
 * looks at anything but its arguments, so a template can only turn the context into text.
 * README "Templates" documents each one.
 */
import Handlebars from "handlebars";
import { REPLACEMENT, safeText } from "./safe-text.js";

type Helper = (...args: unknown[]) => unknown;
type CallSite = ConstructorParameters<typeof Handlebars.Exception>[1];

/** Handlebars passes an options object last; these helpers work on the arguments before it. */
function withArity(name: string, min: number, max: number, fn: (...args: unknown[]) => unknown): Helper {
  return (...all: unknown[]) => {
    const args = all.slice(0, -1);
    if (args.length < min || args.length > max) {
      const expected = min === max ? `${min}` : `${min} to ${max}`;
      // Given the options (which carry `loc`), the exception reports the call's line and column.
      throw new Handlebars.Exception(
        `${name} takes ${expected} argument(s), got ${args.length}`,
        all.at(-1) as CallSite,
      );
    }
    return fn(...args);
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
      return builtin.apply(this, args);
    };
  };
  return { each: wrap("each"), with: wrap("with") };
}
