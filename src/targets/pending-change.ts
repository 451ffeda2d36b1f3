/**
 * Registry changes not yet applied by a target, folded into one: what its next apply adds, removes
 * and updates relative to what it last applied, and the kernel time of the earliest listen and close
 * behind it (for latency figures).
 */
import { type Backend, backendKey } from "../registry/backend.js";
import { isEmptyChange, type RegistryChange } from "../registry/registry.js";

export interface FoldedChange extends RegistryChange {
  /** Kernel ns of the earliest event behind the added/updated backends and behind the removed ones. */
  firstListenTs?: bigint;
  firstCloseTs?: bigint;
}

const earliest = (a: bigint | undefined, b: bigint | undefined) =>
  a === undefined ? b : b === undefined || a <= b ? a : b;

export class PendingChange {
  #added = new Map<string, Backend>();
  #removed = new Map<string, Backend>();
  #updated = new Map<string, Backend>();
  #listenTs: bigint | undefined;
  #closeTs: bigint | undefined;

  /** Fold one change in; returns whether it changed anything (worth waking an apply for). */
  add(change: RegistryChange | FoldedChange): boolean {
    if (isEmptyChange(change)) return false;
    // A backend that comes and goes (or goes and comes back) between two applies nets out. One that
    // goes and comes back is kept as an update: its fields (or its server line) may differ.
    for (const b of change.added) {
      const key = backendKey(b);
      if (this.#removed.delete(key)) this.#updated.set(key, b);
      else this.#added.set(key, b);
    }
    for (const b of change.removed) {
      const key = backendKey(b);
      this.#updated.delete(key);
      if (!this.#added.delete(key)) this.#removed.set(key, b);
    }
    for (const b of change.updated) {
      const key = backendKey(b);
      if (this.#added.has(key)) this.#added.set(key, b);
      else this.#updated.set(key, b);
    }
    const folded = change as FoldedChange;
    const ts = change.firstEventTs;
    if (change.added.length + change.updated.length > 0) {
      this.#listenTs = earliest(this.#listenTs, folded.firstListenTs ?? ts);
    }
    if (change.removed.length > 0) this.#closeTs = earliest(this.#closeTs, folded.firstCloseTs ?? ts);
    return true;
  }

  get empty(): boolean {
    return this.#added.size + this.#removed.size + this.#updated.size === 0;
  }

  /** The folded change, leaving this empty for the next apply. */
  take(): FoldedChange {
    const change: FoldedChange = {
      added: [...this.#added.values()],
      removed: [...this.#removed.values()],
      updated: [...this.#updated.values()],
    };
    const first = earliest(this.#listenTs, this.#closeTs);
    if (first !== undefined) change.firstEventTs = first;
    if (this.#listenTs !== undefined) change.firstListenTs = this.#listenTs;
    if (this.#closeTs !== undefined) change.firstCloseTs = this.#closeTs;
    this.#added.clear();
    this.#removed.clear();
    this.#updated.clear();
    this.#listenTs = undefined;
    this.#closeTs = undefined;
    return change;
  }
}
