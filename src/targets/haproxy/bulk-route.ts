/**
 * When a reload brings new servers faster than the Runtime API. HAProxy 2.6 walks a backend's whole
 * server list for each `add server` (refusing a duplicate name) and each `enable server` (finding
 * it), so n new servers in one backend cost O(n²): 10,000 into an empty backend take ~2.4 s of
 * HAProxy's time, which no batching on lbwatch's side can shorten. A reload parses the config in
 * O(servers) when its server lines carry `id`s (without, HAProxy numbers them in O(n²) too), so the
 * same 10,000 come up in a fraction of a second. Estimates from measurements of HAProxy 2.6.12 on
 * this project's 2-core VM (README "Cold start"); a newer HAProxy whose walks are cheaper only makes
 * the choice conservative, and the live route stays for anything that is not clearly slower.
 */

/** One `add server` or `enable server` on a pipelined connection, walks aside. */
const COMMAND_NS = 14_000;
/** Per server already in the backend, per new server: the add's walk and the enable's together. */
const WALK_NS = 42;
/** Per server in the whole config, per parse (with ids); a reload parses twice (check, new worker). */
const PARSE_NS = 6_000;
/** A reload's own cost: the check's and the new worker's start, the master's confirmation. */
const RELOAD_NS = 150_000_000;
/** Fewer new servers in a backend than this always go live: a reload resets HAProxy's runtime state. */
export const MIN_BULK = 256;
/** How much slower the live route must be before a reload is chosen. */
const MARGIN = 2;
/**
 * At most one reload for new servers this often: each reload leaves the old workers to finish their
 * connections (up to `hard-stop-after`), so a fleet that comes and goes in bulk (a crash-looping
 * supervisor of thousands of workers) must not pile them up. Within it, large changes go live.
 */
export const BULK_SPACING_MS = 10_000;

export interface BackendAdds {
  backend: string;
  /** New servers whose lines carry an id (only those parse in O(1) each). */
  adds: number;
  /** Servers the backend has now. */
  existing: number;
}

/** Estimated ns of adding and enabling `adds` servers, one by one, to a backend of `existing`. */
export function liveAddNs(adds: number, existing: number): number {
  return adds * 2 * COMMAND_NS + WALK_NS * adds * (existing + adds / 2);
}

/** Estimated ns of a reload of a config with `servers` servers in all. */
export function reloadNs(servers: number): number {
  return RELOAD_NS + 2 * PARSE_NS * servers;
}

/**
 * The backends whose new servers a reload should bring, or none: those with at least MIN_BULK new
 * servers, when adding them live would take MARGIN times longer than reloading a config of
 * `serversAfter` servers.
 */
export function backendsForReload(loads: readonly BackendAdds[], serversAfter: number): Set<string> {
  const big = loads.filter((l) => l.adds >= MIN_BULK);
  const live = big.reduce((sum, l) => sum + liveAddNs(l.adds, l.existing), 0);
  return live > MARGIN * reloadNs(serversAfter) ? new Set(big.map((l) => l.backend)) : new Set();
}
