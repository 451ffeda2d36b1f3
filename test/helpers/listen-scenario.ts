import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

const script = fileURLToPath(new URL("../fixtures/listen-scenario.py", import.meta.url));

export interface ScenarioStep {
  pid: number;
  sockets: { port: number; sock: number }[];
  error: string | null;
}

/** A running test/fixtures/listen-scenario.py: read a step's report, then let it go on. */
export interface Scenario {
  next(): Promise<ScenarioStep>;
  proceed(): void;
  /** Resolves when the process has exited (it is killed after 20 s). */
  done: Promise<unknown>;
}

export function startScenario(name: "reuseport" | "unbound" | "failed-listen" | "relisten"): Scenario {
  const child = execa("python3", [script, name], { reject: false, timeout: 20_000 });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async next() {
      const { value, done } = await lines.next();
      if (done) throw new Error(`listen-scenario.py ${name} ended early: ${(await child).stderr}`);
      return JSON.parse(value) as ScenarioStep;
    },
    proceed() {
      child.stdin.write("\n");
    },
    done: child,
  };
}
