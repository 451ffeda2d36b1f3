/**
 * Paths of the helper programs the benchmarks run, and the C helper's build: compiled once per source
 * version into the OS temp dir (nothing generated lands in the repo).
 */
import { createHash } from "node:crypto";
import { access, mkdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
export const REPO_DIR = dirname(BENCH_DIR);
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
