import { describe, expect, it } from "vitest";
import { OncePerSocket } from "../../src/registry/once-per-socket.js";

describe("OncePerSocket", () => {
  it("answers true once per socket while resyncs see it, and forgets a socket two resyncs did not see", () => {
    const once = new OncePerSocket();
    const first = [once.first(1), once.first(2), once.first(1)];
    once.nextGeneration();
    const afterResync = [once.first(1), once.first(3)];
    once.nextGeneration();
    once.nextGeneration();
    // Socket 2 was not seen again by the next two resyncs (it closed): forgotten, so bounded memory.
    expect([first, afterResync, [once.first(2)]]).toEqual([[true, true, false], [false, true], [true]]);
  });
});
