/**
 * One size of the render-scale benchmark, in its own process so its memory belongs to that size alone.
 * Compiled (bench/tsconfig.build.json) and run by plain node, since tsx alone adds ~30 MiB:
 *   node --expose-gc build/bench-js/bench/render-scale-worker.js <backends> <dir> <changes> <template>
 *
 * 1. Memory: the V8 heap (after a full GC) before any backend, holding N in a Registry, and in the
 *    ServiceLists beside it; then RSS and heap of a whole controller holding N and applying changes.
 * 2. The live path, through lbwatch's own Controller and HaproxyTarget against a real HAProxy 2.6
 *    started from dest already holding the N backends (as after a restart of lbwatch: its start-up
 *    reads `show servers state` and finds nothing to do), then one backend added or removed per
 *    change: the synchronous part (Registry.update, ServiceLists.apply, and the live lane up to its
 *    first await: delta render, plan, commands written) and the time until the target reports it
 *    applied (plus the Runtime API round trip); for the first FILE_IDLE_SAMPLES changes, then until the
 *    file lane behind it is idle again (it takes at most a twentieth of the time, so at 100,000 that
 *    is tens of seconds); the others come CHANGE_GAP_MS apart, over whatever the file lane is doing.
 * Backends are spread over services of at most 1,000 (HAProxy 2.6 adds and parses the servers of
 * one backend in O(n²): 20,000 in one backend take 11 s to `haproxy -c`); changes go to the first.
 * 3. The file lane's pieces at N: full render, parse of the server lines, compare with dest's text.
 * Prints one JSON line.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tuneMalloc } from "../src/cli/tune-malloc.js";
import { Controller } from "../src/controller/controller.js";
import { createLogger } from "../src/log.js";
import { loadAddon } from "../src/probe/native.js";
import { Registry } from "../src/registry/registry.js";
import { ServiceLists } from "../src/render/service-lists.js";
import { compileTemplate } from "../src/render/template.js";
import { RuntimeClient } from "../src/targets/haproxy/runtime-client.js";
import { RuntimeConnection } from "../src/targets/haproxy/runtime-connection.js";
import { parseConfig } from "../src/targets/haproxy/server-lines.js";
import { openFilesLimit } from "./lib/backends.js";
import { Haproxy, haproxyPaths } from "./lib/haproxy.js";
import { freePortBlock } from "./lib/lb-layout.js";
import { round, summarize } from "./lib/percentiles.js";
import { ApplyWaiter, SyntheticSource, syntheticClaim } from "./lib/synthetic-source.js";

const [count, dir, changes, template] = [
  Number(process.argv[2]),
  String(process.argv[3]),
  Number(process.argv[4]),
  String(process.argv[5]),
];
const PER_SERVICE = 1000;
const FILE_IDLE_SAMPLES = 2;
/**
 * A fixed, short gap: on this shared VM the first work after an idle pause runs several times slower
 * (a 20,000-entry Map: 8 ms after 30 ms idle, 41 ms after 900 ms), so gaps that vary with the file
 * lane's pace would measure the machine waking up, not lbwatch.
 */
const CHANGE_GAP_MS = 30;
const SERVICES = Array.from({ length: Math.max(1, Math.ceil(count / PER_SERVICE)) }, (_, i) => `web${i}`);
const portOf = (service: number) => 20_000 + service;
// HAProxy holds a descriptor per checked server: where the limit cannot be raised that far (no
// CAP_SYS_RESOURCE), the servers go unchecked, which the result says.
const checks = (await openFilesLimit()) > count + 1024;
const INFOS = SERVICES.map((name) => (checks ? { name } : { name, meta: { check: false } }));
const now = () => process.hrtime.bigint();
const ms = (from: bigint, to = now()) => Number(to - from) / 1e6;
const MiB = (bytes: number) => round(bytes / 2 ** 20, 1);
const sleep = (t: number) => new Promise((r) => setTimeout(r, t));
const gc = () => (globalThis as { gc?: () => void }).gc?.();
function heap(): number {
  gc();
  return process.memoryUsage().heapUsed;
}
/**
 * RSS beside the live heap (the rest is V8's reserved heap, the brk heap, node's own code), read
 * RSS_SETTLE_MS after a full GC: V8 returns the pages a GC freed from a background thread, and an
 * RSS read at once counted up to 110 MiB of them at 100,000 backends. `peakRssMiB`: the most this
 * process has held so far (VmHWM), start-up's full reconcile included.
 */
