/** Render contexts for template and target tests, built as the registry would name backends. */

import { backendId, endpointOf } from "../../src/registry/backend-id.js";
import type { BackendView, RenderContext } from "../../src/render/context.js";

export function backendView(address: string, port: number): BackendView {
  const family = address.includes(":") ? 6 : 4;
  return {
    id: backendId(family, address, port),
    address,
    port,
    endpoint: endpointOf(family, address, port),
    family,
    host: "h1",
    pid: 1,
    comm: "test",
    uid: 0,
    netns: 0,
    backlog: 128,
  };
}

/** `{ services: { name: { name, backends } } }` from name → [address, port][], services by name. */
export function renderContext(services: Record<string, [string, number][]>): RenderContext {
  const names = Object.keys(services).sort();
  return {
    services: Object.fromEntries(
      names.map((name) => [
        name,
        { name, backends: (services[name] ?? []).map(([a, p]) => backendView(a, p)) },
      ]),
    ),
  };
}
