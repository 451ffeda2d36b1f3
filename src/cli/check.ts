/** `lbwatch check`: validate the config and compile every template without touching anything; exit 0 or 2. */
import type { Command } from "commander";
import { configWarnings, loadConfig } from "../config/load-config.js";
import { isLbwatchError } from "../errors.js";
import { compileTemplate } from "../render/template.js";

/** Exit status for an invalid config or template, as for bad usage. */
const INVALID = 2;

async function check(flags: { config: string }): Promise<void> {
  let problems: string[];
  try {
    const config = await loadConfig(flags.config);
    const templates = [...new Set(config.targets.map((t) => t.template))];
    const compiled = await Promise.allSettled(templates.map((file) => compileTemplate(file)));
    problems = compiled.flatMap((r) => (r.status === "rejected" ? [describe(r.reason)] : []));
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
    .description("validate the config file and compile every template; exit 0 when usable, 2 when not")
    .option("-c, --config <file>", "config file", "./lbwatch.yaml")
    .action((flags: { config: string }) => check(flags));
}
