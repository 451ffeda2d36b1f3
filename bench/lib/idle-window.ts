/**
 * Idle cost of a contender that routes everything: CPU seconds per minute of its controller's process
 * tree (lbwatch or the poller, with reaped children such as `haproxy -c`) and of HAProxy's. The window
 * starts only once nothing is pending: every backend routed (the caller waited for that), dest holding
 * every server and no `haproxy -c` of the controller running, twice in a row wait.max apart; for
 * lbwatch (`still`), also no CPU of its own in between. At 100,000 backends HAProxy serves them all
 * from the reload's new workers seconds before lbwatch's reconcile of what they run (4.5 s of two
 * cores on the AMD host) ends, and a window started then read 39 CPU s/min for an idle lbwatch. A
 * poller computes all the time, so the window cannot wait for it to stop.
 */
import { readFile } from "node:fs/promises";
import type { Running } from "./contenders.js";
import { type CpuWindow, cpuWindow, descendants, procStat } from "./cpu-time.js";
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
export async function settle(
  running: Running,
  layout: Layout,
  timeoutMs: number,
  still: boolean,
): Promise<number> {
  const started = Date.now();
  const controller = running.controller;
  if (!controller) {
    await sleep(1000);
    return Date.now() - started;
  }
  const want = layout.webPorts.length + layout.idleCount;
  const cpu = async () => (still ? (await procStat(controller.pid)).cpuSeconds : 0);
  let quietChecks = 0;
  let before = await cpu();
  while (quietChecks < 2) {
    if (Date.now() - started > timeoutMs) throw new Error(`still working after ${timeoutMs} ms`);
    const quiet =
      (await serverLines(layout.haproxy.config)) === want &&
      // A poller runs `ss` for its snapshot every poll: only a `haproxy -c` is pending work.
      !(await descendants(controller.pid)).some((d) => d.comm === "haproxy");
    const now = await cpu();
    // One clock tick (10 ms) in wait.max is a timer or two, not a reconcile.
    const working = now - before > 0.015;
    before = now;
    quietChecks = quiet && !working ? quietChecks + 1 : 0;
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
