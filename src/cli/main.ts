import { Command, CommanderError } from "commander";
import { type ErrorCode, isLbwatchError } from "../errors.js";
import { packageVersion } from "../version.js";
import * as agent from "./agent.js";
import * as check from "./check.js";
import * as events from "./events.js";
import * as ls from "./ls.js";
import * as run from "./run.js";
import * as status from "./status.js";

/** Subcommands, each in its own file exporting register(program). */
const COMMANDS: { register(program: Command): void }[] = [events, ls, run, check, agent, status];

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

/** Bad input the operator must fix (flags, config, templates) exits 2, like a usage error. */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set(["E_USAGE", "E_CONFIG", "E_TEMPLATE"]);

export function createProgram(): Command {
  const program = new Command("lbwatch")
    .description("load-balancer auto-config from kernel TCP listen/close events (eBPF)")
    .version(packageVersion())
    // Usage errors are reported by main() as one line; commander must neither print nor exit itself.
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} });
  for (const command of COMMANDS) command.register(program);
  return program;
}

/** "Tried:\n  a: x\n  b: y" → "Tried: a: x; b: y". */
function oneLine(text: string): string {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .reduce((acc, l) => (acc === "" ? l : acc.endsWith(":") ? `${acc} ${l}` : `${acc}; ${l}`), "");
}

/** One line for stderr and the exit code for an error thrown while parsing or running a command. */
export function describeError(err: unknown): { line: string; code: number } {
  if (err instanceof CommanderError) {
    if (err.code === "commander.help") {
      return { line: "lbwatch: missing command; see 'lbwatch --help'", code: EXIT_USAGE };
    }
    const message = err.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ");
    return { line: `lbwatch: ${message}; see 'lbwatch --help'`, code: EXIT_USAGE };
  }
  if (isLbwatchError(err)) {
    // E_CONFIG lists one problem per line and E_TEMPLATE shows the source line under a caret, by
    // design; any other multi-line message (e.g. the hooks
    // the probe tried) is joined into the single line a terminal, a log or a wrapper script expects.
    const message = err.code === "E_CONFIG" || err.code === "E_TEMPLATE" ? err.message : oneLine(err.message);
    return {
      line: `lbwatch: ${err.code}: ${message}`,
      code: USAGE_CODES.has(err.code) ? EXIT_USAGE : EXIT_ERROR,
    };
  }
  return {
    line: `lbwatch: unexpected error: ${err instanceof Error ? err.message : String(err)}`,
    code: EXIT_ERROR,
  };
}

/** Runs the CLI with argv (without node and script). Sets process.exitCode; never calls process.exit. */
export async function main(argv: string[]): Promise<void> {
  try {
    await createProgram().parseAsync(argv, { from: "user" });
  } catch (err) {
    if (
      err instanceof CommanderError &&
      (err.code === "commander.helpDisplayed" || err.code === "commander.version")
    ) {
      process.exitCode = EXIT_OK;
      return;
    }
    const { line, code } = describeError(err);
    process.stderr.write(`${line}\n`);
    process.exitCode = code;
  }
}
