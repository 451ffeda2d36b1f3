/**
 * One size of the render-scale benchmark, in its own process so RSS belongs to that size alone:
 *   node --expose-gc --import tsx bench/render-scale-worker.ts <backends> <scratch dir> <changes>
 * Loads <backends> synthetic listen events into lbwatch's Registry, renders the HAProxy backend
 * template through buildContext + compileTemplate, applies it with the FileTarget (byte-compare,
 * stage, fsync, rename; no reload), then times <changes> one-backend changes end to end.
 * Prints one JSON line.
 */
import { join } from "node:path";
import pino from "pino";
import type { Config } from "../src/config/types.js";
import type { ListenEvent } from "../src/probe/event.js";
import { hostNetnsInode } from "../src/probe/netns.js";
import { systemInspector } from "../src/probe/netns-inspector.js";
import { Registry } from "../src/registry/registry.js";
import { buildContext } from "../src/render/context.js";
import { compileTemplateText } from "../src/render/template.js";
import { createReloadActivator } from "../src/targets/activator.js";
import { FileTarget } from "../src/targets/file-target.js";
import { rssBytes } from "./lib/cpu-time.js";
import { round, summarize } from "./lib/percentiles.js";

const TEMPLATE = `backend web
  balance roundrobin
{{#each services.web.backends}}
  server {{id}} {{endpoint}} # pid {{pid}} {{comm}}
{{/each}}
`;

const [count, dir, changes] = [Number(process.argv[2]), String(process.argv[3]), Number(process.argv[4])];
const netns = hostNetnsInode();

/** Listener i: a distinct loopback address, one port, its own pid and socket inode. */
function listen(i: number, type: "listen" | "close" = "listen"): ListenEvent {
  const addr = `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${(i & 255) + 1}`;
  return {
    type,
    ts: process.hrtime.bigint(),
    pid: 100_000 + i,
    tid: 100_000 + i,
    comm: "synthetic",
    uid: 1000,
    gid: 1000,
    cgroupId: 0n,
    netns,
    family: 4,
    addr,
    port: 8080,
    backlog: 128,
    sock: 1_000_000 + i,
  };
}

const ms = (from: bigint) => Number(process.hrtime.bigint() - from) / 1e6;

const dest = join(dir, `render-scale-${count}.cfg`);
const config: Config = {
  file: join(dir, "bench.yaml"),
  hostAddress: "127.0.0.1",
  hostAddress6: "::1",
  wait: { minMs: 0, maxMs: 0 },
  resyncMs: 0,
  services: [{ name: "web", ports: [{ from: 8080, to: 8080 }], netns: { kind: "any" } }],
  targets: [{ template: join(dir, "render-scale.hbs"), dest, commandTimeoutMs: 10_000 }],
  sources: [{ kind: "local" }],
};
const log = pino({ level: "silent" });
const rssBase = await rssBytes("self");
const registry = new Registry(config, {
  log,
  hostNetns: netns,
  inspector: systemInspector(),
  cgroupPath: async () => undefined,
});
const target = new FileTarget({
  config: config.targets[0] as Config["targets"][number],
  renderer: compileTemplateText(TEMPLATE, "render-scale.hbs"),
  activator: createReloadActivator({ commandTimeoutMs: 10_000 }),
  log,
  clock: () => process.hrtime.bigint(),
});

let t = process.hrtime.bigint();
for (let i = 0; i < count; i++) await registry.applyEvent(listen(i));
const loadMs = ms(t);
global.gc?.();
const rssHeld = await rssBytes("self");
t = process.hrtime.bigint();
const first = await target.apply(buildContext(config.services, registry.backends()), {
  added: [],
  removed: [],
});
const firstApplyMs = ms(t);
if (first.status !== "applied") throw new Error(`first apply: ${JSON.stringify(first)}`);

const total: number[] = [];
const render: number[] = [];
for (let k = 0; k < changes; k++) {
  // Alternate adding and removing one extra backend: every apply has a real one-line change.
  const ev = listen(count, k % 2 === 0 ? "listen" : "close");
  const t0 = process.hrtime.bigint();
  const change = await registry.applyEvent(ev);
  const context = buildContext(config.services, registry.backends());
  const t1 = process.hrtime.bigint();
  const outcome = await target.apply(context, change);
  if (outcome.status !== "applied") throw new Error(`apply ${k}: ${JSON.stringify(outcome)}`);
  total.push(ms(t0));
  render.push(Number(t1 - t0) / 1e6);
}
global.gc?.();
const rss = await rssBytes("self");
const s = summarize(total);
const r = summarize(render);
console.log(
  JSON.stringify({
    backends: count,
    loadEventsMs: round(loadMs, 1),
    firstApplyMs: round(firstApplyMs, 1),
    changeApplyMsP50: s && round(s.p50, 2),
    changeApplyMsMax: s && round(s.max, 2),
    registryAndContextMsP50: r && round(r.p50, 2),
    changes,
    /** The process before any listener (node + tsx + lbwatch modules). */
    rssBaseMiB: round(rssBase / 2 ** 20, 1),
    /** After loading every listener into the Registry (after a GC). */
    rssHeldMiB: round(rssHeld / 2 ** 20, 1),
    /** After the renders and applies. */
    rssAfterAppliesMiB: round(rss / 2 ** 20, 1),
  }),
);
