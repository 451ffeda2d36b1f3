/** `lbwatch run`: the controller as a daemon, or one pass with --once; --dry-run prints diffs instead. */
import type { Command } from "commander";
import { Controller } from "../controller/controller.js";
import { isLbwatchError } from "../errors.js";
import { createLogger } from "../log.js";

interface RunFlags {
  config: string;
  dryRun?: boolean;
  once?: boolean;
}

const STOP_SIGNALS = ["SIGTERM", "SIGINT"] as const;

/** Exit status for an invalid config or template (issue 3), as `lbwatch check` gives. */
const INVALID = 2;

async function run(flags: RunFlags): Promise<void> {
  const log = createLogger();
  let controller: Controller;
  try {
    controller = await Controller.load({
      configFile: flags.config,
      log,
      ...(flags.dryRun ? { dryRun: { out: process.stdout, color: process.stdout.isTTY === true } } : {}),
    });
  } catch (err) {
    if (!isLbwatchError(err, "E_CONFIG") && !isLbwatchError(err, "E_TEMPLATE")) throw err;
    process.stderr.write(`lbwatch: ${err.code}: ${err.message}\n`);
    process.exitCode = INVALID;
    return;
  }
  if (flags.once) {
    if (!(await controller.once())) process.exitCode = 1;
    return;
  }
  // Listening before start() so that a signal during start-up still ends in a clean close. `on`,
  // not `once`: while execa runs a command, signal-exit also listens and re-raises the signal to
  // kill us when it finds itself the only listener left, which a spent `once` would make it.
  let onSignal = (_signal: string) => {};
  const stopped = new Promise<string>((resolve) => {
    onSignal = resolve;
  });
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  try {
    await controller.start();
    log.info({ config: flags.config, dryRun: flags.dryRun === true }, "lbwatch running");
    log.info({ signal: await stopped }, "stopping");
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    await controller.close();
  }
}

export function register(program: Command): void {
  program
    .command("run")
    .description("keep every target rendered from the live listeners: check, write atomically, reload")
    .option("-c, --config <file>", "config file", "./lbwatch.yaml")
    .option("--dry-run", "never write or reload: print a unified diff of each change on stdout")
    .option("--once", "take one snapshot, render and apply, then exit (1 when a check or reload failed)")
    .action((flags: RunFlags) => run(flags));
}
