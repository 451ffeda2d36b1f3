/**
 * The servers lbwatch itself put in maintenance to delete them, kept beside dest as
 * `.NAME.lbwatch-draining`. HAProxy shows lbwatch's maintenance and an operator's as the same bit, so
 * without this a lbwatch killed between a server's maintenance and its deletion (500 ms and more)
 * leaves its successor taking that maintenance for the operator's, and the server out of rotation
 * when its backend comes back. Saves are coalesced (one write in flight, the newest set wins) and
 * never awaited by an apply: what must survive is lbwatch's death, not the machine's, whose HAProxy
 * would not keep the maintenance either.
 */
import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Logger } from "../../log.js";
import { writeAtomic } from "../atomic-write.js";

export class DrainRecord {
  readonly #path: string;
  readonly #log: Logger;
  /** The keys to write next, read only when written: a save per drained server costs O(1). */
  #next: (() => Iterable<string>) | undefined;
  #writing: Promise<void> | undefined;

  constructor(dest: string, log: Logger) {
    this.#path = join(dirname(dest), `.${basename(dest)}.lbwatch-draining`);
    this.#log = log;
  }

  /** Server keys (`backend/server`) a previous lbwatch was deleting; empty when none or unreadable. */
  async read(): Promise<Set<string>> {
    const text = await readFile(this.#path, "utf8").catch(() => undefined);
    try {
      const keys: unknown = text === undefined ? [] : JSON.parse(text);
      return new Set(Array.isArray(keys) ? keys.filter((k): k is string => typeof k === "string") : []);
    } catch {
      return new Set();
    }
  }

  save(current: () => Iterable<string>): void {
    this.#next = current;
    this.#writing ??= this.#drain().finally(() => {
      this.#writing = undefined;
    });
  }

  /** Resolves once the newest saved set is on disk (for close and tests). */
  async flushed(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #drain(): Promise<void> {
    while (this.#next) {
      const keys = [...this.#next()];
      this.#next = undefined;
      await writeAtomic(this.#path, `${JSON.stringify(keys)}\n`).catch((err: Error) =>
        this.#log.warn({ err: err.message, path: this.#path }, "could not record the servers being deleted"),
      );
    }
  }
}
