/**
 * Idle cost of a contender that routes everything: CPU seconds per minute of its controller's process
 * tree (lbwatch or the poller, with reaped children such as `haproxy -c`) and of HAProxy's. The window
 * starts only once nothing is pending: every backend routed (the caller waited for that), dest holding
 * every server and no `haproxy -c` of the controller running, twice in a row wait.max apart.
 */
import { readFile } from "node:fs/promises";
import type { Running } from "./contenders.js";
import { type CpuWindow, cpuWindow, descendants } from "./cpu-time.js";
import { sleep } from "./helpers.js";
import type { Layout } from "./lb-layout.js";

/** lbwatch's default wait.max: a trailing file pass may follow the last change by this much. */
const WAIT_MAX_MS = 500;

async function serverLines(dest: string): Promise<number> {
  const text = await readFile(dest, "utf8").catch(() => "");
  let n = 0;
  for (let at = text.indexOf("\n    server "); at >= 0; at = text.indexOf("\n    server ", at + 1)) n++;
  return n;
}

/** Resolves with how long it took for the controller to have nothing pending, or throws after timeoutMs. */
export async function settle(running: Running, layout: Layout, timeoutMs: number): Promise<number> {
  const started = Date.now();
  const controller = running.controller;
  if (!controller) {
    await sleep(1000);
    return Date.now() - started;
  }
  const want = layout.webPorts.length + layout.idleCount;
  let quietChecks = 0;
  while (quietChecks < 2) {
    if (Date.now() - started > timeoutMs) throw new Error(`still writing or checking after ${timeoutMs} ms`);
    const quiet =
      (await serverLines(layout.haproxy.config)) === want &&
      // A poller runs `ss` for its snapshot every poll: only a `haproxy -c` is pending work.
      !(await descendants(controller.pid)).some((d) => d.comm === "haproxy");
    quietChecks = quiet ? quietChecks + 1 : 0;
    await sleep(quiet ? WAIT_MAX_MS : 100);
  }
  return Date.now() - started;
}

export async function idleCpu(
  running: Running,
  windowMs: number,
): Promise<{ controller?: CpuWindow; haproxy: CpuWindow }> {
  const roots: Record<string, number> = { haproxy: running.haproxy.child.pid };
  if (running.controller) roots.controller = running.controller.pid;
  const out = await cpuWindow(roots, windowMs);
  return { haproxy: out.haproxy as CpuWindow, ...(out.controller ? { controller: out.controller } : {}) };
}
