/**
 * The template context, the contract between lbwatch and template writers (README "Templates"):
 * `{ services: { <name>: { name, backends: [ { id, address, port, endpoint, family, host, pid, comm,
 * uid, netns, backlog } ] } } }`. Every configured service is present, services by name, backends by
 * family, numeric address and port, so the same state always renders byte-identical output.
 */
import { addressSortKey } from "../config/ip-address.js";
import type { ServiceRule } from "../config/types.js";
import type { Backend } from "../registry/backend.js";
import { safeText } from "./safe-text.js";

/** What a template sees of a backend: everything but the registry's own bookkeeping. */
export type BackendView = Pick<
  Backend,
  "id" | "address" | "port" | "endpoint" | "family" | "host" | "pid" | "comm" | "uid" | "netns" | "backlog"
>;

export interface ServiceView {
  name: string;
  backends: BackendView[];
}

export interface RenderContext {
  services: Record<string, ServiceView>;
}

/** Process-supplied text (comm) is made safe here, the one place it enters a template. */
export function view(b: Backend): BackendView {
  const { id, address, port, endpoint, family, host, pid, comm, uid, netns, backlog } = b;
  return {
    id,
    address,
    port,
    endpoint,
    family,
    host: safeText(host),
    pid,
    comm: safeText(comm),
    uid,
    netns,
    backlog,
  };
}

/** Orders backends within a service: family, then numeric address, then port. */
export function orderKey(b: { family: 4 | 6; address: string; port: number }): string {
  return `${addressSortKey(b)}${b.port.toString(16).padStart(4, "0")}`;
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * `{ services }` from per-service lists already in order. fromEntries defines own properties, so even
 * a service called "constructor" is an ordinary key.
 */
export function contextOf(
  services: readonly string[],
  lists: (name: string) => BackendView[],
): RenderContext {
  const names = [...services].sort(byName);
  return { services: Object.fromEntries(names.map((name) => [name, { name, backends: lists(name) }])) };
}

/**
 * The context of `backends`, sorted here: for one-off renders (`check`, tests, benchmarks). The
 * controller keeps its lists in order as changes come (src/render/service-lists.ts) instead.
 * Backends of a service not configured have no list and are left out.
 */
export function buildContext(services: readonly ServiceRule[], backends: Iterable<Backend>): RenderContext {
  const byService = new Map<string, { key: string; view: BackendView }[]>(services.map((r) => [r.name, []]));
  for (const b of backends) byService.get(b.service)?.push({ key: orderKey(b), view: view(b) });
  for (const list of byService.values()) list.sort((a, b) => byName(a.key, b.key));
  return contextOf([...byService.keys()], (name) => (byService.get(name) ?? []).map((e) => e.view));
}
