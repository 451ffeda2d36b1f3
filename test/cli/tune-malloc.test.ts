import { fileURLToPath } from "node:url";
import { execa } from "execa";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { MMAP_THRESHOLD_BYTES, tuneMalloc } from "../../src/cli/tune-malloc.js";
import { loadAddon } from "../../src/probe/native.js";
import { ensureBuilt } from "../helpers/cli.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

function capture() {
  const lines: Array<{ level: number; msg: string; setting?: string }> = [];
  const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

describe("tuneMalloc", () => {
  it("fixes glibc's mmap threshold through the addon, which refuses a value that would disable mmap", () => {
    const addon = loadAddon();
    expect(addon.tuneMalloc(MMAP_THRESHOLD_BYTES)).toBe(true);
    for (const bad of [-1, 0, "big", undefined]) {
      expect(() => (addon.tuneMalloc as (v: unknown) => boolean)(bad)).toThrow(/positive 32-bit number/);
    }
    const { log, lines } = capture();
    tuneMalloc(log, {});
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  });

  it("leaves malloc as the operator tuned it through the environment", () => {
    for (const env of [
      { MALLOC_MMAP_THRESHOLD_: "65536" },
      { GLIBC_TUNABLES: "glibc.malloc.trim_threshold=1" },
    ]) {
      const { log, lines } = capture();
      tuneMalloc(log, env);
      expect(lines.map((l) => l.msg)).toEqual(["malloc tuned by the environment: left as it is"]);
    }
  });

  it("hands the brk heap's free pages back to the kernel after a major GC", async () => {
    await ensureBuilt();
    // In a process of its own: the fragments must be the only ones, and vitest's workers have no gc().
    const run = async (mode: string) => {
      const child = await execa(
        process.execPath,
        ["--expose-gc", `${root}test/fixtures/malloc-fragments.mjs`, `${root}dist/cli/tune-malloc.js`, mode],
        { timeout: 20_000 },
      );
      return JSON.parse(child.stdout) as { before: number; after: number };
    };
    const [trimmed, untrimmed] = await Promise.all([run("trim"), run("no-trim")]);
    // 384 free 64 KiB chunks (24 MiB): kept resident without the trim, returned with it.
    expect(untrimmed.before).toBeGreaterThan(24 * 1024);
    expect(untrimmed.after).toBeGreaterThan(untrimmed.before - 2048);
    expect(trimmed.before).toBeGreaterThan(24 * 1024);
    expect(trimmed.after).toBeLessThan(trimmed.before - 20 * 1024);
  });
});
