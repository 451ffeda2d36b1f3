/**
 * Helper processes the benchmarks start (backends, load generators, HAProxy, lbwatch). Every child
 * is tracked so that a failing or interrupted run still stops all of them (stopAll in run.ts).
 * argv arrays only: no shell ever sees a port or a path.
 */
import { createInterface } from "node:readline";
import { execa } from "execa";

export type Line = Record<string, unknown>;

const live = new Set<Child>();

interface StartOptions {
  env?: Record<string, string>;
  cwd?: string;
  /**
   * false: keep only stderrTail. HAProxy logs a line per server its check takes down: at 10,000
   * checked servers, keeping them (each a slice pinning its 40 KB read) held ~3 MiB in the process
   * that started it, which render-scale's worker counted as lbwatch's memory.
   */
  stderrLines?: boolean;
}

function spawn(file: string, args: string[], options: StartOptions) {
  return execa(file, args, {
    buffer: false,
    reject: false,
    stdin: "ignore",
    env: options.env,
    cwd: options.cwd,
  });
}

export class Child {
  readonly pid: number;
  readonly name: string;
  readonly #proc: ReturnType<typeof spawn>;
  readonly #lines: Line[] = [];
  readonly #errLines: Line[] = [];
  readonly #waiters = new Set<() => void>();
  #exited = false;
  stderrTail = "";

  private constructor(name: string, proc: ReturnType<typeof spawn>, keepStderrLines: boolean) {
    this.name = name;
    this.#proc = proc;
    this.pid = proc.pid ?? -1;
    live.add(this);
    createInterface({ input: proc.stdout }).on("line", (text) => {
      this.#lines.push(parseLine(text));
      for (const w of this.#waiters) w();
    });
    createInterface({ input: proc.stderr }).on("line", (text) => {
      if (keepStderrLines) this.#errLines.push(parseLine(text));
      this.stderrTail = `${this.stderrTail}${text}\n`.slice(-4000);
    });
    void proc.then(() => {
      this.#exited = true;
      live.delete(this);
      for (const w of this.#waiters) w();
    });
  }

  static start(file: string, args: string[], options: StartOptions = {}): Child {
    const proc = spawn(file, args, options);
    return new Child(`${file} ${args.slice(0, 3).join(" ")}`, proc, options.stderrLines ?? true);
  }

  get exited(): boolean {
    return this.#exited;
  }

  /** Every JSON (or raw text, as {text}) line printed so far. */
  lines(): readonly Line[] {
    return this.#lines;
  }

  /** stderr's lines so far (lbwatch logs JSON there); none if started with `stderrLines: false`. */
  stderrLines(): readonly Line[] {
    return this.#errLines;
  }

  /** Resolves with the first line (already printed or to come) matching pred. */
  async waitFor(pred: (line: Line) => boolean, timeoutMs: number): Promise<Line> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.#lines.find(pred);
      if (hit) return hit;
      if (this.#exited)
        throw new Error(`${this.name} exited before the expected line; stderr: ${this.stderrTail}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.name}: no line matching ${pred} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
    }
  }

  signal(sig: NodeJS.Signals): void {
    if (!this.#exited) this.#proc.kill(sig);
  }

  /** SIGTERM, then SIGKILL after graceMs; resolves when the process is gone. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.#exited) return;
    this.#proc.kill("SIGTERM");
    const timer = setTimeout(() => this.#proc.kill("SIGKILL"), graceMs);
    await this.#proc;
    clearTimeout(timer);
  }

  /** Resolves with stdout's lines once the process exits by itself. */
  async done(): Promise<readonly Line[]> {
    await this.#proc;
    return this.#lines;
  }
}

function parseLine(text: string): Line {
  if (text.startsWith("{")) {
    try {
      return JSON.parse(text) as Line;
    } catch {
      // fall through: not JSON after all
    }
  }
  return { text };
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop(1000)));
}