const RSS_SETTLE_MS = 250;
async function memory() {
  gc();
  await sleep(RSS_SETTLE_MS);
  const m = process.memoryUsage();
  const peak = /^VmHWM:\s+(\d+) kB$/m.exec(await readFile("/proc/self/status", "utf8"))?.[1];
  return {
    rssMiB: MiB(m.rss),
    heapUsedMiB: MiB(m.heapUsed),
    heapTotalMiB: MiB(m.heapTotal),
    externalMiB: MiB(m.external),
    peakRssMiB: MiB(Number(peak) * 1024),
  };
}
const brief = (values: number[]) => {
  const s = summarize(values);
  return s && { n: s.n, p50: round(s.p50, 2), p99: round(s.p99, 2), max: round(s.max, 2) };
};

const claimOf = (i: number) => {
  const service = Math.floor(i / PER_SERVICE) % SERVICES.length;
  return syntheticClaim(i, SERVICES[service] as string, portOf(service));
};
const claims = Array.from({ length: count }, (_, i) => claimOf(i));
const extra = syntheticClaim(count, SERVICES[0] as string, portOf(0));

/** Step 1: heap per backend in the Registry and the ordered lists, and their per-change cost. */
function registryAndLists() {
  const heapBase = heap();
  const registry = new Registry();
  registry.replace("synthetic", claims);
  const heapRegistry = heap();
  const lists = new ServiceLists(INFOS, registry.backends());
  const heapLists = heap();
  const perChange: number[] = [];
  for (let k = 0; k < 200; k++) {
    const t = now();
    lists.apply(toggleExtra(registry, k));
    perChange.push(ms(t) * 1000);
  }
  const figures = {
    registryBytesPerBackend: Math.round((heapRegistry - heapBase) / count),
    listsBytesPerBackend: Math.round((heapLists - heapRegistry) / count),
    registryUpdateAndListsApplyUs: brief(perChange),
  };
  return { registry, lists, figures };
}

/** Change k: the extra backend comes (k even) or goes (k odd), so every change is a real one. */
function toggleExtra(registry: Registry, k: number) {
  return k % 2 === 0
    ? registry.update("synthetic", [extra], [])
    : registry.update("synthetic", [], [extra.key]);
}

/** Step 3: what the file lane does per pass at N, and the live lane's delta render of one backend. */
async function fileLanePieces(registry: Registry, lists: ServiceLists) {
  const renderer = await compileTemplate(template);
  const full: number[] = [];
  const parse: number[] = [];
  const compare: number[] = [];
  const delta: number[] = [];
  let previous = renderer.render(lists.context());
  const one = registry.backends().next().value;
  for (let k = 0; k < Math.min(changes, 10); k++) {
    lists.apply(toggleExtra(registry, k));
    let t = now();
    const text = renderer.render(lists.context());
    full.push(ms(t));
    t = now();
    parseConfig(text);
    parse.push(ms(t));
    t = now();
    if (text === previous) throw new Error("a change rendered the same text");
    compare.push(ms(t));
    previous = text;
    t = now();
    parseConfig(renderer.render(lists.delta(one ? [one] : [])));
    delta.push(ms(t));
  }
  return {
    fullRenderMs: brief(full),
    parseServerLinesMs: brief(parse),
    compareWithDestMs: brief(compare),
    renderBytes: previous.length,
    liveDeltaRenderAndParseMs: brief(delta),
  };
}

/** Steps 1 and 3, on structures dropped before step 2 so they are not in its memory figures. */
async function inMemory() {
  const { registry, lists, figures } = registryAndLists();
  return { ...figures, fileLane: await fileLanePieces(registry, lists) };
}

/**
 * The floor of a live change: lbwatch's own Runtime API client adding one server (add, then enable,
 * each with its trailing `show info`) on a connection of its own, with nothing else running.
 */
async function clientFloor(socket: string): Promise<number[]> {
  const client = new RuntimeClient(new RuntimeConnection(socket));
  const times: number[] = [];
  for (let k = 0; k < 20; k++) {
    const spec = { backend: `be_${SERVICES[0]}`, name: `floor${k}`, address: "127.0.0.1:9", options: [] };
    const t = now();
    const [added] = await client.addServers([spec]);
    times.push(ms(t));
    if (added?.outcome.status !== "ok") throw new Error(`floor add: ${JSON.stringify(added)}`);
    await client.setState([spec], "maint");
    await client.deleteServers([spec]);
  }
  await client.connection.close();
  return times;
}

