/**
 * Issue 3: 1,000 listeners come up within 1 s (one process, listens spaced evenly), with the real
 * probe and `lbwatch run` writing a file target: how many renders it takes and how long until the file
 * holds all 1,000 (converged), then the same for all of them closing at once.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { BenchContext, Benchmark } from "./lib/bench.js";
import { Child } from "./lib/children.js";
import { LISTENERS_PY, lbwatchArgv, sleep } from "./lib/helpers.js";
import { freePortBlock } from "./lib/lb-layout.js";
import { round } from "./lib/percentiles.js";

const COUNT = 1000;
const addressOf = (i: number) => `127.78.${Math.floor(i / 250)}.${(i % 250) + 1}`;

/** Server lines in dest; -1 while dest does not exist. */
async function serverLines(dest: string): Promise<number> {
  const text = await readFile(dest, "utf8").catch(() => undefined);
  return text === undefined ? -1 : text.split("\n").filter((l) => l.startsWith("server ")).length;
}

/** Polls dest every 5 ms until it lists `want` servers; returns when (hrtime ns), or undefined. */
async function convergeAt(dest: string, want: number, timeoutMs: number): Promise<bigint | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await serverLines(dest)) === want) return process.hrtime.bigint();
    await sleep(5);
  }
  return undefined;
}

const applied = (lbwatch: Child) => lbwatch.stderrLines().filter((l) => l.msg === "target applied").length;

export const burst: Benchmark = {
  name: "burst",
  async run(ctx: BenchContext) {
    const port = await freePortBlock(1);
    const dir = ctx.scratch;
    const template = join(dir, "burst.hbs");
    const dest = join(dir, "burst.out");
    const config = join(dir, "burst.yaml");
    await writeFile(template, "{{#each services.burst.backends}}\nserver {{id}} {{endpoint}}\n{{/each}}\n");
    await writeFile(
      config,
      `services:\n  burst: { ports: [${port}] }\nresync: 0s\ntargets:\n  - template: ${template}\n    dest: ${dest}\n`,
    );
    const lbwatch = Child.start(process.execPath, lbwatchArgv(["run", "--config", config]), {
      env: { LBWATCH_LOG_LEVEL: "info" },
    });
    try {
      if ((await convergeAt(dest, 0, 15_000)) === undefined || lbwatch.exited) {
        throw new Error(`lbwatch run did not write ${dest}: ${lbwatch.stderrTail}`);
      }
      await sleep(300);
      const binds = Array.from({ length: COUNT }, (_, i) => `${addressOf(i)}:${port}`);
      const rendersBefore = applied(lbwatch);
      const helper = Child.start("python3", [
        LISTENERS_PY,
        "--hold-ms",
        "0",
        "--spread-ms",
        "1000",
        ...binds,
      ]);
      const first = BigInt((await helper.waitFor((l) => l.ev === "listening", 5000)).t as number);
      await helper.waitFor((l) => l.ev === "ready", 10_000);
      const last = BigInt(
        helper
          .lines()
          .filter((l) => l.ev === "listening")
          .at(-1)?.t as number,
      );
      const up = await convergeAt(dest, COUNT, 15_000);
      await sleep(600);
      const rendersUp = applied(lbwatch) - rendersBefore;

      helper.signal("SIGTERM");
      const closed = BigInt((await helper.waitFor((l) => l.ev === "closed", 5000)).t as number);
      const down = await convergeAt(dest, 0, 15_000);
      await sleep(600);
      const rendersDown = applied(lbwatch) - rendersBefore - rendersUp;
      const ms = (a: bigint | undefined, b: bigint) =>
        a === undefined ? null : round(Number(a - b) / 1e6, 1);
      return {
        listeners: COUNT,
        listenSpreadMs: round(Number(last - first) / 1e6, 1),
        wait: "lbwatch defaults (min 20ms, max 500ms)",
        up: {
          renders: rendersUp,
          convergeMsFromFirstListen: ms(up, first),
          convergeMsFromLastListen: ms(up, last),
        },
        down: { renders: rendersDown, convergeMsFromClose: ms(down, closed) },
      };
    } finally {
      await lbwatch.stop();
    }
  },
};
