/** Render contexts for template and target tests, built as the registry would name backends. */

import type { Meta } from "../../src/config/types.js";
import { backendId, endpointOf } from "../../src/registry/backend-id.js";
import type { BackendView, RenderContext } from "../../src/render/context.js";

export function backendView(address: string, port: number, ready = true, slot = 1): BackendView {
  const family = address.includes(":") ? 6 : 4;
  return {
    id: backendId(family, address, port),
    slot,
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
    ready,
  };
}

/**
 * `{ services: { name: { name, meta, backends, waiting } } }` from name → [address, port][], services
 * by name; `meta` gives some of them settings, `waiting` backends not ready yet.
 */
export function renderContext(
  services: Record<string, [string, number][]>,
  options: { meta?: Record<string, Meta>; waiting?: Record<string, [string, number][]> } = {},
): RenderContext {
  const names = Object.keys(services).sort();
  return {
    services: Object.fromEntries(
      names.map((name) => [
        name,
        {
          name,
          meta: options.meta?.[name] ?? {},
          // Slots as the registry gives them to backends that came in this order.
          backends: (services[name] ?? []).map(([a, p], i) => backendView(a, p, true, i + 1)),
          waiting: (options.waiting?.[name] ?? []).map(([a, p], i) =>
            backendView(a, p, false, (services[name]?.length ?? 0) + i + 1),
          ),
        },
      ]),
    ),
  };
}
