/**
 * picomatch never refuses a glob: an unclosed `[` becomes a literal, an unclosed `{` or a trailing
 * `\` a pattern that matches nothing, an unclosed extglob a pattern with another meaning. A `comm`
 * rule with such a typo would silently match the wrong processes (or none), so the config loader
 * checks the syntax itself and names the character at fault.
 */
import picomatch from "picomatch";

const CLOSER: Record<string, string> = { "(": ")", "{": "}" };

/** Index of the `]` closing the bracket expression opened at `open`, or -1. */
function bracketEnd(glob: string, open: number): number {
  let i = open + 1;
  if (glob[i] === "!" || glob[i] === "^") i++;
  // A `]` right after the opening (or its negation) is a member, not the end.
  if (glob[i] === "]") i++;
  for (; i < glob.length; i++) {
    if (glob[i] === "\\") i++;
    else if (glob.startsWith("[:", i)) {
      const end = glob.indexOf(":]", i + 2);
      if (end < 0) return -1;
      i = end + 1;
    } else if (glob[i] === "]") return i;
  }
  return -1;
}

const literal = (char: string) => `write \\${char} to match a ${char}`;

/** Why `glob` is not a well-formed picomatch glob, or undefined when it is. */
export function globSyntaxError(glob: string): string | undefined {
  const open: { char: string; at: number }[] = [];
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] ?? "";
    if (char === "\\") {
      if (i === glob.length - 1) return `it ends with a lone \\ (${literal("\\")})`;
      i++;
    } else if (char === "[") {
      const end = bracketEnd(glob, i);
      if (end < 0) return `the [ at character ${i + 1} is never closed (${literal("[")})`;
      i = end;
    } else if (char === "(" || char === "{") {
      open.push({ char, at: i });
    } else if (char === ")" || char === "}") {
      const top = open.pop();
      if (!top || CLOSER[top.char] !== char)
        return `the ${char} at character ${i + 1} closes nothing (${literal(char)})`;
    }
  }
  const unclosed = open.pop();
  if (unclosed)
    return `the ${unclosed.char} at character ${unclosed.at + 1} is never closed (${literal(unclosed.char)})`;
  try {
    // With debug, picomatch throws instead of returning a regex that matches nothing.
    picomatch.makeRe(glob, { dot: true, debug: true });
  } catch (err) {
    const reason = (err as Error).message.replace(/^Invalid regular expression: \/.*\/: /, "");
    return `it does not compile: ${reason.toLowerCase()}`;
  }
  return undefined;
}
