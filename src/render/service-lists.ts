/**
 * The render context kept in order as changes come, so that a change costs O(changed × log n) here and
 * a full context costs O(services), not a sort of every backend per change. Views are built once per
 * backend version; `context()` hands out the lists themselves, which stay valid until the next
 * `apply`: a caller that holds a context across an await must copy it (`snapshotContext`).
 */
import type { Backend } from "../registry/backend.js";
import type { RegistryChange } from "../registry/registry.js";
import { type BackendView, contextOf, orderKey, type RenderContext, view } from "./context.js";

interface List {
  keys: string[];
  views: BackendView[];
}

/** Index of `key` in sorted `keys`, or where it would go. */
function search(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class ServiceLists {
  #lists = new Map<string, List>();

  constructor(services: readonly string[], backends: Iterable<Backend> = []) {
    this.reset(services, backends);
  }

  /** Rebuilds every list (start-up, config reload): O(n log n). */
  reset(services: readonly string[], backends: Iterable<Backend>): void {
    const entries = new Map<string, { key: string; view: BackendView }[]>(services.map((s) => [s, []]));
    for (const b of backends) entries.get(b.service)?.push({ key: orderKey(b), view: view(b) });
    this.#lists = new Map();
    for (const [service, list] of entries) {
      list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      this.#lists.set(service, { keys: list.map((e) => e.key), views: list.map((e) => e.view) });
    }
  }

  apply(change: RegistryChange): void {
    for (const b of change.removed) {
      const list = this.#lists.get(b.service);
      if (!list) continue;
      const key = orderKey(b);
      const at = search(list.keys, key);
      if (list.keys[at] === key) {
        list.keys.splice(at, 1);
        list.views.splice(at, 1);
      }
    }
    for (const b of [...change.added, ...change.updated]) {
      const list = this.#lists.get(b.service);
      if (!list) continue;
      const key = orderKey(b);
      const at = search(list.keys, key);
      if (list.keys[at] === key) list.views[at] = view(b);
      else {
        list.keys.splice(at, 0, key);
        list.views.splice(at, 0, view(b));
      }
    }
  }

  /** Every service with all its backends, in order. Valid until the next `apply`. */
  context(): RenderContext {
    return contextOf([...this.#lists.keys()], (name) => this.#lists.get(name)?.views ?? []);
  }

  /**
   * Every service, each with only the given backends (in order): what a template renders for just
   * these backends. O(services + backends): the live path uses it to learn their server lines.
   */
  delta(backends: readonly Backend[]): RenderContext {
    const some = new Map<string, Backend[]>();
    for (const b of backends) {
      if (!this.#lists.has(b.service)) continue;
      const list = some.get(b.service);
      if (list) list.push(b);
      else some.set(b.service, [b]);
    }
    return contextOf([...this.#lists.keys()], (name) =>
      (some.get(name) ?? [])
        .map((b) => ({ key: orderKey(b), view: view(b) }))
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
        .map((e) => e.view),
    );
  }

  /** Number of backends of a service in the lists. */
  count(service: string): number {
    return this.#lists.get(service)?.views.length ?? 0;
  }
}

/** A copy of a context whose lists no later change can alter. */
export function snapshotContext(context: RenderContext): RenderContext {
  return {
    services: Object.fromEntries(
      Object.entries(context.services).map(([name, s]) => [
        name,
        { name: s.name, backends: [...s.backends] },
      ]),
    ),
  };
}
