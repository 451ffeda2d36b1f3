/**
 * The activator of a target with `haproxy:` set. When a new render differs from the running config
 * only in backend server lines, `applyLive` routes the change through the Runtime API before any file
 * work (no reload: no new worker, no dropped keep-alive connections), and the pipeline writes the file
 * behind it. Otherwise, or when the Runtime API answers an error, the change is left to the validated
 * file and `activate` reloads HAProxy (the target's `reload` argv, else the master CLI), logging why.
 */
import type { TargetConfig } from "../../config/types.js";
import { isLbwatchError, LbwatchError } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { ActivateResult, Activator } from "../activator.js";
import { runCommand } from "../command.js";
import { StageTimes } from "../stage-times.js";
import { LiveServers } from "./live-servers.js";
import { MasterCli } from "./master-cli.js";
import { RuntimeApi } from "./runtime-api.js";
import { diffServerLines, type ServerLine } from "./server-lines.js";

const names = (list: readonly ServerLine[]) => list.map((s) => `${s.proxy}/${s.name}`);

export function createHaproxyActivator(target: TargetConfig, log: Logger): Activator {
  const { runtimeSocket, masterSocket } = target.haproxy ?? {};
  const alog = log.child({ target: target.dest });
  const live = runtimeSocket ? new LiveServers(new RuntimeApi(runtimeSocket), alog) : undefined;
  const master = masterSocket ? new MasterCli(masterSocket) : undefined;

  return {
    async applyLive({ previous, next }) {
      if (!live) return { fallback: "haproxy.runtimeSocket is not set" };
      if (previous === undefined) return { fallback: "no previous config to compare with" };
      const times = new StageTimes();
      const changes = diffServerLines(previous, next);
      if (!changes.hitless) return { fallback: changes.reason };
      const { added, removed } = changes;
      if (added.length === 0 && removed.length === 0) return { method: "none", detail: "no server changed" };
      times.lap("diff");
      try {
        await live.apply(changes);
      } catch (err) {
        if (!isLbwatchError(err, "E_HAPROXY_API")) throw err;
        return { fallback: `Runtime API: ${err.message}` };
      }
      times.lap("runtimeApi");
      alog.debug(
        { added: names(added), removed: names(removed), ...times.ms },
        "applied through the Runtime API",
      );
      return { method: "runtime-api", detail: `${added.length} added, ${removed.length} removed` };
    },

    async activate({ reason = "the change needs a reload" }): Promise<ActivateResult> {
      alog.info({ reason }, "reloading HAProxy");
      if (target.reload) await runCommand("reload", target.reload, { timeoutMs: target.commandTimeoutMs });
      else if (master) await master.reload({ timeoutMs: target.commandTimeoutMs });
      else {
        throw new LbwatchError(
          "E_RELOAD_FAILED",
          `${target.dest}: cannot reload HAProxy: set the target's reload argv or haproxy.masterSocket`,
        );
      }
      // The new workers started from the file: servers that waited for deletion are not in it.
      live?.forget();
      return { method: "reload", detail: reason };
    },
  };
}
