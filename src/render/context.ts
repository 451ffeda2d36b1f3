/**
 * The template context, the contract between lbwatch and template writers (README "Templates"):
 * `{ services: { <name>: { name, meta, backends: [ { id, slot, address, port, endpoint, family, host,
 * pid, comm, uid, netns, backlog, ready } ], waiting: [ ...the same, ready: false ] } } }`. `backends` are
 * the routable ones (ready, or the service has no gate), `waiting` those whose readiness check has
 * not passed. Every configured service is present, services by name, backends by family, numeric
 * address and port, so the same state always renders byte-identical output.
 */
import { addressSortKey } from "../config/ip-address.js";
import type { Meta } from "../config/types.js";
import { flat } from "../flat-string.js";
import type { Backend } from "../registry/backend.js";
import { safeText } from "./safe-text.js";

/** What a template sees of a backend: everything but the registry's own bookkeeping. */
export type BackendView = Pick<
  Backend,
  | "id"
  | "slot"
  | "address"
  | "port"
  | "endpoint"
  | "family"
  | "host"
  | "pid"
  | "comm"
  | "uid"
  | "netns"
  | "backlog"
  | "ready"
>;

export interface ServiceView {
  name: string;
  /** The service's `meta:` from the config ({} without one), frozen. */
  meta: Meta;
  /** Routable backends. */
  backends: BackendView[];
  /** Backends whose readiness check has not passed yet. */
  waiting: BackendView[];
}

/** What the context needs of a service rule. */
export interface ServiceInfo {
  name: string;
  meta?: Meta;
}

/** A service's two lists, in order. */
export interface ServiceBackends {
  backends: BackendView[];
  waiting: BackendView[];
}

export interface RenderContext {
  services: Record<string, ServiceView>;
}

/** Process-supplied text (comm) is made safe here, the one place it enters a template. */
export function view(b: Backend): BackendView {
  const { id, slot, address, port, endpoint, family, host, pid, comm, uid, netns, backlog, ready } = b;
  return {
    id,
    slot,
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
    ready,
  };
}

/** Orders backends within a service: family, then numeric address, then port. */
export function orderKey(b: { family: 4 | 6; address: string; port: number }): string {
  return flat(addressSortKey(b), b.port.toString(16).padStart(4, "0"));
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const NO_META: Meta = Object.freeze({});

/**
 * `{ services }` from per-service lists already in order. fromEntries defines own properties, so even
 * a service called "constructor" is an ordinary key.
 */
export function contextOf(
  services: readonly ServiceInfo[],
  lists: (name: string) => ServiceBackends,
): RenderContext {
  const sorted = [...services].sort((a, b) => byName(a.name, b.name));
  return {
    services: Object.fromEntries(
      sorted.map(({ name, meta }) => [name, { name, meta: meta ?? NO_META, ...lists(name) }]),
    ),
  };
}

/** Backends in context order, each as its view. */
export function ordered(backends: Iterable<Backend>): BackendView[] {
  return [...backends]
    .map((b) => ({ key: orderKey(b), view: view(b) }))
    .sort((a, b) => byName(a.key, b.key))
    .map((e) => e.view);
}

/**
 * The context of `backends`, sorted here: for one-off renders (`check`, tests, benchmarks) and the
 * live path's renders of a few backends. The controller keeps its lists in order as changes come
 * (src/render/service-lists.ts) instead. Backends of a service not configured are left out.
 */
export function buildContext(services: readonly ServiceInfo[], backends: Iterable<Backend>): RenderContext {
  const byService = new Map<string, Backend[]>(services.map((s) => [s.name, []]));
  for (const b of backends) byService.get(b.service)?.push(b);
  return contextOf(services, (name) => {
    const all = byService.get(name) ?? [];
    return { backends: ordered(all.filter((b) => b.ready)), waiting: ordered(all.filter((b) => !b.ready)) };
  });
}
