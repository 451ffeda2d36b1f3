/**
 * The render context kept in order as changes come, so that a change costs O(changed × log n) here and
 * a full context costs O(services), not a sort of every backend per change. Each service has two
 * lists, `backends` (routable) and `waiting` (readiness not passed); a backend that becomes ready
 * moves from one to the other. Views are built once per backend version; `context()` hands out the
 * lists themselves, which stay valid until the next `apply`: a caller that holds a context across an
 * await must copy it (`snapshotContext`).
 */
import type { Backend } from "../registry/backend.js";
import type { RegistryChange } from "../registry/registry.js";
import {
  type BackendView,
  buildContext,
  contextOf,
  orderKey,
  type RenderContext,
  type ServiceInfo,
  view,
} from "./context.js";

/** Views in order, with their order keys beside them for binary search. */
class List {
  readonly keys: string[];
  readonly views: BackendView[];

  /** From backends in any order: one sort. */
  constructor(backends: readonly Backend[] = []) {
    const entries = backends.map((b) => ({ key: orderKey(b), view: view(b) }));
    entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.keys = entries.map((e) => e.key);
    this.views = entries.map((e) => e.view);
  }

  /** Index of `key`, or where it would go. */
  #search(key: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.keys[mid] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  put(key: string, value: BackendView): void {
    const at = this.#search(key);
    if (this.keys[at] === key) this.views[at] = value;
    else {
      this.keys.splice(at, 0, key);
      this.views.splice(at, 0, value);
    }
  }

  delete(key: string): void {
    const at = this.#search(key);
    if (this.keys[at] !== key) return;
    this.keys.splice(at, 1);
    this.views.splice(at, 1);
  }
}

interface Lists {
  ready: List;
  waiting: List;
}

export class ServiceLists {
  #services: readonly ServiceInfo[] = [];
  #lists = new Map<string, Lists>();

  constructor(services: readonly ServiceInfo[], backends: Iterable<Backend> = []) {
    this.reset(services, backends);
  }

  /** Rebuilds every list (start-up, config reload): O(n log n). */
  reset(services: readonly ServiceInfo[], backends: Iterable<Backend>): void {
    const byService = new Map<string, Backend[]>(services.map((s) => [s.name, []]));
    for (const b of backends) byService.get(b.service)?.push(b);
    this.#services = services;
    this.#lists = new Map(
      [...byService].map(([name, all]) => [
        name,
        { ready: new List(all.filter((b) => b.ready)), waiting: new List(all.filter((b) => !b.ready)) },
      ]),
    );
  }

  apply(change: RegistryChange): void {
    for (const b of change.removed) {
      const lists = this.#lists.get(b.service);
      const key = orderKey(b);
      lists?.ready.delete(key);
      lists?.waiting.delete(key);
    }
    for (const b of change.added) this.#put(b);
    for (const b of change.updated) this.#put(b);
  }

  /** Every service with all its backends, in order. Valid until the next `apply`. */
  context(): RenderContext {
    return contextOf(this.#services, (name) => {
      const lists = this.#lists.get(name);
      return { backends: lists?.ready.views ?? [], waiting: lists?.waiting.views ?? [] };
    });
  }

  /**
   * Every service, each with only the given backends (in order, in `backends` or `waiting` by their
   * readiness): what a template renders for just these backends. O(services + backends): the live
   * path uses it to learn their server lines.
   */
  delta(backends: readonly Backend[]): RenderContext {
    return buildContext(this.#services, backends);
  }

  /** Number of routable backends of a service in the lists. */
  count(service: string): number {
    return this.#lists.get(service)?.ready.views.length ?? 0;
  }

  /** In the list its readiness says, and out of the other one (a backend that just became ready). */
  #put(b: Backend): void {
    const lists = this.#lists.get(b.service);
    if (!lists) return;
    const key = orderKey(b);
    (b.ready ? lists.waiting : lists.ready).delete(key);
    (b.ready ? lists.ready : lists.waiting).put(key, view(b));
  }
}

/** A copy of a context whose lists no later change can alter. */
export function snapshotContext(context: RenderContext): RenderContext {
  return {
    services: Object.fromEntries(
      Object.entries(context.services).map(([name, s]) => [
        name,
        { name: s.name, meta: s.meta, backends: [...s.backends], waiting: [...s.waiting] },
      ]),
    ),
  };
}
