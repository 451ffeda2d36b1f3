/**
 * Text a process chose (its comm, its cgroup path) as template data: any local user sets these
 * (`prctl(PR_SET_NAME)` takes any 15 bytes), so a newline in one would start a new config line.
 */

const PRINTABLE = /^[\x20-\x7e]*$/;

/** What stands in for each refused character. */
export const REPLACEMENT = "_";

/**
 * `text` with every character outside printable ASCII (0x20-0x7e) replaced by `_`: control
 * characters (newline, carriage return, tab, NUL, DEL, escape sequences), and every non-ASCII code
 * point, one `_` each (an invalid UTF-8 byte reaches here as U+FFFD, so it becomes one `_` too).
 * `_` is a word character in HAProxy, nginx, regexes and shells: it opens no quote, comment,
 * variable or block, and cannot end a token, so the replacement never adds syntax of its own.
 * The result is one line that still may hold printable specials (`"`, `#`, `;`, `{`, `$`, space):
 * use the quoting helpers where the text is not inside a comment.
 */
export function safeText(text: string): string {
  if (PRINTABLE.test(text)) return text;
  // A regex over UTF-16 units would turn one astral character into two replacements; per code point.
  let out = "";
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    out += code >= 0x20 && code <= 0x7e ? char : REPLACEMENT;
  }
  return out;
}
