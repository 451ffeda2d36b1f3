import pino from "pino";
import { describe, expect, it } from "vitest";
import { MMAP_THRESHOLD_BYTES, tuneMalloc } from "../../src/cli/tune-malloc.js";
import { loadAddon } from "../../src/probe/native.js";

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
});
