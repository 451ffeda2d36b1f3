/** What run.ts hands every benchmark, and what each benchmark file exports. */
import type { Mode } from "./scenarios.js";

export interface BenchContext {
  /** mode === "quick". */
  quick: boolean;
  /** `--quick`, the default, or `--full` (the 100,000 sizes). */
  mode: Mode;
  /** `--contenders a,b`: only these lb contenders (default all). */
  contenders?: string[];
  /** `--scenarios a,b`: only these lb-contenders scenarios (default all of the mode). */
  scenarios?: string[];
  /** A scratch directory of this run (removed at the end). */
  scratch: string;
  log(message: string, fields?: Record<string, unknown>): void;
}

export interface Benchmark {
  /** File stem of bench/results/<name>.json. */
  name: string;
  run(ctx: BenchContext): Promise<Record<string, unknown>>;
}

export interface ResultFile {
  benchmark: string;
  mode: Mode;
  startedAt: string;
  seconds: number;
  machine: Record<string, string | number>;
  result?: Record<string, unknown>;
  error?: string;
}
