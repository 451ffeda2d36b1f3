/**
 * Applies a servers-only change through the Runtime API, in the order that keeps traffic flowing:
 * gone servers leave the rotation first (maintenance), new ones are added and enabled, then the gone
 * ones are deleted once their last connection has finished, and the result is read back.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { LbwatchError } from "../../errors.js";
import type { RuntimeApi, ServerState } from "./runtime-api.js";
import type { ServerLine } from "./server-lines.js";

/** HAProxy's admin-state bit for forced maintenance. */
const FORCED_MAINT = 0x01;
const DELETE_RETRY_MS = 50;

export interface ApplyServersOptions {
  /** How long a gone server may keep connections before lbwatch gives up deleting it (reload instead). */
  drainMs: number;
}

export async function applyServers(
  api: RuntimeApi,
  change: { added: readonly ServerLine[]; removed: readonly ServerLine[] },
  options: ApplyServersOptions,
): Promise<void> {
  for (const s of change.removed) await api.setMaintenance(s.proxy, s.name);
  for (const s of change.added) await addServer(api, s);
  const deadline = Date.now() + options.drainMs;
  for (const s of change.removed) await deleteWhenIdle(api, s, deadline, options.drainMs);
  verify(await api.serversState(), change, api.socketPath);
}

async function addServer(api: RuntimeApi, s: ServerLine): Promise<void> {
  await api.addServer(s.proxy, s.name, s.address, s.options);
  // As from the config file: checks run when the line asks for them, and a `disabled` server waits.
  if (s.options.includes("check")) await api.enableHealth(s.proxy, s.name);
  if (s.options.includes("agent-check")) await api.enableAgent(s.proxy, s.name);
  if (!s.options.includes("disabled")) await api.enableServer(s.proxy, s.name);
}

async function deleteWhenIdle(
  api: RuntimeApi,
  s: ServerLine,
  deadline: number,
  drainMs: number,
): Promise<void> {
  while (!(await api.deleteServer(s.proxy, s.name))) {
    if (Date.now() >= deadline) {
      throw new LbwatchError(
        "E_HAPROXY_API",
        `${api.socketPath}: server ${s.proxy}/${s.name} still had connections after ${drainMs} ms: not deleted`,
      );
    }
    await sleep(DELETE_RETRY_MS);
  }
}

/** `show servers state` must now list every added server (ready unless `disabled`) and none of the gone. */
function verify(
  state: ServerState[],
  change: { added: readonly ServerLine[]; removed: readonly ServerLine[] },
  socketPath: string,
): void {
  const byKey = new Map(state.map((s) => [`${s.backend}/${s.name}`, s]));
  const wrong: string[] = [];
  for (const s of change.added) {
    const found = byKey.get(`${s.proxy}/${s.name}`);
    if (!found) wrong.push(`${s.proxy}/${s.name} is missing`);
    else if (!s.options.includes("disabled") && (found.adminState & FORCED_MAINT) !== 0) {
      wrong.push(`${s.proxy}/${s.name} is still in maintenance`);
    }
  }
  for (const s of change.removed) {
    if (byKey.has(`${s.proxy}/${s.name}`)) wrong.push(`${s.proxy}/${s.name} is still there`);
  }
  if (wrong.length > 0) {
    throw new LbwatchError(
      "E_HAPROXY_API",
      `${socketPath}: after applying, show servers state says ${wrong.join("; ")}`,
    );
  }
}
