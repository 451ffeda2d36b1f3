/**
 * What a reload target's load balancer was last made to load: the sha256 of the dest content whose
 * reload succeeded, kept beside dest as `.NAME.lbwatch-applied`. It survives lbwatch restarts and
 * crashes, so a dest that was renamed but never reloaded (killed in between) is reloaded at start
 * instead of being taken for what runs.
 */
import { createHash } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { writeAtomic } from "./atomic-write.js";

export const contentHash = (text: string): string => createHash("sha256").update(text).digest("hex");

export class AppliedRecord {
  readonly #path: string;

  constructor(dest: string) {
    this.#path = join(dirname(dest), `.${basename(dest)}.lbwatch-applied`);
  }

  /** The hash of the content last reloaded, or undefined when unknown. */
  async read(): Promise<string | undefined> {
    const text = await readFile(this.#path, "utf8").catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      const parsed = JSON.parse(text) as { sha256?: unknown };
      return typeof parsed.sha256 === "string" ? parsed.sha256 : undefined;
    } catch {
      return undefined;
    }
  }

  async write(hash: string): Promise<void> {
    await writeAtomic(this.#path, `${JSON.stringify({ sha256: hash, at: new Date().toISOString() })}\n`);
  }

  async clear(): Promise<void> {
    await rm(this.#path, { force: true });
  }
}
