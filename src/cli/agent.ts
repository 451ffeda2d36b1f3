/** `lbwatch agent`: publish this host's backends to etcd until SIGTERM or SIGINT. */
import type { Command } from "commander";
import { loadAgentConfig } from "../config/agent-config.js";
import { createLogger } from "../log.js";
import { tuneMalloc } from "./tune-malloc.js";

const STOP_SIGNALS = ["SIGTERM", "SIGINT"] as const;

async function agent(flags: { config: string }): Promise<void> {
  const log = createLogger();
  tuneMalloc(log);
  // An invalid config throws E_CONFIG: main() prints it and exits 2.
  const config = await loadAgentConfig(flags.config);
  const { startAgent } = await import("../agent/agent.js");
  let onSignal = (_signal: string) => {};
  const stopped = new Promise<string>((resolve) => {
    onSignal = resolve;
  });
  // `on`, not `once`, for the reason src/cli/run.ts gives.
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  try {
    const running = await startAgent({ config, log });
    log.info({ signal: await stopped }, "stopping");
    // The lease is not revoked: the backends still run, and a restarted agent takes its keys over.
    await running.close();
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
  }
}

export function register(program: Command): void {
  program
    .command("agent")
    .description("publish this host's listeners, matched by the service rules, to etcd under a lease")
    .option("-c, --config <file>", "agent config file", "./agent.yaml")
    .action((flags: { config: string }) => agent(flags));
}
