/**
 * Runs a target's `check` or `reload` argv. Never through a shell: the argv comes from the config and
 * `{staged}` is replaced inside arguments, so no listener or process name can ever reach a command line.
 */
import { getPriority, setPriority } from "node:os";
import { execa } from "execa";
import { LbwatchError } from "../errors.js";

/** Placeholder in a check argv for the staged file's path. */
export const STAGED_PLACEHOLDER = "{staged}";

/** Enough output to show a config error without flooding the log with a whole config dump. */
const OUTPUT_TAIL_CHARS = 4000;
/** How much nicer than lbwatch a background command runs (niceness tops out at 19). */
const BACKGROUND_NICER = 10;
/** After the timeout's SIGTERM, how long a command gets before SIGKILL. */
const FORCE_KILL_AFTER_MS = 1000;

export type CommandKind = "check" | "reload";

export interface CommandOutcome {
  /** undefined when the command never ran to an exit (not found, killed by the timeout or a signal). */
  exitCode: number | undefined;
  /** Tail of the command's diagnostics (stderr, or stdout when stderr was empty). */
  stderr: string;
  timedOut: boolean;
}

/** A check or reload that exited non-zero, timed out or could not start. Callers log its fields. */
export class CommandError extends LbwatchError implements CommandOutcome {
  readonly argv: string[];
  readonly exitCode: number | undefined;
  readonly stderr: string;
  readonly timedOut: boolean;

  constructor(kind: CommandKind, argv: string[], outcome: CommandOutcome) {
    const how = outcome.timedOut
      ? "timed out"
      : outcome.exitCode === undefined
        ? "failed"
        : `exited with ${outcome.exitCode}`;
    super(
      kind === "check" ? "E_CHECK_FAILED" : "E_RELOAD_FAILED",
      `${kind} command ${JSON.stringify(argv)} ${how}${outcome.stderr ? `: ${outcome.stderr}` : ""}`,
    );
    this.argv = argv;
    this.exitCode = outcome.exitCode;
    this.stderr = outcome.stderr;
    this.timedOut = outcome.timedOut;
  }
}

/** Replace `{staged}` in every argument (also inside one, as in `--config={staged}`). */
export function substituteStaged(argv: readonly string[], staged: string): string[] {
  return argv.map((arg) => arg.replaceAll(STAGED_PLACEHOLDER, staged));
}

/**
 * Run argv with a timeout; resolve with its stdout on exit 0, else reject with a CommandError
 * (E_CHECK_FAILED or E_RELOAD_FAILED by `kind`).
 */
export async function runCommand(
  kind: CommandKind,
  argv: readonly string[],
  options: { timeoutMs: number; background?: boolean },
): Promise<string> {
  const [file, ...args] = argv;
  if (file === undefined)
    throw new CommandError(kind, [], { exitCode: undefined, stderr: "empty argv", timedOut: false });
  const subprocess = execa(file, args, {
    timeout: options.timeoutMs,
    forceKillAfterDelay: FORCE_KILL_AFTER_MS,
    reject: false,
    stdin: "ignore",
    stripFinalNewline: true,
  });
  if (options.background) lowerPriority(subprocess.pid);
  const result = await subprocess;
  if (!result.failed) return result.stdout;
  // Some tools (haproxy -c) print their diagnostics on stdout; show whichever stream has them.
  const output = result.stderr || result.stdout || (result.code ?? result.shortMessage ?? "");
  throw new CommandError(kind, [...argv], {
    exitCode: result.exitCode,
    stderr: tail(output),
    timedOut: result.timedOut,
  });
}

/**
 * A background command (the check of a file written behind a live change) must not take CPU from the
 * live path: `haproxy -c` is 100-200 ms of CPU, HAProxy and lbwatch need a few ms of it per change.
 */
function lowerPriority(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    setPriority(pid, Math.min(getPriority() + BACKGROUND_NICER, 19));
  } catch {
    // Already exited, or not allowed: it then runs at normal priority, which is only slower.
  }
}

function tail(text: string): string {
  return text.length <= OUTPUT_TAIL_CHARS ? text : `…${text.slice(-OUTPUT_TAIL_CHARS)}`;
}
