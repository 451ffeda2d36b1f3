/**
 * One bad backend never blocks the others. When a render fails its target's check, the backends added
 * since the last render that passed are the suspects: if the render passes without all of them, the
 * culprits are found by splitting the suspects in halves (each culprit is assumed to fail the check
 * on its own, which is how a process-supplied value breaks a config), kept out of this target until
 * they go away (their socket closes), and the rest is applied. A render that fails even without every
 * suspect is the template's or the environment's fault: the last good config stays and the check is
 * retried with backoff.
 */
import type { Logger } from "../log.js";
import { type Backend, backendKey } from "../registry/backend.js";
import type { RegistryChange } from "../registry/registry.js";
import type { RenderContext } from "../render/context.js";
import type { QuarantineEntry } from "./target.js";

/** Checks are 0.1-1.5 s each: past this many, the suspects left unresolved are kept out together. */
const MAX_CHECKS = 24;

/** What quarantine needs to know of a backend. */
export type Suspect = Pick<Backend, "service" | "id" | "pid" | "uid" | "comm" | "host">;

/** Returns whether the render passes its check with `excluded` (backend keys) left out. */
export type PassesWithout = (excluded: ReadonlySet<string>) => Promise<boolean>;

/**
 * The culprits among `suspects`, or undefined when the render fails even without all of them.
 * `passes` always excludes what is already quarantined; `suspects` are keyed by backendKey.
 */
export async function findCulprits<T extends Suspect>(
  suspects: readonly T[],
  passes: PassesWithout,
): Promise<T[] | undefined> {
  const all = new Set(suspects.map(backendKey));
  let checks = 1;
  if (!(await passes(all))) return undefined;
  const culprits: T[] = [];
  const search = async (group: readonly T[]): Promise<void> => {
    if (checks >= MAX_CHECKS) {
      culprits.push(...group);
      return;
    }
    const inGroup = new Set(group.map(backendKey));
    checks++;
    if (await passes(new Set([...all].filter((k) => !inGroup.has(k))))) return;
    if (group.length === 1) {
      culprits.push(group[0] as T);
      return;
    }
    const half = Math.ceil(group.length / 2);
    await search(group.slice(0, half));
    await search(group.slice(half));
  };
  await search(suspects);
  return culprits;
}

/** A copy of `context` without the backends whose keys are in `excluded` (O(all): rare). */
export function contextWithout(context: RenderContext, excluded: ReadonlySet<string>): RenderContext {
  if (excluded.size === 0) return context;
  return {
    services: Object.fromEntries(
      Object.entries(context.services).map(([name, s]) => [
        name,
        {
          ...s,
          backends: s.backends.filter((b) => !excluded.has(`${name}/${b.id}`)),
          waiting: s.waiting.filter((b) => !excluded.has(`${name}/${b.id}`)),
        },
      ]),
    ),
  };
}

/** The backends one target keeps out, until each goes away. */
export class Quarantine {
  readonly #entries = new Map<string, QuarantineEntry>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  get keys(): ReadonlySet<string> {
    return new Set(this.#entries.keys());
  }

  get size(): number {
    return this.#entries.size;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  list(): QuarantineEntry[] {
    return [...this.#entries.values()];
  }

  add(backend: Suspect, reason: string): void {
    const { service, id, pid, uid, comm, host } = backend;
    this.#entries.set(backendKey(backend), { service, id, pid, uid, comm, host, reason, since: Date.now() });
    this.#log.warn(
      { service, backend: id, pid, uid, comm, host, checker: reason },
      "backend quarantined: the target's check fails with it; kept out until it closes",
    );
  }

  /** Backends that went away leave quarantine: returns whether any did. */
  release(change: RegistryChange): boolean {
    let released = false;
    for (const b of change.removed) released = this.#entries.delete(backendKey(b)) || released;
    return released;
  }

  /** A new template may render them fine: let them all be tried again. */
  clear(): void {
    this.#entries.clear();
  }
}
