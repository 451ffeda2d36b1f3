/**
 * Runs one of the system tools the probe reads the kernel through (iproute2's `ip` and `ss`,
 * util-linux's `nsenter`): argv only, never a shell, in the C locale, output kept whole.
 *
 * node:child_process rather than execa: importing execa alone took ~100 ms of every `lbwatch run`
 * start-up (measured), on the path to the first snapshot, for three calls that need none of its features.
 */
import { execFile } from "node:child_process";

export interface ToolResult {
  stdout: string;
  stderr: string;
  /** Why it failed (its first stderr line, or how it ended); undefined when it exited 0. */
  failure?: string;
}

/** `ss` lists every listener of a namespace: ~150 bytes each, 15 MB at 100,000. */
const MAX_OUTPUT_BYTES = 256 * 2 ** 20;

/** Resolves in every case; `timeoutMs` 0 waits as long as the tool runs. */
export function runTool(argv: readonly string[], timeoutMs = 0): Promise<ToolResult> {
  const [file = "", ...args] = argv;
  const options = {
    env: { ...process.env, LC_ALL: "C" },
    timeout: timeoutMs,
    maxBuffer: MAX_OUTPUT_BYTES,
    encoding: "utf8" as const,
  };
  return new Promise((resolve) => {
    execFile(file, args, options, (err, stdout, stderr) => {
      if (!err) {
        resolve({ stdout, stderr });
        return;
      }
      const ended =
        err.killed && timeoutMs > 0
          ? `${file} timed out after ${timeoutMs} ms`
          : typeof err.code === "number"
            ? `${file} exited ${err.code}`
            : err.message;
      resolve({ stdout, stderr, failure: stderr.split("\n")[0] || ended });
    });
  });
}
