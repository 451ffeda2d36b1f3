/**
 * Paths of the helper programs the benchmarks run, and the C helper's build: compiled once per source
 * version into the OS temp dir (nothing generated lands in the repo).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { access, mkdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const REPO_DIR = dirname(BENCH_DIR);
export const LBWATCH_BIN = join(REPO_DIR, "bin", "lbwatch");
/**
 * The node flags of bin/lbwatch's shebang (its V8 heap sizing): a benchmark that starts node itself,
 * to add its own flags, must run lbwatch as the shebang would, or it measures another memory. Read
 * on use: compiled into build/bench-js (render-scale's worker), this module has no bin/ beside it.
 */
export function lbwatchNodeFlags(): string[] {
  const shebang = readFileSync(LBWATCH_BIN, "utf8").split("\n", 1)[0] ?? "";
  return shebang.split(" ").filter((word) => word.startsWith("--"));
}
/** node's argv for `lbwatch <args>`, `nodeFlags` (a profiler's) before the shebang's. */
export const lbwatchArgv = (args: readonly string[], nodeFlags: readonly string[] = []): string[] => [
  ...nodeFlags,
  ...lbwatchNodeFlags(),
  LBWATCH_BIN,
  ...args,
];
export const LISTENERS_PY = join(BENCH_DIR, "helpers", "listeners.py");
const C_SOURCE = join(BENCH_DIR, "helpers", "bench-helper.c");

/** Compiles bench/helpers/bench-helper.c (cc -O2) unless this exact source was built before. */
export async function benchHelper(): Promise<string> {
  const source = await readFile(C_SOURCE);
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 12);
  const out = join(tmpdir(), "lbwatch-bench", `bench-helper-${hash}`);
  const built = await access(out).then(
    () => true,
    () => false,
  );
  if (!built) {
    await mkdir(dirname(out), { recursive: true });
    await execa("cc", ["-O2", "-Wall", "-o", out, C_SOURCE]);
  }
  return out;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