/** dest holding every backend, what HAProxy starts from. */
async function renderHeld(): Promise<string> {
  const held = new Registry();
  held.replace("synthetic", claims);
  return (await compileTemplate(template)).render(new ServiceLists(INFOS, held.backends()).context());
}

/** Step 2: a real controller and HaproxyTarget against a real HAProxy. */
async function liveThroughHaproxy() {
  const paths = haproxyPaths(dir);
  const frontend = await freePortBlock(1);
  const env = {
    LBWATCH_HAPROXY_BIND: `127.0.0.1:${frontend}`,
    LBWATCH_HAPROXY_STATS_SOCKET: paths.runtimeSocket,
  };
  Object.assign(process.env, env);
  const configFile = join(dir, "lbwatch.yaml");
  await writeFile(
    configFile,
    `resync: 0s
services:
${SERVICES.map((name, i) => `  ${name}: { ports: [${portOf(i)}]${checks ? "" : ", meta: { check: false }"} }\n`).join("")}targets:
  - template: ${template}
    dest: ${paths.config}
    haproxy: { runtimeSocket: ${paths.runtimeSocket}, masterSocket: ${paths.masterSocket} }
`,
  );
  await writeFile(paths.config, await renderHeld());
  const haproxy = await Haproxy.start(paths, env);
  const waiter = new ApplyWaiter();
  const source = new SyntheticSource(claims);
  const log = createLogger({ pretty: false, level: process.env.LBWATCH_LOG_LEVEL ?? "warn" });
  const controller = await Controller.load({ configFile, log, observer: waiter, sources: () => [source] });
  const idle = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (controller.status().targets.some((t) => t.pending || t.state !== "ok")) {
      if (Date.now() > deadline) throw new Error(`not idle: ${JSON.stringify(controller.status().targets)}`);
      await sleep(1);
    }
  };
  try {
    const heapBefore = heap();
    const t0 = now();
    await controller.start();
    await idle(300_000);
    const startupMs = ms(t0);
    const repairedAtStartup = waiter.records.length;
    const held = await memory();
    const heapHeld = heap();
    const sync: number[] = [];
    const applied: number[] = [];
    const fileIdle: number[] = [];
    for (let k = 0; k < changes; k++) {
      await sleep(CHANGE_GAP_MS);
      const next = waiter.next(30_000);
      const t = now();
      if (k % 2 === 0) source.sink.update([extra], [], t);
      else source.sink.update([], [extra.key], t);
      sync.push(ms(t) * 1000);
      const record = await next;
      applied.push((record.latencies[0]?.seconds ?? Number.NaN) * 1000);
      if (k < FILE_IDLE_SAMPLES) {
        await idle(60_000);
        fileIdle.push(ms(t));
      }
    }
    // Every change applied by both lanes: the file lane's last pass is not transient memory.
    await idle(60_000);
    const afterChanges = await memory();
    return {
      startupReconciledMs: round(startupMs, 1),
      repairedAtStartup,
      dispatchSyncUs: brief(sync),
      changeAppliedMs: brief(applied),
      fileLaneIdleMs: brief(fileIdle),
      controllerBytesPerBackend: Math.round((heapHeld - heapBefore) / count),
      memoryHeld: held,
      memoryAfterChanges: afterChanges,
      // V8 and malloc_trim (src/cli/tune-malloc.ts) hand pages back after a while: what RSS falls to.
      memoryIdle3s: await sleep(3000).then(memory),
      runtimeClientAddMs: brief(await clientFloor(paths.runtimeSocket)),
    };
  } finally {
    await controller.close();
    await haproxy.stop();
  }
}

// First, as `lbwatch run` does, so that RSS is what a deployed controller holds; loaded before, as
// tuneMalloc goes on without an addon, which would measure another malloc.
loadAddon();
tuneMalloc(createLogger({ pretty: false, level: "warn" }));
const rssBase = process.memoryUsage().rss;
const heapBaseMiB = MiB(heap());
const pieces = await inMemory();
const live = await liveThroughHaproxy();
console.log(
  JSON.stringify({
    backends: count,
    changes,
    checks,
    rssBaseMiB: MiB(rssBase),
    heapBaseMiB,
    ...pieces,
    live,
  }),
);
