/**
 * `run --dry-run` output: a unified diff of dest → new render, headed with dest's path, colored when
 * printed to a terminal (plain when piped, so `lbwatch run --dry-run > x.patch` gives a usable patch).
 */
import { styleText } from "node:util";
import { createTwoFilesPatch, FILE_HEADERS_ONLY } from "diff";

/** `previous` undefined means dest does not exist yet: every line shows as added. */
export function renderDiff(dest: string, previous: string | undefined, next: string, color: boolean): string {
  const patch = createTwoFilesPatch(dest, dest, previous ?? "", next, "current", "rendered", {
    headerOptions: FILE_HEADERS_ONLY,
  });
  return color ? colorize(patch) : patch;
}

/** The caller decided that color is wanted (stdout is a TTY), so styleText must not second-guess it. */
const FORCE = { validateStream: false } as const;

function colorize(patch: string): string {
  return patch
    .split("\n")
    .map((line) => {
      if (line.startsWith("---") || line.startsWith("+++")) return styleText("bold", line, FORCE);
      if (line.startsWith("@@")) return styleText("cyan", line, FORCE);
      if (line.startsWith("+")) return styleText("green", line, FORCE);
      if (line.startsWith("-")) return styleText("red", line, FORCE);
      return line;
    })
    .join("\n");
}
