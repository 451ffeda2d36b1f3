import { describe, expect, it } from "vitest";
import type { Backend } from "../../src/registry/backend.js";
import { PendingChange } from "../../src/targets/pending-change.js";

const b = (id: string, pid = 1) => ({ id, service: "web", pid }) as Backend;

describe("PendingChange", () => {
  it("folds several changes into one with the earliest kernel timestamp of listens and of closes", () => {
    const pending = new PendingChange();
    expect(pending.add({ added: [b("x")], removed: [], updated: [], firstEventTs: 30n })).toBe(true);
    expect(
      pending.add({ added: [b("y")], removed: [b("old")], updated: [b("kept", 7)], firstEventTs: 10n }),
    ).toBe(true);
    expect(pending.add({ added: [b("z")], removed: [], updated: [] })).toBe(true);
    expect(pending.add({ added: [], removed: [b("late")], updated: [], firstEventTs: 40n })).toBe(true);
    expect(pending.take()).toEqual({
      added: [b("x"), b("y"), b("z")],
      removed: [b("old"), b("late")],
      updated: [b("kept", 7)],
      firstEventTs: 10n,
      firstListenTs: 10n,
      firstCloseTs: 10n,
    });
    expect(pending.empty).toBe(true);
    expect(pending.take()).toEqual({ added: [], removed: [], updated: [] });
  });

  it("nets out a backend that appears and disappears, and keeps one that goes and comes back as an update", () => {
    const pending = new PendingChange();
    pending.add({ added: [b("brief")], removed: [b("restarted")], updated: [], firstEventTs: 1n });
    pending.add({ added: [b("restarted", 9)], removed: [b("brief")], updated: [], firstEventTs: 2n });
    expect(pending.take()).toEqual({
      added: [],
      removed: [],
      updated: [b("restarted", 9)],
      firstEventTs: 1n,
      firstListenTs: 1n,
      firstCloseTs: 1n,
    });
  });

  it("keeps the latest fields of an added backend that was updated, and drops updates of a removed one", () => {
    const pending = new PendingChange();
    pending.add({ added: [b("new", 1)], removed: [], updated: [b("gone", 2)] });
    pending.add({ added: [], removed: [b("gone", 2)], updated: [b("new", 5)] });
    expect(pending.take()).toEqual({ added: [b("new", 5)], removed: [b("gone", 2)], updated: [] });
  });

  it("reports a change with nothing in it as nothing to apply", () => {
    const pending = new PendingChange();
    expect(pending.add({ added: [], removed: [], updated: [], firstEventTs: 5n })).toBe(false);
    expect(pending.empty).toBe(true);
  });
});
