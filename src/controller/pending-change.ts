/**
 * Registry changes that arrived since the last render, folded into one: what the coming render adds,
 * removes and updates relative to the last one, and the kernel time of the earliest event behind it.
 */
import type { Backend } from "../registry/backend.js";
import { isEmptyChange, type RegistryChange } from "../registry/registry.js";

/** Ids are unique within a service only: the same address:port may serve two services. */
const keyOf = (b: Backend): string => `${b.service}/${b.id}`;

export class PendingChange {
  #added = new Map<string, Backend>();
  #removed = new Map<string, Backend>();
  #updated = new Map<string, Backend>();
  #firstEventTs: bigint | undefined;

  /** Fold one change in; returns whether it changed anything (worth scheduling a render for). */
  add(change: RegistryChange): boolean {
    if (isEmptyChange(change)) return false;
    // A backend that comes and goes (or goes and comes back) between two renders nets out.
    for (const b of change.added) {
      if (!this.#removed.delete(keyOf(b))) this.#added.set(keyOf(b), b);
    }
    for (const b of change.removed) {
      this.#updated.delete(keyOf(b));
      if (!this.#added.delete(keyOf(b))) this.#removed.set(keyOf(b), b);
    }
    for (const b of change.updated ?? []) {
      if (this.#added.has(keyOf(b))) this.#added.set(keyOf(b), b);
      else this.#updated.set(keyOf(b), b);
    }
    const ts = change.firstEventTs;
    if (ts !== undefined && (this.#firstEventTs === undefined || ts < this.#firstEventTs))
      this.#firstEventTs = ts;
    return true;
  }

  /** The folded change, leaving this empty for the next render. */
  take(): RegistryChange {
    const change: RegistryChange = {
      added: [...this.#added.values()],
      removed: [...this.#removed.values()],
      updated: [...this.#updated.values()],
    };
    if (this.#firstEventTs !== undefined) change.firstEventTs = this.#firstEventTs;
    this.#added.clear();
    this.#removed.clear();
    this.#updated.clear();
    this.#firstEventTs = undefined;
    return change;
  }
}
