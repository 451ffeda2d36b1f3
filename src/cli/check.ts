/**
 * `lbwatch check`: validate the config, compile every template and render it against synthetic
 * contexts, without touching anything; exit 0 or 2.
 */
import type { Command } from "commander";
import { configWarnings, loadConfig } from "../config/load-config.js";
import type { Config } from "../config/types.js";
import { isLbwatchError } from "../errors.js";
import { syntheticContexts } from "../render/synthetic-context.js";
import { compileTemplate } from "../render/template.js";

/** Exit status for an invalid config or template, as for bad usage. */
const INVALID = 2;

/** Compile and render errors of every template, each once (both contexts often fail the same way). */
async function templateProblems(config: Config): Promise<string[]> {
  const files = [...new Set(config.targets.map((t) => t.template))];
  const contexts = syntheticContexts(config.services);
  const results = await Promise.allSettled(
    files.map(async (file) => {
      const template = await compileTemplate(file);
      const problems = new Set<string>();
      for (const { context } of contexts) {
        try {
          template.render(context);
        } catch (err) {
          problems.add(describe(err));
        }
      }
      return [...problems];
    }),
  );
  return results.flatMap((r) => (r.status === "rejected" ? [describe(r.reason)] : r.value));
}

async function check(flags: { config: string }): Promise<void> {
  let problems: string[];
  try {
    const config = await loadConfig(flags.config);
    problems = await templateProblems(config);
    for (const warning of configWarnings(config)) process.stderr.write(`warning: ${warning}\n`);
    if (problems.length === 0) {
      const counts = `${config.services.length} services, ${config.targets.length} targets`;
      process.stdout.write(`${config.file}: ok (${counts})\n`);
      return;
    }
  } catch (err) {
    problems = [describe(err)];
  }
  process.stderr.write(`${problems.join("\n")}\n`);
  process.exitCode = INVALID;
}

/** Config and template errors are the answer to `check`; anything else is a real failure. */
function describe(err: unknown): string {
  if (isLbwatchError(err, "E_CONFIG") || isLbwatchError(err, "E_TEMPLATE")) return err.message;
  throw err;
}

export function register(program: Command): void {
  program
    .command("check")
    .description(
      "validate the config file, compile every template and render it with sample backends; exit 0 when usable, 2 when not",
    )
    .option("-c, --config <file>", "config file", "./lbwatch.yaml")
    .action((flags: { config: string }) => check(flags));
}
