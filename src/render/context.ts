/**
 * The template context, the contract between lbwatch and template writers (README "Templates"):
 * `{ services: { <name>: { name, backends: [ { id, address, port, endpoint, family, pid, comm, uid,
 * netns, backlog } ] } } }`. Every configured service is present, services by name, backends by family,
 * numeric address and port, so the same state always renders byte-identical output.
 */
import type { ServiceRule } from "../config/types.js";
import { type Backend, sortBackends } from "../registry/backend.js";
import { safeText } from "./safe-text.js";

/** What a template sees of a backend: everything but the registry's own bookkeeping. */
export type BackendView = Omit<Backend, "service" | "sock">;

export interface ServiceView {
  name: string;
  backends: BackendView[];
}

export interface RenderContext {
  services: Record<string, ServiceView>;
}

function view(b: Backend): BackendView {
  const { id, address, port, endpoint, family, pid, comm, uid, netns, backlog } = b;
  return { id, address, port, endpoint, family, pid, comm: safeText(comm), uid, netns, backlog };
}

export function buildContext(services: readonly ServiceRule[], backends: Iterable<Backend>): RenderContext {
  const byService = new Map<string, BackendView[]>(services.map((rule) => [rule.name, []]));
  // Sorted first, so each service's list comes out in order; backends of a service no longer
  // configured (a config reload in flight) have no list and are left out.
  for (const backend of sortBackends(backends)) byService.get(backend.service)?.push(view(backend));
  const names = [...byService.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  // fromEntries defines own properties, so even a service called "constructor" is an ordinary key.
  return {
    services: Object.fromEntries(names.map((name) => [name, { name, backends: byService.get(name) ?? [] }])),
  };
}
