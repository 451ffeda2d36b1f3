/** What run.ts hands every benchmark, and what each benchmark file exports. */
export interface BenchContext {
  quick: boolean;
  /** `--contenders a,b`: only these lb contenders (default all). */
  contenders?: string[];
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
  mode: "full" | "quick";
  startedAt: string;
  seconds: number;
  machine: Record<string, string | number>;
  result?: Record<string, unknown>;
  error?: string;
}
