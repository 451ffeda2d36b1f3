/** A SourceSink that keeps what a source delivered: every call in order, and the claims they add up to. */
import { setTimeout as sleep } from "node:timers/promises";
import type { BackendClaim, ReplaceInfo, SourceSink } from "../../src/sources/source.js";

export type SinkCall =
  | { type: "replace"; info: ReplaceInfo; keys: string[] }
  | { type: "update"; upserts: string[]; removals: string[] };

export class RecordingSink implements SourceSink {
  readonly claims = new Map<string, BackendClaim>();
  readonly calls: SinkCall[] = [];

  replace(claims: Iterable<BackendClaim>, info: ReplaceInfo): void {
    this.claims.clear();
    for (const claim of claims) this.claims.set(claim.key, claim);
    this.calls.push({ type: "replace", info, keys: [...this.claims.keys()].sort() });
  }

  update(upserts: readonly BackendClaim[], removals: readonly string[]): void {
    for (const claim of upserts) this.claims.set(claim.key, claim);
    for (const key of removals) this.claims.delete(key);
    this.calls.push({ type: "update", upserts: upserts.map((c) => c.key), removals: [...removals] });
  }

  /** The delivered claims' keys, sorted. */
  keys(): string[] {
    return [...this.claims.keys()].sort();
  }

  /** Polls `done` until it holds; throws with `what` after `timeoutMs`. */
  async waitFor(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(10);
    }
  }
}
