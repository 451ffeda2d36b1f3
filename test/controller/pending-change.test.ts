import { describe, expect, it } from "vitest";
import { PendingChange } from "../../src/controller/pending-change.js";
import type { Backend } from "../../src/registry/backend.js";

const b = (id: string, pid = 1) => ({ id, pid }) as Backend;

describe("PendingChange", () => {
  it("folds several changes into one with the earliest kernel timestamp, then starts empty", () => {
    const pending = new PendingChange();
    expect(pending.add({ added: [b("x")], removed: [], firstEventTs: 30n })).toBe(true);
    expect(
      pending.add({ added: [b("y")], removed: [b("old")], updated: [b("kept", 7)], firstEventTs: 10n }),
    ).toBe(true);
    expect(pending.add({ added: [b("z")], removed: [] })).toBe(true);
    expect(pending.take()).toEqual({
      added: [b("x"), b("y"), b("z")],
      removed: [b("old")],
      updated: [b("kept", 7)],
      firstEventTs: 10n,
    });
    expect(pending.take()).toEqual({ added: [], removed: [], updated: [] });
  });

  it("nets out a backend that appears and disappears, or disappears and comes back, between renders", () => {
    const pending = new PendingChange();
    pending.add({ added: [b("brief")], removed: [b("restarted")], firstEventTs: 1n });
    pending.add({ added: [b("restarted")], removed: [b("brief")], firstEventTs: 2n });
    expect(pending.take()).toEqual({ added: [], removed: [], updated: [], firstEventTs: 1n });
  });

  it("keeps the latest fields of an added backend that was updated, and drops updates of a removed one", () => {
    const pending = new PendingChange();
    pending.add({ added: [b("new", 1)], removed: [], updated: [b("gone", 2)] });
    pending.add({ added: [], removed: [b("gone", 2)], updated: [b("new", 5)] });
    expect(pending.take()).toEqual({ added: [b("new", 5)], removed: [b("gone", 2)], updated: [] });
  });

  it("reports a change with nothing in it as nothing to render", () => {
    const pending = new PendingChange();
    expect(pending.add({ added: [], removed: [], updated: [], firstEventTs: 5n })).toBe(false);
    expect(pending.take()).toEqual({ added: [], removed: [], updated: [] });
  });
});
