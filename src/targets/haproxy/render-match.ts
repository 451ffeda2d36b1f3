/**
 * Whether a full render's servers are what the live lane knows runs: the file lane asks after every
 * pass, and a "no" (some change was not applied as lbwatch believes) costs a full reconcile. At
 * 100,000 servers this runs every few seconds on lbwatch's one thread, so it scans the text once and
 * allocates nothing per server but its key (parsing every line into records took ~110 ms and ~50 MiB
 * per pass there, and delayed live changes by as much).
 */
import type { KnownServers } from "./known-servers.js";
import { type ConfigOutline, type ServerSpan, scanConfig, spanHasOptions, spanName } from "./server-lines.js";

/** The servers lbwatch is deleting: known to run, but no render has them. */
export interface Draining {
  has(key: string): boolean;
  keys(): Iterable<string>;
}

/**
 * The render's lines outside its servers, and whether its servers are exactly the known ones of the
 * backends it has, with the same options (where known), none of them being deleted. Every server of
 * the render must be known; then counting tells whether a known one is missing from it.
 */
export function compareRender(
  text: string,
  known: Pick<KnownServers, "get" | "countIn">,
  draining: Draining,
): { outline: ConfigOutline; matches: boolean } {
  let matches = true;
  let servers = 0;
  const compare = (s: Readonly<ServerSpan>) => {
    servers++;
    if (!matches) return;
    const key = `${s.proxy}/${spanName(s)}`;
    const running = known.get(key);
    if (!running || draining.has(key) || (running.options && !spanHasOptions(s, running.options))) {
      matches = false;
    }
  };
  const outline = scanConfig(text, compare);
  if (!matches) return { outline, matches };
  let managed = 0;
  for (const proxy of outline.proxies) managed += known.countIn(proxy);
  for (const key of draining.keys()) {
    const running = known.get(key);
    if (running && outline.proxies.has(running.backend)) managed--;
  }
  return { outline, matches: managed === servers };
}
