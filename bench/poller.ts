/**
 * The polling baseline of issue 5, run as its own process:
 *   node --import tsx bench/poller.ts <lbwatch config.yaml> <interval ms>
 * Every interval it reads /proc/net/tcp and tcp6 (the host netns, what `ss -ltn` shows), and hands
 * the listeners to lbwatch's own Registry, context builder, templates and targets, the code
 * `lbwatch run` uses after its events. Only the source of listeners differs: polling instead of the
 * kernel stream. /proc/net/tcp names no process, so rules on comm/uid-by-pid cannot apply; the bench
 * config matches by port only. Prints {"ev":"applied",...} on stdout after each apply.
 */
import { loadConfig } from "../src/config/load-config.js";
import { TargetSet } from "../src/controller/target-set.js";
import { createLogger } from "../src/log.js";
import type { Listener } from "../src/probe/event.js";
import { hostNetnsInode } from "../src/probe/netns.js";
import { systemInspector } from "../src/probe/netns-inspector.js";
import { readProcNetTcp } from "../src/probe/proc-net-tcp.js";
import { isEmptyChange, Registry } from "../src/registry/registry.js";
import { buildContext } from "../src/render/context.js";

const [configFile, intervalArg] = process.argv.slice(2);
const intervalMs = Number(intervalArg);
if (!configFile || !(intervalMs > 0)) {
  console.error("usage: poller.ts <lbwatch config.yaml> <interval ms>");
  process.exit(2);
}

const log = createLogger({ pretty: false });
const config = await loadConfig(configFile);
const netns = hostNetnsInode();
const registry = new Registry(config, { log, hostNetns: netns, inspector: systemInspector() });
const clock = () => process.hrtime.bigint();
const targets = await TargetSet.build(config, { log, clock });

async function poll(): Promise<Listener[]> {
  const entries = await readProcNetTcp("self", { listenOnly: true });
  return entries.map((e) => ({
    pid: 0,
    tid: 0,
    comm: "",
    uid: e.uid,
    gid: 0,
    cgroupId: 0n,
    netns,
    family: e.family,
    addr: e.addr,
    port: e.port,
    backlog: 0,
    sock: e.inode,
  }));
}

let stopping = false;
process.on("SIGTERM", () => {
  stopping = true;
});

while (!stopping) {
  const started = clock();
  const change = await registry.reconcile(await poll());
  if (!isEmptyChange(change)) {
    const outcomes = await targets.applyAll(buildContext(config.services, registry.backends()), change);
    const ms = Number(clock() - started) / 1e6;
    console.log(
      JSON.stringify({
        ev: "applied",
        added: change.added.length,
        removed: change.removed.length,
        ms,
        outcomes,
      }),
    );
  }
  // A fixed period from the start of each poll, as a cron-like poller has.
  const left = intervalMs - Number(clock() - started) / 1e6;
  if (left > 0) await new Promise((r) => setTimeout(r, left));
}
