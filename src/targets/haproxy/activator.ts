/**
 * The activation step for a target with `haproxy:` set. When the new render differs from the running
 * config only in backend server lines, the change goes through the Runtime API (no reload: no new
 * worker, no dropped keep-alive connections). Otherwise, or when the Runtime API answers an error,
 * HAProxy is reloaded (the target's `reload` argv, else the master CLI) and the reason is logged.
 * The file is written either way, so a later reload or restart agrees with the running state.
 */
import type { TargetConfig } from "../../config/types.js";
import { isLbwatchError, LbwatchError } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { ActivateResult, Activator } from "../activator.js";
import { runCommand } from "../command.js";
import { applyServers } from "./apply-servers.js";
import { MasterCli } from "./master-cli.js";
import { RuntimeApi } from "./runtime-api.js";
import { diffServerLines } from "./server-lines.js";

/** Long enough for in-flight requests to a closed backend to finish; then a reload drains them instead. */
const DRAIN_MS = 5000;

export function createHaproxyActivator(target: TargetConfig, log: Logger): Activator {
  const { runtimeSocket, masterSocket } = target.haproxy ?? {};
  const api = runtimeSocket ? new RuntimeApi(runtimeSocket) : undefined;
  const master = masterSocket ? new MasterCli(masterSocket) : undefined;
  const alog = log.child({ target: target.dest });

  async function reload(reason: string): Promise<ActivateResult> {
    alog.info({ reason }, "reloading HAProxy");
    if (target.reload) await runCommand("reload", target.reload, { timeoutMs: target.commandTimeoutMs });
    else if (master) await master.reload({ timeoutMs: target.commandTimeoutMs });
    else {
      throw new LbwatchError(
        "E_RELOAD_FAILED",
        `${target.dest}: cannot reload HAProxy: set the target's reload argv or haproxy.masterSocket`,
      );
    }
    return { method: "reload", detail: reason };
  }

  return {
    async activate({ previous, next }) {
      if (!api) return reload("haproxy.runtimeSocket is not set");
      if (previous === undefined) return reload("no previous config to compare with");
      const changes = diffServerLines(previous, next);
      if (!changes.hitless) return reload(changes.reason);
      const { added, removed } = changes;
      if (added.length === 0 && removed.length === 0) return { method: "none", detail: "no server changed" };
      try {
        await applyServers(api, changes, { drainMs: DRAIN_MS });
      } catch (err) {
        if (!isLbwatchError(err, "E_HAPROXY_API")) throw err;
        return reload(`Runtime API: ${err.message}`);
      }
      const servers = (list: typeof added) => list.map((s) => `${s.proxy}/${s.name}`);
      alog.debug({ added: servers(added), removed: servers(removed) }, "applied through the Runtime API");
      return { method: "runtime-api", detail: `${added.length} added, ${removed.length} removed` };
    },
  };
}
