import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type DeleteOutcome, DrainQueue } from "../../../src/targets/haproxy/drain-queue.js";
import type { ServerRef } from "../../../src/targets/haproxy/runtime-commands.js";

const ref = (name: string): ServerRef => ({ backend: "be_web", name });

/** A queue whose deletions answer `answer(name)`, recording every batch it was asked for. */
function queue(answer: (name: string) => DeleteOutcome, limitMs = 10_000) {
  const batches: string[][] = [];
  const records: string[][] = [];
  const drains = new DrainQueue(
    async (due) => {
      const refs = due();
      batches.push(refs.map((r) => r.name));
      return refs.map((r) => answer(r.name));
    },
    pino({ level: "silent" }),
    (keys) => records.push([...keys()]),
    limitMs,
  );
  return { drains, batches, records };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe("DrainQueue", () => {
  it("deletes a server 500 ms after its maintenance, and forgets it once deleted", async () => {
    const { drains, batches, records } = queue(() => "deleted");
    drains.add("be_web/a", ref("a"));
    await vi.advanceTimersByTimeAsync(499);
    expect(batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(batches).toEqual([["a"]]);
    expect(drains.has("be_web/a")).toBe(false);
    expect(records.at(-1)).toEqual([]);
  });

  it("deletes under a stream of removals 100 ms apart, in rounds 500 ms apart, each server once its 500 ms passed", async () => {
    const { drains, batches } = queue(() => "deleted");
    const names = Array.from({ length: 10 }, (_, i) => `s${i}`);
    for (const name of names) {
      drains.add(`be_web/${name}`, ref(name));
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(batches).toEqual([["s0"], ["s1", "s2", "s3", "s4", "s5"]]);
    await vi.advanceTimersByTimeAsync(500);
    expect(batches.at(-1)).toEqual(["s6", "s7", "s8", "s9"]);
    expect(names.some((n) => drains.has(`be_web/${n}`))).toBe(false);
  });

  it("deletes the servers that became due while a slow round ran, in the next round", async () => {
    const sent: string[][] = [];
    const drains = new DrainQueue(
      async (due) => {
        const refs = due();
        sent.push(refs.map((r) => r.name));
        // HAProxy 2.6 takes seconds for thousands of deletions.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        return refs.map(() => "deleted");
      },
      pino({ level: "silent" }),
    );
    drains.add("be_web/a", ref("a"));
    await vi.advanceTimersByTimeAsync(600);
    drains.add("be_web/b", ref("b")); // due at 1,100, while the round of a runs until 1,500
    await vi.advanceTimersByTimeAsync(1500); // the next round: 500 ms after the last, at 2,000
    expect(sent).toEqual([["a"], ["b"]]);
    await vi.advanceTimersByTimeAsync(1000);
    expect([drains.has("be_web/a"), drains.has("be_web/b"), sent.length]).toEqual([false, false, 2]);
  });

  it("keeps a server it gave up deleting as its own maintenance, and stops trying", async () => {
    const { drains, batches } = queue(() => "busy", 3000);
    drains.add("be_web/a", ref("a"));
    await vi.advanceTimersByTimeAsync(10_000);
    const tries = batches.length;
    expect(tries).toBeGreaterThan(1);
    expect(drains.has("be_web/a")).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(batches.length).toBe(tries);
  });

  it("keeps a server whose deletion HAProxy refused, without asking again", async () => {
    const { drains, batches } = queue((name) => (name === "a" ? "refused" : "busy"));
    drains.add("be_web/a", ref("a"));
    drains.add("be_web/b", ref("b"));
    await vi.advanceTimersByTimeAsync(3000);
    expect(batches[0]).toEqual(["a", "b"]);
    expect(batches.slice(1).every((b) => b.join() === "b")).toBe(true);
    expect(drains.has("be_web/a")).toBe(true);
  });

  it("retains only what still runs in maintenance, and records the change", async () => {
    const { drains, records } = queue(() => "busy");
    for (const name of ["a", "b", "c"]) drains.add(`be_web/${name}`, ref(name));
    const before = records.length;
    drains.retain((key) => key === "be_web/b");
    expect(["a", "b", "c"].map((n) => drains.has(`be_web/${n}`))).toEqual([false, true, false]);
    expect(records.slice(before)).toEqual([["be_web/b"]]);
    drains.retain(() => true);
    expect(records.length).toBe(before + 1);
  });

  it("ignores the outcome of a round for a server taken out again meanwhile", async () => {
    let release: (o: DeleteOutcome[]) => void = () => {};
    const drains = new DrainQueue(
      (due) => {
        due();
        return new Promise<DeleteOutcome[]>((resolve) => (release = resolve));
      },
      pino({ level: "silent" }),
    );
    drains.add("be_web/a", ref("a"));
    await vi.advanceTimersByTimeAsync(500);
    // Desired again and removed again before HAProxy answered the first deletion.
    drains.delete("be_web/a");
    drains.add("be_web/a", ref("a"));
    release(["refused"]);
    await vi.advanceTimersByTimeAsync(0);
    expect(drains.has("be_web/a")).toBe(true);
  });

  it("asks what is due once the owner runs the round: a server re-enabled meanwhile is not deleted", async () => {
    // The owner's queue is busy (a live apply) when the round comes; it runs the round afterwards.
    let runRound: () => void = () => {};
    const sent: string[][] = [];
    const drains = new DrainQueue(
      (due) =>
        new Promise<DeleteOutcome[]>((resolve) => {
          runRound = () => {
            const refs = due();
            sent.push(refs.map((r) => r.name));
            resolve(refs.map(() => "deleted"));
          };
        }),
      pino({ level: "silent" }),
    );
    drains.add("be_web/a", ref("a"));
    drains.add("be_web/b", ref("b"));
    await vi.advanceTimersByTimeAsync(500);
    drains.delete("be_web/a"); // a is desired again: the apply re-enabled it
    await vi.advanceTimersByTimeAsync(300);
    drains.delete("be_web/b"); // b too, and taken out again 200 ms before the round's turn
    drains.add("be_web/b", ref("b"));
    runRound();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([[]]);
    expect(drains.has("be_web/b")).toBe(true);
    // b's own 500 ms pass: then it goes.
    await vi.advanceTimersByTimeAsync(500);
    runRound();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([[], ["b"]]);
    expect(drains.has("be_web/b")).toBe(false);
  });
});
