/** `lbwatch run`: the controller as a daemon, or one pass with --once; --dry-run prints diffs instead. */
import type { Command } from "commander";
import { createLogger } from "../log.js";

interface RunFlags {
  config: string;
  dryRun?: boolean;
  once?: boolean;
}

const STOP_SIGNALS = ["SIGTERM", "SIGINT"] as const;

async function run(flags: RunFlags): Promise<void> {
  const log = createLogger();
  // Loaded here, not at the top: the other subcommands should not pay for the controller's imports.
  const { Controller } = await import("../controller/controller.js");
  // An invalid config or template throws E_CONFIG / E_TEMPLATE: main() prints it and exits 2.
  const controller = await Controller.load({
    configFile: flags.config,
    log,
    ...(flags.dryRun ? { dryRun: { out: process.stdout, color: process.stdout.isTTY === true } } : {}),
  });
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
    .option(
      "--once",
      "take one snapshot, render and apply, then exit (1 when a check or reload failed, or a source had no view)",
    )
    .action((flags: RunFlags) => run(flags));
}
