/**
 * The soak's ground truth and its comparison: the web service's listeners as the kernel lists them
 * (`ss -Hltn`), against HAProxy's ready servers in be_web (`show servers state`) and dest's server
 * lines. Backends keep churning, so a comparison counts only when the listeners read before and
 * after it are the same.
 */
import { readFile } from "node:fs/promises";
import { execa } from "execa";
import { serverIdFor } from "./contenders.js";
import { isReady } from "./haproxy.js";
import { sleep } from "./helpers.js";
import type { SoakWorld } from "./soak-world.js";

const BACKEND = "be_web";

async function listening(ports: Set<number>): Promise<Set<string>> {
  const { stdout } = await execa("ss", ["-Hltn"]);
  const ids = new Set<string>();
  for (const line of stdout.split("\n")) {
    const local = line.trim().split(/\s+/)[3] ?? "";
    const at = local.lastIndexOf(":");
    const port = Number(local.slice(at + 1));
    if (local.slice(0, at) === "127.0.0.1" && ports.has(port)) ids.add(serverIdFor("127.0.0.1", port));
  }
  return ids;
}

function destServers(text: string): Set<string> {
  const ids = new Set<string>();
  let inWeb = false;
  for (const line of text.split("\n")) {
    const words = line.trim().split(/\s+/);
    if (words[0] === "backend") inWeb = words[1] === BACKEND;
    else if (inWeb && words[0] === "server" && words[1]) ids.add(words[1]);
  }
  return ids;
}

const same = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

export interface Comparison {
  ok: boolean;
  /** HAProxy's ready servers equal the listeners (dest may still trail). */
  haproxyOk: boolean;
  /** Why not, in one line: which side differs and by what. */
  detail?: string;
}

/**
 * dest is written behind the live lane and trails it by at most 2 s plus one pass (README, "File
 * lane"): under the soak's churn it rarely equals the listeners of this very moment, so it is held to
 * the listener sets seen in the last DEST_LAG_MS.
 */
const DEST_LAG_MS = 3000;
const recent: { at: number; ids: Set<string> }[] = [];

function seenLately(ids: Set<string>): void {
  const now = Date.now();
  recent.push({ at: now, ids });
  while ((recent[0]?.at ?? now) < now - DEST_LAG_MS) recent.shift();
}

/**
 * One comparison; `ok` only when HAProxy's ready servers equal a listener set that did not move
 * meanwhile, and dest equals that set or one seen in the last DEST_LAG_MS.
 */
export async function compare(world: SoakWorld): Promise<Comparison> {
  const ports = new Set(world.ports.web);
  const before = await listening(ports);
  if (!world.haproxy) return { ok: false, haproxyOk: false, detail: "HAProxy is not running" };
  const live = await world.haproxy.serversState().catch(() => undefined);
  const dest = destServers(await readFile(world.paths.config, "utf8").catch(() => ""));
  const after = await listening(ports);
  if (!same(before, after))
    return { ok: false, haproxyOk: false, detail: "listeners moved during the comparison" };
  seenLately(after);
  if (!live) return { ok: false, haproxyOk: false, detail: "show servers state failed" };
  const ready = new Set(live.filter((s) => s.backend === BACKEND && isReady(s)).map((s) => s.server));
  const diff = (name: string, got: Set<string>) => {
    const missing = [...after].filter((x) => !got.has(x));
    const extra = [...got].filter((x) => !after.has(x));
    return `${name} lacks [${missing.join(" ")}] and has extra [${extra.join(" ")}]`;
  };
  if (!same(ready, after)) {
    // Why HAProxy lacks them: absent, or there in which operational / administrative state.
    const states = [...after]
      .filter((x) => !ready.has(x))
      .map((x) => live.find((s) => s.backend === BACKEND && s.server === x))
      .map((s) => (s ? `${s.server} op ${s.opState} admin ${s.adminState}` : "absent"));
    return { ok: false, haproxyOk: false, detail: `${diff("HAProxy", ready)} (${states.join(", ")})` };
  }
  if (!recent.some((r) => same(dest, r.ids)))
    return { ok: false, haproxyOk: true, detail: diff("dest", dest) };
  return { ok: true, haproxyOk: true };
}

/**
 * Compares every 50 ms until a comparison passes (and `extra`, when given, holds) or boundMs passes:
 * the ms it took (`ms`, HAProxy and dest; `haproxyMs`, HAProxy alone: dest is written behind it), or
 * no `ms` and the last reason.
 */
export async function waitConverged(
  world: SoakWorld,
  boundMs: number,
  extra?: () => Promise<string | undefined>,
): Promise<{ ms?: number; haproxyMs?: number; detail?: string; reasons: Record<string, number> }> {
  const started = Date.now();
  let detail: string | undefined;
  let haproxyMs: number | undefined;
  // Why each failed comparison failed, by kind: a late convergence may be the churn moving under
  // the comparison, or dest trailing, rather than HAProxy.
  const reasons: Record<string, number> = {};
  while (Date.now() - started <= boundMs) {
    const c = await compare(world).catch((err: Error) => ({
      ok: false,
      haproxyOk: false,
      detail: err.message,
    }));
    // A fault's own condition (a refused reload has happened since) is HAProxy's as much as dest's.
    const more = c.haproxyOk && extra ? await extra() : undefined;
    if (c.haproxyOk && more === undefined) haproxyMs ??= Date.now() - started;
    if (c.ok && more === undefined) {
      // The last failure says what was still wrong just before it converged (names and states).
      return { ms: Date.now() - started, haproxyMs, reasons, ...(detail === undefined ? {} : { detail }) };
    }
    detail = more ?? c.detail;
    const kind = (detail ?? "").replace(/ \[.*$| \(.*$/, "");
    reasons[kind] = (reasons[kind] ?? 0) + 1;
    await sleep(50);
  }
  return {
    ...(detail === undefined ? {} : { detail }),
    ...(haproxyMs === undefined ? {} : { haproxyMs }),
    reasons,
  };
}
