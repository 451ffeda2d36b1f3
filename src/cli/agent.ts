/**
 * `lbwatch agent`: publish this host's backends to etcd until SIGTERM or SIGINT. SIGHUP reads the
 * config (and the files it names: rotated certificates, a new password) again and, when it is
 * valid, restarts the agent on it in place, as a restart of the process would: the new one adopts the
 * lease and its keys, so nothing is withdrawn. An invalid config on SIGHUP is refused in the log and
 * the running agent goes on.
 */
import type { Command } from "commander";
import type { RunningAgent } from "../agent/agent.js";
import { loadAgentConfig } from "../config/agent-config.js";
import { createLogger } from "../log.js";
import { SerialQueue } from "../serial-queue.js";
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
  // Reloads and the stop run one at a time: a stop waits for a reload under way.
  const queue = new SerialQueue();
  let running: RunningAgent | undefined;
  let stopping = false;
  const reload = () =>
    queue.run(async () => {
      if (stopping) return;
      let next: Awaited<ReturnType<typeof loadAgentConfig>>;
      try {
        next = await loadAgentConfig(flags.config);
      } catch (err) {
        log.error({ error: (err as Error).message }, "config reload refused: the agent goes on as it was");
        return;
      }
      log.info({ config: flags.config }, "config reloaded: restarting the agent on it");
      // The lease is not revoked: the new agent adopts it and its keys, as a restarted process would.
      await running?.close();
      running = undefined;
      running = await startAgent({ config: next, log });
    });
  const onHup = () => {
    reload().catch((err: Error) => {
      // The old agent is closed and the new one did not start: exit, for the supervisor to restart.
      log.error({ error: err.message }, "the agent did not start on the reloaded config");
      onSignal("reload-failed");
    });
  };
  // `on`, not `once`, for the reason src/cli/run.ts gives.
  for (const s of STOP_SIGNALS) process.on(s, onSignal);
  process.on("SIGHUP", onHup);
  try {
    running = await queue.run(() => startAgent({ config, log }));
    const signal = await stopped;
    stopping = true;
    log.info({ signal }, "stopping");
    // The lease is not revoked: the backends still run, and a restarted agent takes its keys over.
    await queue.run(async () => running?.close());
    if (signal === "reload-failed") process.exitCode = 1;
  } finally {
    for (const s of STOP_SIGNALS) process.off(s, onSignal);
    process.off("SIGHUP", onHup);
  }
}

export function register(program: Command): void {
  program
    .command("agent")
    .description("publish this host's listeners, matched by the service rules, to etcd under a lease")
    .option("-c, --config <file>", "agent config file", "./agent.yaml")
    .action((flags: { config: string }) => agent(flags));
}
