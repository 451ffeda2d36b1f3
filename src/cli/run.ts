/** `lbwatch run`: the controller as a daemon, or one pass with --once; --dry-run prints diffs instead. */
import type { Command } from "commander";
import { LbwatchError } from "../errors.js";
import { createLogger } from "../log.js";
import { LateObserver } from "./late-observer.js";
import { tuneMalloc } from "./tune-malloc.js";

interface RunFlags {
  config: string;
  dryRun?: boolean;
  once?: boolean;
}

const STOP_SIGNALS = ["SIGTERM", "SIGINT"] as const;

async function run(flags: RunFlags): Promise<void> {
  const log = createLogger();
  tuneMalloc(log);
  // Loaded here, not at the top: the other subcommands should not pay for the controller's imports.
  const { Controller } = await import("../controller/controller.js");
  const observer = new LateObserver();
  // An invalid config or template throws E_CONFIG / E_TEMPLATE: main() prints it and exits 2.
  const controller = await Controller.load({
    configFile: flags.config,
    log,
    observer,
    ...(flags.dryRun ? { dryRun: { out: process.stdout, color: process.stdout.isTTY === true } } : {}),
  });
  if (flags.once) {
    const statuses = await controller.once();
    // A template that fails to render is bad input, like one that fails to compile: exit 2.
    const broken = statuses.find((s) => s.state === "retrying" && s.lastError?.code === "E_TEMPLATE");
    if (broken?.lastError) throw new LbwatchError("E_TEMPLATE", broken.lastError.message);
    // A load balancer that is not running will start from the dest just written: that is success.
    if (!statuses.every((s) => s.state === "ok" || s.state === "lb-down")) process.exitCode = 1;
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
  const { ServedEndpoint } = await import("../http/endpoint.js");
  const endpoint = new ServedEndpoint(controller, log, (metrics) => {
    observer.target = metrics.observer;
  });
  try {
    // Before start(): /healthz answers 503 while the sources deliver their first view, and a port
    // in use is an E_CONFIG now rather than a surprise later.
    await endpoint.start();
    observer.configReloaded(true);
    observer.reloaded = () => void endpoint.follow();
    await controller.start();
    log.info({ config: flags.config, dryRun: flags.dryRun === true }, "lbwatch running");
    log.info({ signal: await stopped }, "stopping");
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    await controller.close();
    await endpoint.close();
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
