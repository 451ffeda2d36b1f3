import { describe, expect, it } from "vitest";
import { LateObserver } from "../../src/cli/late-observer.js";
import type { Observer } from "../../src/controller/observer.js";

function recording(): { observer: Observer; calls: unknown[][] } {
  const calls: unknown[][] = [];
  const record =
    (name: string) =>
    (...args: unknown[]) =>
      calls.push([name, ...args]);
  const observer = {
    applied: record("applied"),
    templateError: record("templateError"),
    kernelEvent: record("kernelEvent"),
    eventsLost: record("eventsLost"),
    resynced: record("resynced"),
    configReloaded: record("configReloaded"),
  } as Observer;
  return { observer, calls };
}

describe("LateObserver", () => {
  it("drops calls until an observer is attached, then forwards every call with its arguments", () => {
    const late = new LateObserver();
    const { observer, calls } = recording();
    late.kernelEvent("listen");
    late.target = observer;
    late.kernelEvent("close");
    late.eventsLost("ring", 3);
    late.resynced("local", "timer", { listeners: 1, backends: 2 });
    late.configReloaded(true);
    late.templateError("t.hbs");
    expect(calls).toEqual([
      ["kernelEvent", "close"],
      ["eventsLost", "ring", 3],
      ["resynced", "local", "timer", { listeners: 1, backends: 2 }],
      ["configReloaded", true],
      ["templateError", "t.hbs"],
    ]);
  });
});
