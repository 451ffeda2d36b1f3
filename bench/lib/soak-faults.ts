/**
 * The faults the soak injects, one at a time. Each resolves when the fault ends (what was broken is
 * back: a restarted process started, a failing reload command fixed, a hidden socket back, a flood
 * over), with an optional extra condition convergence needs beyond the servers agreeing (a reload
 * that was refused must have happened since).
 */
import { rename, rm, writeFile } from "node:fs/promises";
import { Child } from "./children.js";
import { apiCommand } from "./haproxy.js";
import { benchHelper, sleep } from "./helpers.js";
import type { SoakWorld } from "./soak-world.js";

export const FAULT_KINDS = ["haproxy-kill", "lbwatch-kill", "reload-fail", "api-down", "flood"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultEnd {
  /** What else must hold for the fault to be repaired, as a reason while it does not. */
  extra?: () => Promise<string | undefined>;
  note?: string;
}

const between = (rng: () => number, lo: number, hi: number) => lo + rng() * (hi - lo);

async function workerPid(world: SoakWorld): Promise<number | undefined> {
  const info = await apiCommand(world.paths.runtimeSocket, "show info", 2000).catch(() => "");
  const pid = /^Pid: (\d+)/m.exec(info)?.[1];
  return pid === undefined ? undefined : Number(pid);
}

/** Closes every CLI session on the stats socket (lbwatch's persistent connection among them). */
async function shutdownCliSessions(socket: string): Promise<number> {
  const sessions = await apiCommand(socket, "show sess", 2000);
  const ids = [...sessions.matchAll(/^(0x[0-9a-f]+): .*fe=GLOBAL/gm)].map((m) => m[1] as string);
  for (const id of ids) await apiCommand(socket, `shutdown session ${id}`, 2000).catch(() => "");
  return ids.length;
}

export async function injectFault(
  kind: FaultKind,
  world: SoakWorld,
  rng: () => number,
  floodBase: number,
): Promise<FaultEnd> {
  switch (kind) {
    case "haproxy-kill": {
      await world.killHaproxy();
      // systemd's RestartSec, more or less.
      await sleep(between(rng, 300, 1500));
      await world.startHaproxy();
      return {};
    }
    case "lbwatch-kill": {
      await world.killLbwatch();
      await sleep(between(rng, 300, 1500));
      world.startLbwatch();
      return {};
    }
    case "reload-fail": {
      const before = await workerPid(world);
      await writeFile(world.reloadFlag, "");
      const revision = await world.bumpRevision();
      await sleep(between(rng, 1500, 4000));
      await rm(world.reloadFlag, { force: true });
      return {
        note: `revision ${revision}`,
        extra: async () => {
          if ((await world.destRevision()) !== revision) return `dest does not hold revision ${revision} yet`;
          const now = await workerPid(world);
          return now !== undefined && now !== before ? undefined : "HAProxy has not reloaded since";
        },
      };
    }
    case "api-down": {
      // New connections find no socket; the one lbwatch holds is closed under it.
      const hidden = `${world.paths.runtimeSocket}.hidden`;
      const closed = await shutdownCliSessions(world.paths.runtimeSocket);
      await rename(world.paths.runtimeSocket, hidden);
      await sleep(between(rng, 1000, 3000));
      await rename(hidden, world.paths.runtimeSocket);
      return { note: `${closed} CLI session(s) closed` };
    }
    case "flood": {
      // Unrelated listen/close storms from several processes, to overflow lbwatch's ring buffer.
      const helper = await benchHelper();
      const ms = Math.round(between(rng, 1500, 3000));
      const storms = [0, 1, 2, 3].map((i) =>
        Child.start(helper, ["storm", String(floodBase + i * 20), "20", String(ms)]),
      );
      const cycles = (await Promise.all(storms.map((s) => s.done()))).map((l) => Number(l[0]?.text ?? 0));
      return { note: `${cycles.reduce((a, b) => a + b, 0) * 2} events in ${ms} ms` };
    }
  }
}
