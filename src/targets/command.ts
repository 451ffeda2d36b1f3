/**
 * Runs a target's `check` or `reload` argv. Never through a shell: the argv comes from the config and
 * `{staged}` is replaced inside arguments, so no listener or process name can ever reach a command line.
 *
 * `commandTimeout` is a hard limit: the command runs in its own process group, which gets SIGTERM at
 * the timeout and SIGKILL a second later, and the call returns when the command itself has exited:
 * it never waits for its output pipes to close, which a grandchild (a `sleep` forked by a reload
 * script) may keep open long after.
 */
import { spawn } from "node:child_process";
import { getPriority, setPriority } from "node:os";
import { LbwatchError } from "../errors.js";

/** Placeholder in a check argv for the staged file's path. */
export const STAGED_PLACEHOLDER = "{staged}";

/** Enough output to show a config error without flooding the log with a whole config dump. */
const OUTPUT_TAIL_CHARS = 4000;
/** How much nicer than lbwatch a background command runs (niceness tops out at 19). */
const BACKGROUND_NICER = 10;
/** After the timeout's SIGTERM, how long the group gets before SIGKILL. */
const FORCE_KILL_AFTER_MS = 1000;
/** After the command exited, how long its last output may take to drain from the pipes. */
const DRAIN_MS = 100;

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

interface Finished {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  spawnError?: string;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

function execute(
  argv: readonly string[],
  timeoutMs: number,
  background: boolean,
  signal: AbortSignal | undefined,
): Promise<Finished> {
  const [file, ...args] = argv as [string, ...string[]];
  return new Promise((resolve) => {
    const child = spawn(file, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const pid = child.pid;
    // A stopping lbwatch ends what it started: the result would reach nobody.
    const onAbort = () => pid !== undefined && killGroup(pid, "SIGKILL");
    signal?.addEventListener("abort", onAbort, { once: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    let timedOut = false;
    let forceKill: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid === undefined) return;
      killGroup(child.pid, "SIGTERM");
      forceKill = setTimeout(
        () => child.pid !== undefined && killGroup(child.pid, "SIGKILL"),
        FORCE_KILL_AFTER_MS,
      );
    }, timeoutMs);
    let done = false;
    const finish = (exitCode: number | undefined, spawnError?: string) => {
      if (done) return;
      done = true;
      signal?.removeEventListener("abort", onAbort);
      clearTimeout(timer);
      clearTimeout(forceKill);
      // A timed-out command's whole group goes, whatever ignored the SIGTERM. After a normal exit the
      // group is left alone: what a reload started on purpose is not ours to kill.
      if (timedOut && child.pid !== undefined) killGroup(child.pid, "SIGKILL");
      const settle = () => {
        child.stdout.destroy();
        child.stderr.destroy();
        const result: Finished = {
          exitCode,
          stdout: Buffer.concat(out).toString("utf8").replace(/\n$/, ""),
          stderr: Buffer.concat(err).toString("utf8").replace(/\n$/, ""),
          timedOut,
        };
        if (spawnError !== undefined) result.spawnError = spawnError;
        resolve(result);
      };
      const drained = setTimeout(settle, DRAIN_MS);
      child.once("close", () => {
        clearTimeout(drained);
        settle();
      });
    };
    child.once("error", (e: NodeJS.ErrnoException) => finish(undefined, e.code ?? e.message));
    child.once("exit", (code) => finish(code === null || timedOut ? undefined : code));
    if (background && child.pid !== undefined) lowerPriority(child.pid);
  });
}

/**
 * Run argv with a timeout; resolve with its stdout on exit 0, else reject with a CommandError
 * (E_CHECK_FAILED or E_RELOAD_FAILED by `kind`).
 */
export async function runCommand(
  kind: CommandKind,
  argv: readonly string[],
  options: { timeoutMs: number; background?: boolean; signal?: AbortSignal },
): Promise<string> {
  if (argv.length === 0)
    throw new CommandError(kind, [], { exitCode: undefined, stderr: "empty argv", timedOut: false });
  if (options.signal?.aborted) {
    throw new CommandError(kind, [...argv], {
      exitCode: undefined,
      stderr: "not run: lbwatch is stopping",
      timedOut: false,
    });
  }
  const result = await execute(argv, options.timeoutMs, options.background === true, options.signal);
  if (result.exitCode === 0 && !result.timedOut) return result.stdout;
  // Some tools (haproxy -c) print their diagnostics on stdout; show whichever stream has them.
  const output = result.stderr || result.stdout || result.spawnError || "";
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
function lowerPriority(pid: number): void {
  try {
    setPriority(pid, Math.min(getPriority() + BACKGROUND_NICER, 19));
  } catch {
    // Already exited, or not allowed: it then runs at normal priority, which is only slower.
  }
}

function tail(text: string): string {
  return text.length <= OUTPUT_TAIL_CHARS ? text : `…${text.slice(-OUTPUT_TAIL_CHARS)}`;
}
